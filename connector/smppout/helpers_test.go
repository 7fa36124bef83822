package smppout

import (
	"bytes"
	"context"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/msg"
)

// waitLimit bounds every wait in these tests; nothing asserts on speed.
const waitLimit = 10 * time.Second

// eventually polls cond until it holds, failing the test after waitLimit.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// mapIDs is a plain IDMap for tests; with fail set PutUpstream refuses
// (a store whose device is full).
type mapIDs struct {
	mu   sync.Mutex
	m    map[string]msg.ID
	fail error
}

func newMapIDs() *mapIDs { return &mapIDs{m: make(map[string]msg.ID)} }

func (m *mapIDs) PutUpstream(conn int, up []byte, id msg.ID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.m[strconv.Itoa(conn)+"/"+string(up)] = id
	return nil
}

func (m *mapIDs) setFail(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

func (m *mapIDs) Upstream(conn int, up []byte) (msg.ID, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.m[strconv.Itoa(conn)+"/"+string(up)]
	return id, ok
}

// accepted, failed, mo: what the sink saw, copied during the call.
type accepted struct {
	id       msg.ID
	up       string
	attempts int
}

type failed struct {
	id     msg.ID
	status uint32
	state  msg.State
}

type moSeen struct {
	connector, src, dst, text string
	esm                       byte
}

// recSink records what a Sink sees, and the order of calls per message id.
type recSink struct {
	mu    sync.Mutex
	acc   []accepted
	fail  []failed
	rcpt  []msg.Receipt
	mo    []moSeen
	order map[msg.ID][]string
	// refuse is what Receipt and MO return when set (a full store);
	// syncs counts Sync calls.
	refuse error
	syncs  int
}

func newSink() *recSink { return &recSink{order: make(map[msg.ID][]string)} }

func (s *recSink) Accepted(m *msg.Message, up []byte) {
	s.mu.Lock()
	s.acc = append(s.acc, accepted{id: m.ID, up: string(up), attempts: m.Attempts})
	s.order[m.ID] = append(s.order[m.ID], "accepted")
	s.mu.Unlock()
}

func (s *recSink) Failed(m *msg.Message, st uint32, state msg.State) {
	s.mu.Lock()
	s.fail = append(s.fail, failed{id: m.ID, status: st, state: state})
	s.order[m.ID] = append(s.order[m.ID], "failed")
	s.mu.Unlock()
}

func (s *recSink) Receipt(r *msg.Receipt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse != nil {
		return s.refuse
	}
	c := *r
	c.UpstreamID, c.Raw = bytes.Clone(r.UpstreamID), nil
	s.rcpt = append(s.rcpt, c)
	s.order[r.ID] = append(s.order[r.ID], "receipt")
	return nil
}

func (s *recSink) MO(in *msg.Inbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse != nil {
		return s.refuse
	}
	s.mo = append(s.mo, moSeen{connector: in.Connector, src: string(in.Source), dst: string(in.Dest), text: string(in.ShortMessage), esm: in.ESMClass})
	return nil
}

func (s *recSink) Sync() error {
	s.mu.Lock()
	s.syncs++
	s.mu.Unlock()
	return nil
}

func (s *recSink) setRefuse(err error) {
	s.mu.Lock()
	s.refuse = err
	s.mu.Unlock()
}

func (s *recSink) syncCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncs
}

func (s *recSink) counts() (acc, fail, rcpt, mo int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acc), len(s.fail), len(s.rcpt), len(s.mo)
}

func (s *recSink) accepted() []accepted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]accepted(nil), s.acc...)
}

func (s *recSink) failures() []failed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]failed(nil), s.fail...)
}

func (s *recSink) receipts() []msg.Receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]msg.Receipt(nil), s.rcpt...)
}

func (s *recSink) mos() []moSeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]moSeen(nil), s.mo...)
}

func (s *recSink) events(id msg.ID) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order[id]...)
}

// fakeClock is an injected clock tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time           { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) add(d time.Duration)      { c.ns.Add(int64(d)) }
func (c *fakeClock) nanos() int64             { return c.ns.Load() }
func (c *fakeClock) at(d time.Duration) int64 { return c.ns.Load() + int64(d) }

// newMsg builds a message to dest with text and id.
func newMsg(id msg.ID, dest, text string) *msg.Message {
	m := msg.NewMessage()
	m.ID = id
	m.SourceTON, m.SourceNPI = 1, 1
	m.Source = append(m.Source[:0], "4910"...)
	m.DestTON, m.DestNPI = 1, 1
	m.Dest = append(m.Dest[:0], dest...)
	m.ShortMessage = append(m.ShortMessage[:0], text...)
	m.RegisteredDelivery = 1
	m.Received = time.Now().UnixNano()
	return m
}

// env is a started connector against a started SMSC.
type env struct {
	srv  *smsctest.Server
	c    *Connector
	sink *recSink
	ids  *mapIDs
}

// setup starts an SMSC with so and a connector against it with o (Host,
// Port, IDMap and credentials filled in unless set), and stops both at
// cleanup.
func setup(t *testing.T, so smsctest.Options, o Options) *env {
	t.Helper()
	if so.SystemID == "" {
		so.SystemID, so.Password = "up", "secret"
	}
	srv, err := smsctest.Start(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if o.Host == "" {
		o.Host, o.Port = srv.Host(), srv.Port()
	}
	if o.SystemID == "" {
		o.SystemID, o.Password = so.SystemID, so.Password
	}
	e := &env{srv: srv, sink: newSink(), ids: newMapIDs()}
	if o.IDMap == nil {
		o.IDMap = e.ids
	}
	if o.Name == "" {
		o.Name, o.ID = "up1", 7
	}
	if o.ReconnectMin == 0 {
		o.ReconnectMin, o.ReconnectMax = 5*time.Millisecond, 50*time.Millisecond
	}
	if o.RetryMin == 0 {
		o.RetryMin, o.RetryMax = 2*time.Millisecond, 20*time.Millisecond
	}
	e.c, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.Start(e.sink); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		_ = e.c.Stop(ctx)
	})
	return e
}

func (e *env) waitUp(t *testing.T) {
	t.Helper()
	eventually(t, "connector up", e.c.Up)
}

func (e *env) submit(t *testing.T, m *msg.Message) {
	t.Helper()
	if !e.c.Submit(m) {
		t.Fatal("Submit refused")
	}
}

// memParker is a connector.Parker in memory for tests; with fail set Park
// refuses (a store whose device is full).
type memParker struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64][]byte
	fail error
}

func newMemParker() *memParker { return &memParker{m: make(map[uint64][]byte)} }

func (p *memParker) Park(body []byte) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return 0, p.fail
	}
	p.next++
	p.m[p.next] = append([]byte(nil), body...)
	return p.next, nil
}

func (p *memParker) Unpark(key uint64) error {
	p.mu.Lock()
	delete(p.m, key)
	p.mu.Unlock()
	return nil
}

func (p *memParker) Parked(fn func(uint64, []byte)) error {
	p.mu.Lock()
	cp := make(map[uint64][]byte, len(p.m))
	maps.Copy(cp, p.m)
	p.mu.Unlock()
	for k, b := range cp {
		fn(k, b)
	}
	return nil
}

func (p *memParker) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

func (p *memParker) setFail(err error) {
	p.mu.Lock()
	p.fail = err
	p.mu.Unlock()
}
