package sim

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
)

// t0 is an arbitrary start for the fake clocks (2025-06-30T12:00:00Z).
const t0 = int64(1751284800) * int64(time.Second)

// failsafe bounds every wait on the worker goroutine; it is never the
// thing a test measures.
const failsafe = 20 * time.Second

// fakeClock is an injectable clock the test moves by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t0)
	return c
}

func (c *fakeClock) now() int64          { return c.ns.Load() }
func (c *fakeClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// event is one recorded Sink call; byte fields are copies.
type event struct {
	kind     string // accepted, failed, receipt, mo
	id       msg.ID
	upstream string
	status   uint32
	state    msg.State
	rcpt     msg.Receipt
	mo       msg.Inbound
}

// recSink records every call, in order, and signals each on ch.
type recSink struct {
	mu     sync.Mutex
	events []event
	ch     chan struct{}
}

func newRecSink() *recSink { return &recSink{ch: make(chan struct{}, 1<<16)} }

func (s *recSink) add(e event) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

func (s *recSink) Accepted(m *msg.Message, upstreamID []byte) {
	s.add(event{kind: "accepted", id: m.ID, upstream: string(upstreamID), state: m.FinalState,
		rcpt: msg.Receipt{Err: m.FinalErr, Done: m.FinalAt}})
}

func (s *recSink) Failed(m *msg.Message, status uint32, state msg.State) {
	s.add(event{kind: "failed", id: m.ID, status: status, state: state})
}

func (s *recSink) Receipt(r *msg.Receipt) error {
	s.add(event{kind: "receipt", id: r.ID, state: r.State, rcpt: *r})
	return nil
}

func (s *recSink) Sync() error { return nil }

func (s *recSink) MO(in *msg.Inbound) error {
	c := *in
	c.ServiceType = bytes.Clone(in.ServiceType)
	c.Source = bytes.Clone(in.Source)
	c.Dest = bytes.Clone(in.Dest)
	c.ShortMessage = bytes.Clone(in.ShortMessage)
	c.TLVs = bytes.Clone(in.TLVs)
	s.add(event{kind: "mo", mo: c})
	return nil
}

// take returns the events recorded so far and forgets them.
func (s *recSink) take() []event {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.events
	s.events = nil
	return e
}

// count returns how many recorded events are of kind.
func (s *recSink) count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.events {
		if e.kind == kind {
			n++
		}
	}
	return n
}

// waitCount waits until n events of kind were recorded (failsafe bound).
func (s *recSink) waitCount(t *testing.T, kind string, n int) {
	t.Helper()
	deadline := time.After(failsafe)
	for s.count(kind) < n {
		select {
		case <-s.ch:
		case <-deadline:
			t.Fatalf("failsafe: %d %s events, want %d", s.count(kind), kind, n)
		}
	}
}

// waitFor polls cond until it holds (failsafe bound).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(failsafe)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("failsafe: waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// newMsg returns a pooled message with id and the given addresses that
// asks for a final receipt (registered_delivery 1).
func newMsg(id msg.ID, src, dst string) *msg.Message {
	m := msg.NewMessage()
	m.ID = id
	m.RegisteredDelivery = 0x01
	m.Source = append(m.Source, src...)
	m.Dest = append(m.Dest, dst...)
	m.ShortMessage = append(m.ShortMessage, "hello"...)
	m.Received = t0
	return m
}

// manual builds a started simulator the test drives by calling step (no
// worker goroutine: Options.Manual), so every outcome is a function of the
// times passed in.
func manual(t *testing.T, opts Options) (*Connector, *stepper, *recSink) {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = func() int64 { return t0 }
	}
	opts.Manual = true
	c, err := New("sim", opts)
	if err != nil {
		t.Fatal(err)
	}
	s := newRecSink()
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	return c, &stepper{c}, s
}

// stepper drives a manual simulator.
type stepper struct{ c *Connector }

// step runs one worker step at now.
func (w *stepper) step(now int64) { w.c.Step(now) }

// next is the driver's next due time.
func (w *stepper) next() (int64, bool) { return w.c.w.Next() }

// held is the number of messages the driver holds.
func (w *stepper) held() int { return w.c.w.held() }

// mustSubmit submits m or fails the test.
func mustSubmit(t *testing.T, c *Connector, m *msg.Message) {
	t.Helper()
	if !c.Submit(m) {
		t.Fatalf("Submit(%v) = false", m.ID)
	}
}

// kinds lists the kinds of evs, for compact assertions.
func kinds(evs []event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.kind
	}
	return out
}

func equalKinds(t *testing.T, evs []event, want ...string) {
	t.Helper()
	got := kinds(evs)
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
}

// nopSink does nothing: the simulator releases every message itself.
type nopSink struct{}

func (nopSink) Accepted(*msg.Message, []byte)          {}
func (nopSink) Failed(*msg.Message, uint32, msg.State) {}
func (nopSink) Receipt(*msg.Receipt) error             { return nil }
func (nopSink) MO(*msg.Inbound) error                  { return nil }
func (nopSink) Sync() error                            { return nil }

// fill sets the fields a flow hub would copy in, reusing m's buffers.
func fill(m *msg.Message, id msg.ID, dst string) {
	m.ID = id
	m.Source = append(m.Source[:0], "4412345"...)
	m.Dest = append(m.Dest[:0], dst...)
	m.ShortMessage = append(m.ShortMessage[:0], "hello, world"...)
	m.TLVs = append(m.TLVs[:0], 0x02, 0x04, 0x00, 0x02, 0x00, 0x07)
	m.RegisteredDelivery = 0x11
}
