package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/smppd/smppd/msg"
)

// The receipt FIFO's memory per pending message is its entry size.
func TestPendingEntrySize(t *testing.T) {
	if n := unsafe.Sizeof(pending{}); n != 24 {
		t.Errorf("pending entry is %d bytes, want 24", n)
	}
}

func TestFIFO(t *testing.T) {
	q := newFIFO[int](100, 4)
	next, want := 0, 0
	// Interleave pushes and pops so the head wraps before each growth.
	for round := range 40 {
		for range round % 7 {
			if !q.push(next) {
				t.Fatalf("push %d refused at len %d", next, q.len())
			}
			next++
		}
		for range round % 3 {
			if q.len() == 0 {
				break
			}
			if f := *q.front(); f != want {
				t.Fatalf("front %d, want %d", f, want)
			}
			if v := q.pop(); v != want {
				t.Fatalf("pop %d, want %d", v, want)
			}
			want++
		}
	}
	for !q.full() {
		q.push(next)
		next++
	}
	if q.len() != 100 || q.push(next) {
		t.Fatalf("len %d at the limit of 100, or a push past it accepted", q.len())
	}
	for q.len() > 0 {
		if v := q.pop(); v != want {
			t.Fatalf("drain pop %d, want %d", v, want)
		}
		want++
	}
}

func TestSchedHeap(t *testing.T) {
	var h schedHeap
	r := rand.New(rand.NewPCG(1, 2))
	var keys []int64
	for i := range 500 {
		k := r.Int64N(1000)
		keys = append(keys, k)
		h.push(waiting{key: k, at: int64(i)})
		if i%5 == 4 { // pop some on the way
			got := h.pop().key
			slices.Sort(keys)
			if got != keys[0] {
				t.Fatalf("pop %d, want min %d", got, keys[0])
			}
			keys = keys[1:]
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if got := h.pop().key; got != k {
			t.Fatalf("pop %d, want %d", got, k)
		}
	}
	if h.len() != 0 {
		t.Fatalf("len %d after draining", h.len())
	}
}

// Scheduled messages are accepted in schedule order, whatever the order
// they were submitted in.
func TestScheduleOrder(t *testing.T) {
	c, w, s := manual(t, Options{ReceiptDelay: ReceiptsAtOnce})
	r := rand.New(rand.NewPCG(3, 4))
	const n = 300
	for i := range n {
		m := newMsg(msg.ID(i), "1", "2")
		m.Schedule = t0 + (1+r.Int64N(1000))*int64(time.Second)
		mustSubmit(t, c, m)
	}
	w.step(t0)
	var last int64
	for sec := int64(1); sec <= 1000; sec++ {
		w.step(t0 + sec*int64(time.Second))
		for _, e := range s.take() {
			if e.kind != "receipt" {
				continue
			}
			if e.rcpt.Done < last || e.rcpt.Done != t0+sec*int64(time.Second) {
				t.Fatalf("accepted at %d after %d (step %d)", e.rcpt.Done, last, sec)
			}
			last = e.rcpt.Done
		}
	}
	if st := c.Stats(); st.Accepted != n || st.Queued != 0 {
		t.Errorf("stats %+v", st)
	}
}
