package ring

import (
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// Hand-off benchmarks, side by side: our MPSC, woken
// through a Notify, against a buffered channel and an ipqueue-style
// mutex+slice queue with a one-slot doorbell channel. ns/op is per message
// handed over. All queues hold 1024 pointers; the consumer takes up to 64 per
// batch.

const (
	benchCap   = 1024
	benchBatch = 64 // consumer batch
	benchPush  = 16 // producer batch
)

type benchMsg struct {
	seq uint64
	_   [56]byte
}

var benchSink uint64

// benchQueue is the harness's view of a queue; the dynamic call costs every
// implementation the same.
type benchQueue interface {
	push(v *benchMsg) bool
	pushBatch(vs []*benchMsg) int
	// take blocks until a value is there and returns one value (batch false)
	// or up to benchBatch values; the slice is valid until the next take.
	take(batch bool) []*benchMsg
}

// --- MPSC ---

type mpscQ struct {
	r   *MPSC[*benchMsg]
	n   *Notify
	buf []*benchMsg
}

func newMPSCQ() benchQueue {
	r, _ := NewMPSC[*benchMsg](benchCap)
	return &mpscQ{r: r, n: NewNotify(), buf: make([]*benchMsg, 0, benchBatch)}
}

func (q *mpscQ) push(v *benchMsg) bool {
	if !q.r.TryPush(v) {
		return false
	}
	q.n.Ring()
	return true
}

func (q *mpscQ) pushBatch(vs []*benchMsg) int {
	k := q.r.TryPushBatch(vs)
	if k > 0 {
		q.n.Ring()
	}
	return k
}

func (q *mpscQ) take(batch bool) []*benchMsg {
	for {
		if batch {
			if q.buf = q.r.PopBatch(q.buf[:0]); len(q.buf) > 0 {
				return q.buf
			}
		} else if v, ok := q.r.TryPop(); ok {
			return append(q.buf[:0], v)
		}
		q.n.Wait(nil)
	}
}

// --- buffered channel ---

type chanQ struct {
	c   chan *benchMsg
	buf []*benchMsg
}

func newChanQ() benchQueue {
	return &chanQ{c: make(chan *benchMsg, benchCap), buf: make([]*benchMsg, 0, benchBatch)}
}

func (q *chanQ) push(v *benchMsg) bool {
	select {
	case q.c <- v:
		return true
	default:
		return false
	}
}

func (q *chanQ) pushBatch(vs []*benchMsg) int {
	for i, v := range vs {
		select {
		case q.c <- v:
		default:
			return i
		}
	}
	return len(vs)
}

func (q *chanQ) take(batch bool) []*benchMsg {
	q.buf = append(q.buf[:0], <-q.c)
	for batch && len(q.buf) < cap(q.buf) {
		select {
		case v := <-q.c:
			q.buf = append(q.buf, v)
		default:
			return q.buf
		}
	}
	return q.buf
}

// --- ipqueue style: mutex + slice + one-slot doorbell, batch pop swaps slices ---

type ipQ struct {
	mu    sync.Mutex
	s     []*benchMsg // s[head:] are queued
	head  int
	spare []*benchMsg // the consumer's last batch, recycled on the next pop
	limit int
	ch    chan struct{}
	one   []*benchMsg
}

func newIPQ() benchQueue {
	return &ipQ{
		s:     make([]*benchMsg, 0, benchCap),
		spare: make([]*benchMsg, 0, benchCap),
		limit: benchCap,
		ch:    make(chan struct{}, 1),
		one:   make([]*benchMsg, 1),
	}
}

// room makes space for k more values (compacting after single pops) and
// reports how many fit; mu held.
func (q *ipQ) room(k int) int {
	free := q.limit - (len(q.s) - q.head)
	if len(q.s)+min(k, free) > cap(q.s) {
		n := copy(q.s, q.s[q.head:])
		q.s, q.head = q.s[:n], 0
	}
	return min(k, free)
}

func (q *ipQ) signal(wasEmpty bool) {
	if wasEmpty {
		select {
		case q.ch <- struct{}{}:
		default:
		}
	}
}

func (q *ipQ) push(v *benchMsg) bool {
	q.mu.Lock()
	if q.room(1) == 0 {
		q.mu.Unlock()
		return false
	}
	wasEmpty := len(q.s) == q.head
	q.s = append(q.s, v)
	q.mu.Unlock()
	q.signal(wasEmpty)
	return true
}

func (q *ipQ) pushBatch(vs []*benchMsg) int {
	q.mu.Lock()
	k := q.room(len(vs))
	wasEmpty := len(q.s) == q.head
	q.s = append(q.s, vs[:k]...)
	q.mu.Unlock()
	q.signal(wasEmpty && k > 0)
	return k
}

func (q *ipQ) take(batch bool) []*benchMsg {
	for {
		q.mu.Lock()
		if n := len(q.s) - q.head; n > 0 {
			if !batch {
				q.one[0] = q.s[q.head]
				q.s[q.head] = nil
				q.head++
				if q.head == len(q.s) {
					q.s, q.head = q.s[:0], 0
				}
				q.mu.Unlock()
				return q.one
			}
			out := q.s[q.head:]
			q.s, q.spare, q.head = q.spare[:0], q.s, 0
			q.mu.Unlock()
			return out
		}
		q.mu.Unlock()
		<-q.ch
	}
}

// --- harness ---

var benchImpls = []struct {
	name string
	mk   func() benchQueue
}{
	{"mpsc", newMPSCQ},
	{"chan", newChanQ},
	{"ipqueue", newIPQ},
}

func BenchmarkHandoff(b *testing.B) {
	for _, producers := range []int{1, 4} {
		for _, batch := range []bool{false, true} {
			mode := "single"
			if batch {
				mode = "batch"
			}
			for _, impl := range benchImpls {
				name := "prod=" + strconv.Itoa(producers) + "/mode=" + mode + "/impl=" + impl.name
				b.Run(name, func(b *testing.B) {
					runHandoff(b, impl.mk(), producers, batch)
				})
			}
		}
	}
}

func runHandoff(b *testing.B, q benchQueue, producers int, batch bool) {
	msgs := make([]*benchMsg, benchCap)
	for i := range msgs {
		msgs[i] = &benchMsg{seq: uint64(i)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for p := range producers {
		share := b.N / producers
		if p == 0 {
			share += b.N % producers
		}
		wg.Go(func() {
			var out [benchPush]*benchMsg
			for i := 0; i < share; {
				if batch {
					k := min(benchPush, share-i)
					for j := range k {
						out[j] = msgs[(i+j)%benchCap]
					}
					sent := q.pushBatch(out[:k])
					i += sent
					if sent == 0 {
						runtime.Gosched()
					}
				} else if q.push(msgs[i%benchCap]) {
					i++
				} else {
					runtime.Gosched() // full
				}
			}
		})
	}
	var sum uint64
	for got := 0; got < b.N; {
		vs := q.take(batch)
		for _, v := range vs {
			sum += v.seq
		}
		got += len(vs)
	}
	wg.Wait()
	benchSink += sum
}

// BenchmarkPushPop is the uncontended cost on one goroutine: push then pop,
// one value or a batch of benchPush per iteration (ns/op is per value).
func BenchmarkPushPop(b *testing.B) {
	for _, batch := range []bool{false, true} {
		mode := "single"
		if batch {
			mode = "batch"
		}
		for _, impl := range benchImpls {
			b.Run("mode="+mode+"/impl="+impl.name, func(b *testing.B) {
				q := impl.mk()
				v := &benchMsg{seq: 1}
				var in [benchPush]*benchMsg
				for i := range in {
					in[i] = v
				}
				var sum uint64
				b.ReportAllocs()
				if !batch {
					for b.Loop() {
						q.push(v)
						sum += q.take(false)[0].seq
					}
				} else {
					n := 0
					for b.Loop() {
						if n%benchPush == 0 {
							q.pushBatch(in[:])
						}
						n++
						if n%benchPush == 0 {
							for got := 0; got < benchPush; {
								vs := q.take(true)
								got += len(vs)
								sum += uint64(len(vs))
							}
						}
					}
					for got := n % benchPush; got > 0; { // drain a partial last batch
						got -= len(q.take(true))
					}
				}
				benchSink += sum
			})
		}
	}
}
