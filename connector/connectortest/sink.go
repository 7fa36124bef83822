package connectortest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// outcome is what the Sink saw of one message id.
type outcome struct {
	accepted, failed int
	upstream         string // the upstream id Accepted named
	status           uint32
	state            msg.State // of the last Failed
	receipts         []msg.Receipt
}

// Sink records every call per message id, and the MO.
type Sink struct {
	mu  sync.Mutex
	ids map[msg.ID]*outcome
	mos []mo
	// calls counts every Accepted and Failed: a message reported twice
	// shows as calls > messages.
	calls int
	// refuse, when set, is what Receipt and MO return (a full store);
	// syncs counts Sync calls, syncErr is what Sync returns.
	refuse  error
	syncs   int
	syncErr error
}

// Refuse makes Receipt and MO return err (nil: keep again), as a sink
// whose store is full does.
func (s *Sink) Refuse(err error) {
	s.mu.Lock()
	s.refuse = err
	s.mu.Unlock()
}

// FailSync makes Sync return err (nil: succeed again).
func (s *Sink) FailSync(err error) {
	s.mu.Lock()
	s.syncErr = err
	s.mu.Unlock()
}

// Syncs returns how many times Sync was called.
func (s *Sink) Syncs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncs
}

// Sync implements connector.Sink.
func (s *Sink) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncs++
	return s.syncErr
}

type mo struct{ connector, src, dst, text string }

// NewSink returns an empty recording Sink.
func NewSink() *Sink { return &Sink{ids: make(map[msg.ID]*outcome)} }

func (s *Sink) get(id msg.ID) *outcome {
	o := s.ids[id]
	if o == nil {
		o = &outcome{}
		s.ids[id] = o
	}
	return o
}

// Accepted implements connector.Sink.
func (s *Sink) Accepted(m *msg.Message, upstreamID []byte) {
	s.mu.Lock()
	o := s.get(m.ID)
	o.accepted++
	o.upstream = string(upstreamID)
	s.calls++
	s.mu.Unlock()
}

// Failed implements connector.Sink.
func (s *Sink) Failed(m *msg.Message, status uint32, state msg.State) {
	s.mu.Lock()
	o := s.get(m.ID)
	o.failed++
	o.status, o.state = status, state
	s.calls++
	s.mu.Unlock()
}

// Receipt implements connector.Sink: a refused receipt is not recorded.
func (s *Sink) Receipt(r *msg.Receipt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse != nil {
		return s.refuse
	}
	o := s.get(r.ID)
	o.receipts = append(o.receipts, *r)
	return nil
}

// MO implements connector.Sink: a refused MO is not recorded.
func (s *Sink) MO(in *msg.Inbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse != nil {
		return s.refuse
	}
	s.mos = append(s.mos, mo{connector: in.Connector, src: string(in.Source), dst: string(in.Dest), text: string(in.ShortMessage)})
	return nil
}

// of returns a copy of what was seen of id.
func (s *Sink) of(id msg.ID) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.ids[id]; o != nil {
		c := *o
		c.receipts = append([]msg.Receipt(nil), o.receipts...)
		return c
	}
	return outcome{}
}

// reported counts the ids in [from, to) that got Accepted or Failed.
func (s *Sink) reported(from, to msg.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id := from; id < to; id++ {
		if o := s.ids[id]; o != nil && o.accepted+o.failed > 0 {
			n++
		}
	}
	return n
}

// exactlyOnce fails t unless every id in taken got exactly one Accepted or
// Failed and no other id of [from, to) got any.
func (s *Sink) exactlyOnce(t *testing.T, from, to msg.ID, taken map[msg.ID]bool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := from; id < to; id++ {
		n := 0
		if o := s.ids[id]; o != nil {
			n = o.accepted + o.failed
		}
		switch {
		case taken[id] && n != 1:
			t.Fatalf("message %d: reported %d times, want once", id, n)
		case !taken[id] && n != 0:
			t.Fatalf("message %d: refused by Submit but reported %d times", id, n)
		}
	}
}

// newMsg returns a pooled message with id that asks for a final receipt.
func newMsg(id msg.ID) *msg.Message {
	m := msg.NewMessage()
	m.ID = id
	m.SourceTON, m.SourceNPI = 1, 1
	m.Source = append(m.Source[:0], "4911000"...)
	m.DestTON, m.DestNPI = 1, 1
	m.Dest = append(m.Dest[:0], "4922000"...)
	m.ShortMessage = append(m.ShortMessage[:0], "conformance"...)
	m.RegisteredDelivery = 1
	m.Received = time.Now().UnixNano()
	return m
}

// start builds and starts a connector for a case; it is stopped at cleanup.
func start(t *testing.T, k Kind, u Upstream) (Target, *Sink) {
	t.Helper()
	tg := k.New(t, "conf", u)
	s := NewSink()
	if err := tg.Conn.Start(s); err != nil {
		t.Fatalf("%s: Start: %v", k.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Wait)
		defer cancel()
		_ = tg.Conn.Stop(ctx)
	})
	return tg, s
}

// eventually polls cond until it holds, failing t after Wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// submit queues m or fails t, retrying a full queue for a while.
func submit(t *testing.T, c connector.Connector, m *msg.Message) {
	t.Helper()
	eventually(t, "Submit to take a message", func() bool { return c.Submit(m) })
}
