package connectortest

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// testSubmit: every message submitted is accepted exactly once, and the
// counters and Up follow.
func testSubmit(t *testing.T, k Kind) {
	tg, s := start(t, k, Upstream{Queue: 64})
	c := tg.Conn
	eventually(t, "Up", c.Up)
	if c.Submit(nil) {
		t.Fatal("Submit(nil) = true")
	}
	const n = 200
	for i := range n {
		submit(t, c, newMsg(msg.ID(1+i)))
	}
	eventually(t, "every acceptance", func() bool { return s.reported(1, 1+n) == n })
	taken := make(map[msg.ID]bool, n)
	for i := range n {
		id := msg.ID(1 + i)
		taken[id] = true
		if o := s.of(id); o.accepted != 1 || o.upstream == "" {
			t.Fatalf("message %d: %+v, want accepted once with an upstream id", id, o)
		}
	}
	s.exactlyOnce(t, 1, 1+n, taken)
	eventually(t, "the counters", func() bool {
		st := c.Stats()
		return st.Accepted == n && st.Queued == 0
	})
}

// testFullQueue: an upstream that takes nothing fills the queue; Submit
// then refuses (the message stays the caller's) and QueueFull says so;
// Stop reports every message taken exactly once, as failed at shutdown.
func testFullQueue(t *testing.T, k Kind) {
	tg := k.New(t, "conf", Upstream{Queue: 16, Stall: true})
	c := tg.Conn
	s := NewSink()
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	taken := make(map[msg.ID]bool)
	const most = 1 << 16 // far more than any queue, hold and window of the case
	id := msg.ID(1)
	deadline := time.Now().Add(Wait)
	for ; id < most; id++ {
		m := newMsg(id)
		if c.Submit(m) {
			taken[id] = true
			continue
		}
		// Refused: full for good, or the worker has not yet moved what it
		// has room for off the queue. m is still ours.
		if c.QueueFull() && c.Stats().Queued == len(taken) {
			m.Release()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Submit refused %d messages in but the queue is not full", len(taken))
		}
		m.Release()
		id--
		time.Sleep(time.Millisecond)
	}
	if id == most || len(taken) < 16 {
		t.Fatalf("took %d messages: the queue never filled", len(taken))
	}
	if st := c.Stats(); st.Full == 0 {
		t.Errorf("Stats.Full %d after a refusal", st.Full)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Stop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop: %v", err)
	}
	s.exactlyOnce(t, 1, id+1, taken)
	for tid := range taken {
		if o := s.of(tid); o.failed != 1 || o.state != msg.StateUnknown || o.status != connector.StatusShutdown {
			t.Fatalf("message %d: %+v, want failed at shutdown", tid, o)
		}
	}
	if c.QueueFull() || c.Up() {
		t.Fatal("a stopped connector reports a full queue or Up: sessions would wait for nothing")
	}
	if st := c.Stats(); st.Queued != 0 || st.Shutdown != uint64(len(taken)) {
		t.Fatalf("stats after Stop: %+v, want nothing queued and %d shut down", st, len(taken))
	}
}

// testStopWhileSubmitting: producers keep submitting while Stop runs;
// every message Submit took is reported exactly once, the others are not
// reported at all, and after Stop Submit refuses.
func testStopWhileSubmitting(t *testing.T, k Kind) {
	tg := k.New(t, "conf", Upstream{Queue: 256})
	c := tg.Conn
	s := NewSink()
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Up", c.Up)
	const producers, each = 4, 5000
	var mu sync.Mutex
	taken := make(map[msg.ID]bool)
	var wg sync.WaitGroup
	var sent atomic.Int64
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				id := msg.ID(1 + p*each + i)
				m := newMsg(id)
				if !c.Submit(m) {
					m.Release() // refused: still ours
					runtime.Gosched()
					continue
				}
				sent.Add(1)
				mu.Lock()
				taken[id] = true
				mu.Unlock()
			}
		})
	}
	eventually(t, "some traffic", func() bool { return sent.Load() > 100 })
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	wg.Wait()
	late := newMsg(msg.ID(1 + producers*each))
	if c.Submit(late) || c.SubmitQuiet(late) {
		t.Fatal("Submit after Stop took a message")
	}
	late.Release()
	s.exactlyOnce(t, 1, msg.ID(1+producers*each), taken)
	if err := c.Start(s); !errors.Is(err, connector.ErrStopped) {
		t.Fatalf("Start after Stop: %v, want connector.ErrStopped", err)
	}
}

// testDrain: Stop hands what is queued upstream before it returns; with
// time enough nothing fails.
func testDrain(t *testing.T, k Kind) {
	tg := k.New(t, "conf", Upstream{Queue: 64, Delay: 5 * time.Millisecond})
	c := tg.Conn
	s := NewSink()
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Up", c.Up)
	const n = 40
	taken := make(map[msg.ID]bool, n)
	for i := range n {
		id := msg.ID(1 + i)
		submit(t, c, newMsg(id))
		taken[id] = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	s.exactlyOnce(t, 1, 1+n, taken)
	for id := range taken {
		if o := s.of(id); o.accepted != 1 {
			t.Fatalf("message %d: %+v, want accepted during the drain", id, o)
		}
	}
}

// testRestart: a Restartable stops for an operator (Up false, Submit
// refused), starts a fresh instance, and takes messages again.
func testRestart(t *testing.T, k Kind) {
	builds := 0
	r := connector.NewRestartable(k.Name, k.New(t, "conf", Upstream{Queue: 32}).Conn, func() (connector.Connector, error) {
		builds++
		return k.New(t, "conf", Upstream{Queue: 32}).Conn, nil
	})
	s := NewSink()
	if err := r.Resume(); !errors.Is(err, connector.ErrRunning) {
		t.Fatalf("Resume of a running connector: %v", err)
	}
	if err := r.Start(s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	eventually(t, "Up", r.Up)
	submit(t, r, newMsg(1))
	eventually(t, "the first acceptance", func() bool { return s.of(1).accepted == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	if err := r.Halt(ctx); err != nil {
		t.Fatalf("Halt: %v", err)
	}
	if err := r.Halt(ctx); !errors.Is(err, connector.ErrStopped) {
		t.Fatalf("second Halt: %v, want connector.ErrStopped", err)
	}
	m := newMsg(2)
	if r.Up() || r.Submit(m) || r.QueueFull() || !r.Halted() {
		t.Fatal("a halted connector is Up, takes messages or reports a full queue")
	}
	m.Release()
	if err := r.Resume(); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if builds != 1 {
		t.Fatalf("Resume built %d instances, want 1", builds)
	}
	eventually(t, "Up after Resume", r.Up)
	submit(t, r, newMsg(3))
	eventually(t, "an acceptance after Resume", func() bool { return s.of(3).accepted == 1 })
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := r.Resume(); !errors.Is(err, connector.ErrShutdown) {
		t.Fatalf("Resume after Stop: %v, want connector.ErrShutdown", err)
	}
}

// testCancelReplace: a kind that declares Cancel or Replace forwards the
// request and reports the upstream's answer through done, once; one that
// does not refuses at once and never calls done.
func testCancelReplace(t *testing.T, k Kind) {
	tg, s := start(t, k, Upstream{Queue: 16})
	c := tg.Conn
	eventually(t, "Up", c.Up)
	submit(t, c, newMsg(1))
	eventually(t, "the acceptance", func() bool { return s.of(1).accepted == 1 })
	up := []byte(s.of(1).upstream)
	caps := c.Caps()
	type answer struct {
		st  codec.Status
		err error
	}
	ask := func(what string, declared bool, forward func(done connector.UpstreamDone) bool) {
		t.Helper()
		answers := make(chan answer, 2)
		done := func(st codec.Status, err error) { answers <- answer{st, err} }
		took := forward(done)
		if !declared {
			if took {
				t.Fatalf("%s taken by a connector that does not declare it", what)
			}
			return
		}
		if !took {
			t.Fatalf("%s refused by a connector that declares it, bound upstream", what)
		}
		select {
		case a := <-answers:
			if a.err != nil || a.st != codec.StatusOK {
				t.Fatalf("%s: upstream answer %v, %v; want ESME_ROK", what, a.st, a.err)
			}
		case <-time.After(Wait):
			t.Fatalf("%s: no answer", what)
		}
		select {
		case a := <-answers:
			t.Fatalf("%s: done called twice (%v, %v)", what, a.st, a.err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	ask("cancel_sm", caps.Cancel, func(done connector.UpstreamDone) bool {
		return c.CancelUpstream(1, &codec.CancelSM{MessageID: up, SourceAddrTON: 1, SourceAddrNPI: 1,
			SourceAddr: []byte("4911000"), DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: []byte("4922000")}, done)
	})
	ask("replace_sm", caps.Replace, func(done connector.UpstreamDone) bool {
		return c.ReplaceUpstream(1, &codec.ReplaceSM{MessageID: up, SourceAddrTON: 1, SourceAddrNPI: 1,
			SourceAddr: []byte("4911000"), ShortMessage: []byte("replaced")}, done)
	})
}

// testReceipts: a receipt the upstream reports reaches the Sink under our
// id, after the acceptance.
func testReceipts(t *testing.T, k Kind) {
	tg, s := start(t, k, Upstream{Queue: 16, Receipts: true})
	c := tg.Conn
	eventually(t, "Up", c.Up)
	const n = 20
	for i := range n {
		submit(t, c, newMsg(msg.ID(1+i)))
	}
	for i := range n {
		id := msg.ID(1 + i)
		eventually(t, "a receipt", func() bool { return len(s.of(id).receipts) > 0 })
		o := s.of(id)
		r := o.receipts[len(o.receipts)-1]
		if o.accepted != 1 || r.ID != id || r.State != msg.StateDelivered || r.Intermediate {
			t.Fatalf("message %d: %+v, last receipt %+v; want accepted and DELIVERED", id, o, r)
		}
	}
	eventually(t, "the receipt counter", func() bool { return c.Stats().Receipts >= n })
}

// testMO: an MO the upstream delivers reaches the Sink with its addresses
// and the connector's name.
func testMO(t *testing.T, k Kind) {
	tg, s := start(t, k, Upstream{Queue: 16})
	if tg.MO == nil {
		t.Skipf("%s receives no MO", k.Name)
	}
	c := tg.Conn
	eventually(t, "Up", c.Up)
	src, dst := tg.MO(t, c)
	eventually(t, "the MO", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, m := range s.mos {
			if m.src == src && m.dst == dst {
				if m.connector != c.Name() {
					t.Fatalf("MO from connector %q, want %q", m.connector, c.Name())
				}
				return true
			}
		}
		return false
	})
	if c.Stats().MO == 0 {
		t.Fatal("Stats.MO is 0 after an MO")
	}
}

// testHelped: a kind that declares Helped loses nothing when producers
// SubmitQuiet and Help as event loops do; for the others SubmitQuiet is
// Submit and Help does nothing harmful.
func testHelped(t *testing.T, k Kind) {
	tg, s := start(t, k, Upstream{Queue: 64})
	c := tg.Conn
	eventually(t, "Up", c.Up)
	const producers, each = 2, 2000
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				m := newMsg(msg.ID(1 + p*each + i))
				for !c.SubmitQuiet(m) {
					c.Help() // a full queue: help drain it
					runtime.Gosched()
				}
				if i%5 == 0 || i == each-1 { // a batch of a few, then the turn ends
					c.Help()
				}
			}
		})
	}
	wg.Wait()
	const n = producers * each
	eventually(t, "every acceptance", func() bool { return s.reported(1, 1+n) == n })
	taken := make(map[msg.ID]bool, n)
	for i := range n {
		taken[msg.ID(1+i)] = true
	}
	s.exactlyOnce(t, 1, 1+n, taken)
}
