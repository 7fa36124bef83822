package connector_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/connectortest"
	"github.com/smppd/smppd/msg"
)

// instant is the smallest kind: it accepts every message at once, and can
// stall (take nothing) or hold each message for a while. It is what a new
// kind starts from: BuiltinDriver plus Send.
type instant struct {
	connector.BuiltinDriver
	rt       *connector.Runtime
	stall    bool
	receipts bool  // a DELIVERED receipt at acceptance, when asked for
	inStep   bool  // accepts with AcceptInStep (it always reports from Send or Due)
	delay    int64 // ns a message is held before its acceptance
	held     []heldMsg
	id       []byte
	helper   atomic.Uint64 // goroutine whose accepts helped counts (0: none)
	helped   int
}

type heldMsg struct {
	m   *msg.Message
	due int64
}

func (d *instant) Send(batch []*msg.Message, now int64) {
	for _, m := range batch {
		if !m.Claim() {
			d.rt.Fail(m, 0, msg.StateDeleted)
			continue
		}
		d.held = append(d.held, heldMsg{m, now + d.delay})
	}
	if d.delay == 0 {
		d.Due(now, -1)
	}
}

func (d *instant) Room() int {
	if d.stall {
		return 4 - len(d.held)
	}
	return 256
}

func (d *instant) Due(now int64, budget int) int {
	if d.stall {
		return budget
	}
	n := 0
	for ; n < len(d.held) && budget != 0 && d.held[n].due <= now; n, budget = n+1, budget-1 {
		m := d.held[n].m
		id, want := m.ID, m.RegisteredDelivery&1 != 0
		d.id = id.AppendHex(d.id[:0])
		if h := d.helper.Load(); h != 0 && goid() == h {
			d.helped++
		}
		if d.inStep {
			d.rt.AcceptInStep(m, d.id)
		} else {
			d.rt.Accept(m, d.id)
		}
		if d.receipts && want {
			rc := &msg.Receipt{ID: id, State: msg.StateDelivered, Done: now}
			if d.inStep {
				d.rt.ReceiptInStep(rc)
			} else {
				d.rt.Receipt(rc)
			}
		}
	}
	d.held = append(d.held[:0], d.held[n:]...)
	return budget
}

func (d *instant) Next() (int64, bool) {
	if d.stall || len(d.held) == 0 {
		return 0, false
	}
	return d.held[0].due, true
}

func (d *instant) Close(now int64) {
	for _, h := range d.held {
		d.rt.Abandon(h.m, now)
	}
	d.held = d.held[:0]
}

func newInstant(t testing.TB, o connector.Options, stall bool, delay time.Duration) *connector.Runtime {
	return newInstantDriver(t, o, &instant{stall: stall, delay: int64(delay)})
}

func newInstantDriver(t testing.TB, o connector.Options, d *instant) *connector.Runtime {
	rt, err := connector.New(o, d)
	if err != nil {
		t.Fatal(err)
	}
	d.rt = rt
	return rt
}

// The runtime with the smallest driver passes the conformance suite: the
// queue, the gate, the drain and the shutdown are the Runtime's.
func TestConformance(t *testing.T) {
	connectortest.Run(t, connectortest.Kind{Name: "instant", New: func(t *testing.T, name string, u connectortest.Upstream) connectortest.Target {
		d := &instant{stall: u.Stall, receipts: u.Receipts, delay: int64(u.Delay)}
		return connectortest.Target{Conn: newInstantDriver(t, connector.Options{Name: name, Queue: u.Queue,
			Caps: connector.Caps{Helped: true}}, d)}
	}})
}

func TestOptions(t *testing.T) {
	d := &instant{}
	for _, o := range []connector.Options{{}, {Name: "x", Queue: -1}, {Name: "x", Queue: 1<<30 + 1}} {
		if _, err := connector.New(o, d); !errors.Is(err, connector.ErrOptions) {
			t.Errorf("New(%+v): %v, want ErrOptions", o, err)
		}
	}
	if _, err := connector.New(connector.Options{Name: "x"}, nil); !errors.Is(err, connector.ErrOptions) {
		t.Errorf("New without a driver: %v", err)
	}
	rt := newInstant(t, connector.Options{Name: "x"}, false, 0)
	if rt.Cap() != connector.DefaultQueue || rt.Name() != "x" || rt.Caps() != (connector.Caps{}) {
		t.Errorf("defaults: cap %d name %q caps %+v", rt.Cap(), rt.Name(), rt.Caps())
	}
	if err := rt.Start(nil); !errors.Is(err, connector.ErrNilSink) {
		t.Errorf("Start(nil): %v", err)
	}
	s := connectortest.NewSink()
	if err := rt.Start(s); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(s); !errors.Is(err, connector.ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	if err := rt.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// recSink records the order of calls.
type recSink struct {
	mu     sync.Mutex
	events []string
	states []msg.State
}

func (s *recSink) add(e string, st msg.State) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.states = append(s.states, st)
	s.mu.Unlock()
}

func (s *recSink) Accepted(*msg.Message, []byte)                 { s.add("accepted", 0) }
func (s *recSink) Failed(_ *msg.Message, _ uint32, st msg.State) { s.add("failed", st) }
func (s *recSink) Receipt(*msg.Receipt) error                    { s.add("receipt", 0); return nil }
func (s *recSink) MO(*msg.Inbound) error                         { s.add("mo", 0); return nil }
func (s *recSink) Sync() error                                   { return nil }

// AcceptInStep and ReceiptInStep count like Accept and Receipt: in
// Stats.Accepted and Stats.Receipts, and what was accepted is no longer
// held (queued), in a manual step and under the conformance suite's worker
// and helpers.
func TestAcceptInStep(t *testing.T) {
	rt := newInstantDriver(t, connector.Options{Name: "x", Queue: 8, Manual: true}, &instant{inStep: true, receipts: true})
	s := &recSink{}
	if err := rt.Start(s); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		m := msg.NewMessage()
		m.RegisteredDelivery = byte(i % 2) // the second asks for a receipt
		if !rt.Submit(m) {
			t.Fatal("Submit refused")
		}
	}
	if st := rt.Stats(); st.Queued != 3 || st.Accepted != 0 {
		t.Fatalf("before the step: stats %+v", st)
	}
	rt.Step(rt.Now())
	if st := rt.Stats(); st.Accepted != 3 || st.Receipts != 1 || st.Submitted != 3 || st.Queued != 0 || len(s.events) != 4 {
		t.Fatalf("after the step: stats %+v, sink %v", st, s.events)
	}
	connectortest.Run(t, connectortest.Kind{Name: "instant-in-step", New: func(t *testing.T, name string, u connectortest.Upstream) connectortest.Target {
		d := &instant{stall: u.Stall, receipts: u.Receipts, delay: int64(u.Delay), inStep: true}
		return connectortest.Target{Conn: newInstantDriver(t, connector.Options{Name: name, Queue: u.Queue,
			Caps: connector.Caps{Helped: true}}, d)}
	}})
}

// Abandon's rule, the same for every kind: cancelled → DELETED, validity
// over → EXPIRED, else UNKNOWN with StatusShutdown.
func TestAbandonRule(t *testing.T) {
	const now = int64(1_000_000)
	rt := newInstant(t, connector.Options{Name: "x", Queue: 8, Manual: true, Clock: func() int64 { return now }}, true, 0)
	s := &recSink{}
	if err := rt.Start(s); err != nil {
		t.Fatal(err)
	}
	cancelled, expired, live := msg.NewMessage(), msg.NewMessage(), msg.NewMessage()
	expired.Expires = now
	live.Expires = now + 1
	for _, m := range []*msg.Message{cancelled, expired, live} {
		if !rt.Submit(m) {
			t.Fatal("Submit refused")
		}
	}
	cancelled.Cancel()
	if err := rt.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []msg.State{msg.StateDeleted, msg.StateExpired, msg.StateUnknown}
	if len(s.states) != 3 || s.states[0] != want[0] || s.states[1] != want[1] || s.states[2] != want[2] {
		t.Fatalf("abandoned as %v, want %v", s.states, want)
	}
	if st := rt.Stats(); st.Deleted != 1 || st.Expired != 1 || st.Shutdown != 1 || st.Queued != 0 || st.Submitted != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// countSink counts acceptances, and those made while a helper runs.
type countSink struct {
	recSink
	mu       sync.Mutex
	accepted int
}

func (s *countSink) Accepted(*msg.Message, []byte) {
	s.mu.Lock()
	s.accepted++
	s.mu.Unlock()
}

func (s *countSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// A helper's step is bounded: with more due than helpWork (512), Help does
// that much on the caller's goroutine and wakes the worker for the rest.
func TestHelpIsBounded(t *testing.T) {
	var clock struct {
		sync.Mutex
		ns int64
	}
	now := func() int64 { clock.Lock(); defer clock.Unlock(); return clock.ns }
	d := &instant{delay: int64(time.Hour)}
	rt := newInstantDriver(t, connector.Options{Name: "x", Queue: 4096, Caps: connector.Caps{Helped: true}, Clock: now}, d)
	s := &countSink{}
	if err := rt.Start(s); err != nil {
		t.Fatal(err)
	}
	defer func() { // the last message is held for an hour: cut the drain
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		_ = rt.Stop(ctx)
	}()
	const n = 2000
	for i := range n {
		m := msg.NewMessage()
		m.ID = msg.ID(i)
		if !rt.Submit(m) {
			t.Fatal("Submit refused")
		}
	}
	deadline := time.Now().Add(connectortest.Wait)
	for rt.Held() != n { // every one taken by the worker, held for an hour
		if time.Now().After(deadline) {
			t.Fatalf("%d held, want %d", rt.Held(), n)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // the worker goes back to sleep (its timer: an hour)
	clock.Lock()
	clock.ns += int64(time.Hour) // all due at once
	clock.Unlock()
	m := msg.NewMessage() // a push makes Help step
	m.ID = n
	if !rt.SubmitQuiet(m) {
		t.Fatal("SubmitQuiet refused")
	}
	// The worker it wakes may accept the rest before Help returns: the
	// driver counts what it accepts on this goroutine.
	d.helper.Store(goid())
	rt.Help()
	if d.helped > 512 {
		t.Fatalf("a helper accepted %d, bound 512", d.helped)
	}
	for {
		accepted := s.count()
		if accepted == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d accepted, want %d: Help left work without waking the worker", accepted, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// goid is the calling goroutine's id (from its stack header), to tell a
// helper's work from the worker's.
func goid() uint64 {
	var buf [32]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return id
}
