package flow

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
)

// The FIFO keeps each producer's entries in its order, every entry once,
// with producers pushing concurrently and one consumer popping batches;
// a submit_multi's entries stay together.
func TestAckFIFOConcurrent(t *testing.T) {
	const producers, each = 4, 20_000
	var q ackFIFO
	q.init(1024)
	var room atomic.Int64 // what acks.reserve bounds
	room.Store(1024)
	var wg sync.WaitGroup
	hands := []*msg.Message{new(msg.Message), new(msg.Message)}
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := int64(1)
				var hs []*msg.Message
				if i%7 == 0 {
					n, hs = 2, hands
				}
				for room.Add(-n) < 0 {
					room.Add(n)
					runtime.Gosched()
				}
				q.pushAnswer(engine.SubmitToken{}, msg.ID(uint64(p)<<32|uint64(i)|1<<40), uint64(i), hs)
			}
		}()
	}
	next := make([]int, producers)
	got := make([]pendingAck, 0, 64)
	var multi msg.ID // the answer whose further destination must come next
	for total := 0; total < producers*each; {
		got = q.popBatch(got[:0])
		if len(got) == 0 {
			runtime.Gosched()
			continue
		}
		for _, e := range got {
			room.Add(1)
			if multi != 0 {
				if e.ans || e.id != multi {
					t.Fatalf("a submit_multi's destination separated from its answer")
				}
				multi = 0
				continue
			}
			if !e.ans {
				t.Fatalf("a further destination without its answer before it")
			}
			p, i := int(e.id>>32&0xff), int(e.id&0xffffffff)
			if i != next[p] {
				t.Fatalf("producer %d: entry %d, want %d", p, i, next[p])
			}
			next[p]++
			total++
			if i%7 == 0 {
				multi = e.id
			}
		}
	}
	wg.Wait()
}

// BenchmarkAckFIFO is the event loops' push (RunParallel) against one
// consumer popping batches, as the commit does.
func BenchmarkAckFIFO(b *testing.B) {
	var q ackFIFO
	q.init(DefaultMaxDeferred)
	var room atomic.Int64
	room.Store(DefaultMaxDeferred)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		got := make([]pendingAck, 0, ackBatch)
		for {
			got = q.popBatch(got[:0])
			room.Add(int64(len(got)))
			if len(got) == 0 {
				select {
				case <-stop:
					return
				default:
					runtime.Gosched()
				}
			}
		}
	}()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for room.Add(-1) < 0 {
				room.Add(1)
				runtime.Gosched()
			}
			q.pushAnswer(engine.SubmitToken{}, 1, 1, nil)
		}
	})
	close(stop)
	<-done
}

// The ring is only as large as answers have waited at once (doubling from
// ackFIFOFirst), and keeps their order when it grows with its entries
// wrapped round its end.
func TestAckFIFOGrowsFromItsFirstSlots(t *testing.T) {
	var q ackFIFO
	q.init(DefaultMaxDeferred)
	next, want, deepest := uint64(0), uint64(0), 0
	got := make([]pendingAck, 0, 700)
	pop := func() {
		got = q.popBatch(got[:0])
		for _, e := range got {
			if e.pos != want {
				t.Fatalf("popped %d, want %d", e.pos, want)
			}
			want++
		}
	}
	push := func(n int) {
		for range n {
			q.pushAnswer(engine.SubmitToken{}, 1, next, nil)
			next++
		}
		deepest = max(deepest, q.size)
	}
	for range 1000 { // 100,000 answers, at most 200 waiting
		push(100)
		if q.size > 100 {
			pop()
		}
	}
	pop()
	if len(q.buf) != ackFIFOFirst {
		t.Fatalf("%d slots after answers at most 200 deep, want %d", len(q.buf), ackFIFOFirst)
	}
	for depth := 1500; depth <= 5000; depth += 3500 { // wrap, then grow while wrapped
		push(depth)
		pop()
		push(depth)
	}
	for q.size > 0 {
		pop()
	}
	if want != next {
		t.Fatalf("popped %d of %d", want, next)
	}
	if deepest <= 8192 || len(q.buf) != 16384 {
		t.Fatalf("%d slots after answers at most %d deep, want 16384", len(q.buf), deepest)
	}
	for i, e := range q.buf {
		if e != (pendingAck{}) {
			t.Fatalf("slot %d not cleared", i)
		}
	}
}
