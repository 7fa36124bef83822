package sim

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
)

// countSink counts each outcome per message id (ids are small indexes).
type countSink struct {
	accepted, failed, receipts []atomic.Int32
	mo                         atomic.Int64
}

func newCountSink(n int) *countSink {
	return &countSink{accepted: make([]atomic.Int32, n), failed: make([]atomic.Int32, n), receipts: make([]atomic.Int32, n)}
}

func (s *countSink) Accepted(m *msg.Message, _ []byte)            { s.accepted[m.ID].Add(1) }
func (s *countSink) Failed(m *msg.Message, _ uint32, _ msg.State) { s.failed[m.ID].Add(1) }
func (s *countSink) Receipt(r *msg.Receipt) error {
	if !r.Intermediate {
		s.receipts[r.ID].Add(1)
	}
	return nil
}
func (s *countSink) MO(*msg.Inbound) error { s.mo.Add(1); return nil }
func (s *countSink) Sync() error           { return nil }

// TestProducers4 runs four producers against a small ring with the real
// clock: every message is accepted once and gets exactly one receipt.
func TestProducers4(t *testing.T) {
	const producers, each = 4, 20000
	const n = producers * each
	c, err := New("sim", Options{Queue: 64, ReceiptDelay: time.Millisecond, MaxPending: 512,
		Outcomes: [NumOutcomes]int{Delivered: 1, Rejected: 1}, MOEchoPrefixes: []string{"9"}, Intermediate: true})
	if err != nil {
		t.Fatal(err)
	}
	s := newCountSink(n)
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	stopRead := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() { // snapshots race with the worker's writes
		for {
			select {
			case <-stopRead:
				return
			default:
			}
			_ = c.Stats()
			_ = c.Counters()
			_ = c.Up()
			runtime.Gosched()
		}
	})
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				id := p*each + i
				dst := "1"
				if id%10 == 0 {
					dst = "9"
				}
				m := newMsg(msg.ID(id), "1", dst)
				m.RegisteredDelivery = 0x11
				for !c.Submit(m) {
					runtime.Gosched()
				}
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	close(stopRead)
	readers.Wait()
	for id := range n {
		if a, r, f := s.accepted[id].Load(), s.receipts[id].Load(), s.failed[id].Load(); a != 1 || r != 1 || f != 0 {
			t.Fatalf("id %d: accepted %d receipts %d failed %d", id, a, r, f)
		}
	}
	st, k := c.Stats(), c.Counters()
	if st.Accepted != n || st.Submitted != n || st.MO != n/10 || s.mo.Load() != n/10 || st.Receipts != 2*n || k.Intermediate != n {
		t.Errorf("stats %+v counters %+v", st, k)
	}
	if k.Outcomes[Delivered]+k.Outcomes[Rejected] != n || k.Full == 0 {
		t.Errorf("outcomes %v full %d (a 64-slot ring should have filled)", k.Outcomes, k.Full)
	}
}

// TestStopWhileSubmitting stops the simulator under four busy producers:
// every Submit that returned true is reported exactly once.
func TestStopWhileSubmitting(t *testing.T) {
	const producers, perProducer = 4, 50000
	c, err := New("sim", Options{Queue: 128, ReceiptDelay: ReceiptsAtOnce})
	if err != nil {
		t.Fatal(err)
	}
	s := newCountSink(producers * perProducer)
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	var taken atomic.Int64
	var started, wg sync.WaitGroup
	started.Add(producers)
	for p := range producers {
		wg.Go(func() {
			started.Done()
			for i := range perProducer {
				m := newMsg(msg.ID(p*perProducer+i), "1", "2")
				for !c.Submit(m) {
					if !c.Up() {
						m.Release()
						return
					}
					runtime.Gosched()
				}
				taken.Add(1)
			}
		})
	}
	started.Wait()
	waitFor(t, "some traffic", func() bool { return taken.Load() > 1000 })
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	wg.Wait()
	var reported int64
	for id := range s.accepted {
		a, f := s.accepted[id].Load(), s.failed[id].Load()
		if a+f > 1 {
			t.Fatalf("id %d reported %d times", id, a+f)
		}
		reported += int64(a + f)
	}
	if reported != taken.Load() {
		t.Errorf("reported %d, taken %d", reported, taken.Load())
	}
}
