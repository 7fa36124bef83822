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

// Producers that SubmitQuiet and Help (as event loops do) lose nothing:
// every message is accepted once and gets one receipt, whether a helper or
// the worker took it, and with or without receipts due before the worker's
// timer.
func TestHelpersLoseNothing(t *testing.T) {
	const producers, each = 4, 20000
	const n = producers * each
	c, err := New("sim", Options{Queue: 256, ReceiptDelay: 2 * time.Millisecond, MaxPending: 4096,
		MOEchoPrefixes: []string{"9"}})
	if err != nil {
		t.Fatal(err)
	}
	s := newCountSink(n)
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
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
				for !c.SubmitQuiet(m) {
					c.Help() // a full ring: help drain it
					runtime.Gosched()
				}
				if i%7 == 0 || i == each-1 { // a batch of a few, then its turn ends
					c.Help()
				}
			}
		})
	}
	wg.Wait()
	waitFor(t, "every receipt", func() bool { return c.Stats().Receipts == n })
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	for id := range n {
		if a, r, f := s.accepted[id].Load(), s.receipts[id].Load(), s.failed[id].Load(); a != 1 || r != 1 || f != 0 {
			t.Fatalf("id %d: accepted %d receipts %d failed %d", id, a, r, f)
		}
	}
	if st := c.Stats(); st.Accepted != n || st.MO != n/10 {
		t.Errorf("stats %+v", st)
	}
}

// goSink records which goroutine made each call: a helper's step runs on
// the helper's goroutine.
type goSink struct {
	nopSink
	accepted, receipts atomic.Int32
	onHelper           atomic.Bool
	helping            atomic.Bool
}

func (s *goSink) Accepted(*msg.Message, []byte) {
	s.accepted.Add(1)
	if s.helping.Load() {
		s.onHelper.Store(true)
	}
}

func (s *goSink) Receipt(*msg.Receipt) error { s.receipts.Add(1); return nil }

// An idle worker is helped on the caller's goroutine (the message is
// accepted before Help returns), and the receipt that step left pending
// still comes on time: Help woke the worker to set its timer.
func TestHelpStepsOnCallerAndWakesForTimer(t *testing.T) {
	c, err := New("sim", Options{ReceiptDelay: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := &goSink{}
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	for try := 0; ; try++ {
		before := s.accepted.Load()
		if !c.SubmitQuiet(newMsg(msg.ID(try), "1", "2")) {
			t.Fatal("SubmitQuiet refused")
		}
		s.helping.Store(true)
		c.Help()
		s.helping.Store(false)
		if s.onHelper.Load() {
			break
		}
		// The worker held its lock at that moment (it woke for something):
		// Help rang it instead. Try again; it is idle most of the time.
		waitFor(t, "the worker to take it", func() bool { return s.accepted.Load() > before })
		if try == 50 {
			t.Fatal("never helped on the caller in 50 tries")
		}
	}
	waitFor(t, "the receipts", func() bool { return s.receipts.Load() == s.accepted.Load() })
}

// Help after the simulator stopped does nothing (and does not panic).
func TestHelpAfterStop(t *testing.T) {
	c, err := New("sim", Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Help() // not started: no worker
	if err := c.Start(nopSink{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.SubmitQuiet(newMsg(1, "1", "2")) {
		t.Fatal("SubmitQuiet after Stop took a message")
	}
	c.Help()
}

// The driver honours a helper's budget: a burst of held messages that
// falls due together is released at most budget at a time (the Runtime
// wakes its worker for the rest).
func TestDueBoundsRelease(t *testing.T) {
	now := t0
	c, w, s := manual(t, Options{Latency: time.Millisecond, Queue: 4096, Clock: func() int64 { return now }})
	const n, budget = 1536, 512
	for i := range n {
		mustSubmit(t, c, newMsg(msg.ID(i), "1", "2"))
	}
	for c.Stats().Queued > c.Held() {
		w.step(now) // off the queue, held for Latency
	}
	if w.held() != n {
		t.Fatalf("%d held, want %d", w.held(), n)
	}
	now += int64(time.Millisecond) // every one due
	if left := c.w.Due(now, budget); left != 0 {
		t.Fatalf("Due left %d of its budget with %d due", left, n)
	}
	if got := s.count("accepted"); got != budget {
		t.Fatalf("a budget of %d accepted %d", budget, got)
	}
	w.step(now)
	if got := s.count("accepted"); got != n {
		t.Fatalf("%d accepted after a whole step, want %d", got, n)
	}
}

// QueueFull tells a full ring (wait for room) from a stopped simulator
// (answer at once).
func TestQueueFullOnlyWhileTaking(t *testing.T) {
	c, _, _ := manual(t, Options{Queue: 2})
	if c.QueueFull() {
		t.Fatal("empty ring reported full")
	}
	for i := range c.Cap() {
		mustSubmit(t, c, newMsg(msg.ID(i), "1", "2"))
	}
	if !c.QueueFull() {
		t.Fatal("full ring not reported")
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.QueueFull() {
		t.Fatal("a stopped simulator reported a full queue: sessions would wait for nothing")
	}
}
