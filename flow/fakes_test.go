package flow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

// ---- users ----

type principal struct{ u *accounts.User }

func (p principal) SystemID() string     { return p.u.SystemID }
func (p principal) Release()             {}
func (p principal) User() *accounts.User { return p.u }

type userSpec struct {
	group, defaultSource string
	receipts             bool
	limits               accounts.UserLimits
	sourceAddrs          []string
}

// newUser builds a prepared user.
func newUser(t testing.TB, id string, spec userSpec) principal {
	t.Helper()
	u := &accounts.User{SystemID: id, Enabled: true, BindTypes: accounts.AllBindTypes, Group: spec.group,
		DefaultSource: spec.defaultSource, Receipts: spec.receipts, Limits: spec.limits, SourceAddrs: spec.sourceAddrs}
	if err := u.Prepare(); err != nil {
		t.Fatal(err)
	}
	return principal{u: u}
}

// ---- storage ----

// memStore is a small Messages + Holds for unit tests. Messages live in a
// fixed table indexed by id (so steady-state Put allocates nothing).
type memStore struct {
	mu      sync.Mutex
	recs    [4096]storage.Record
	puts    int
	deletes int
	held    map[string][]*storage.Held
	limit   int // held items; 0 = unlimited
	n       int
}

func newMemStore() *memStore { return &memStore{held: map[string][]*storage.Held{}} }

func (s *memStore) slot(id msg.ID) *storage.Record { return &s.recs[uint64(id)%uint64(len(s.recs))] }

func (s *memStore) Put(r *storage.Record) {
	s.mu.Lock()
	*s.slot(r.ID) = *r
	s.puts++
	s.mu.Unlock()
}

func (s *memStore) Get(id msg.ID, out *storage.Record) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.slot(id)
	if r.ID != id || r.SystemID == "" {
		return false
	}
	*out = *r
	return true
}

func (s *memStore) SetState(id msg.ID, st msg.State, errCode uint16, done int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.slot(id)
	if r.ID != id {
		return false
	}
	r.State, r.Err, r.Done, r.Live = st, errCode, done, nil
	return true
}

func (s *memStore) SetLive(id msg.ID, m *msg.Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.slot(id)
	if r.ID != id {
		return false
	}
	if m == nil || r.Live == m {
		r.Live = m
	}
	return true
}

// SetAccepted stores the decided state at once: unit tests read it after
// the connector's report, never before at.
func (s *memStore) SetAccepted(id msg.ID, final msg.State, errCode uint16, at int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.slot(id)
	if r.ID != id {
		return false
	}
	r.Live = nil
	if final != 0 {
		r.State, r.Err, r.Done = final, errCode, at
	}
	return true
}

func (s *memStore) SetReplaced(id msg.ID, n *storage.Record) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.slot(id)
	if r.ID != id {
		return false
	}
	r.RegisteredDelivery, r.Parts, r.Submitted = n.RegisteredDelivery, n.Parts, n.Submitted
	r.TextLen = uint8(copy(r.Text[:], n.Text[:n.TextLen]))
	return true
}

func (s *memStore) Delete(id msg.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.slot(id); r.ID == id {
		*r = storage.Record{}
		s.deletes++
		return true
	}
	return false
}

func (s *memStore) Finish(id msg.ID, st msg.State, errCode uint16, done int64, out *storage.Record) bool {
	return s.SetState(id, st, errCode, done) && s.Get(id, out)
}

func (s *memStore) WithLive(id msg.ID, fn func(*msg.Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m *msg.Message
	if r := s.slot(id); r.ID == id {
		m = r.Live
	}
	fn(m)
}

func (s *memStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Users counts users with held items.
func (s *memStore) Users() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.held {
		if len(q) > 0 {
			n++
		}
	}
	return n
}

func (s *memStore) record(t testing.TB, id msg.ID) storage.Record {
	t.Helper()
	var r storage.Record
	if !s.Get(id, &r) {
		t.Fatalf("no record for %v", id)
	}
	return r
}

func (s *memStore) Hold(h *storage.Held) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limit > 0 && s.n >= s.limit {
		return storage.ErrHeldFull
	}
	s.held[h.SystemID] = append(s.held[h.SystemID], h)
	s.n++
	return nil
}

func (s *memStore) Take(user string, dst []*storage.Held) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.held[user]
	n := copy(dst, q)
	s.held[user] = q[n:]
	s.n -= n
	return n
}

func (s *memStore) Expire(now int64, fn func(*storage.Held)) int {
	s.mu.Lock()
	var out []*storage.Held
	for u, q := range s.held {
		keep := q[:0]
		for _, h := range q {
			if h.Expires < now {
				out = append(out, h)
			} else {
				keep = append(keep, h)
			}
		}
		s.held[u] = keep
	}
	s.n -= len(out)
	s.mu.Unlock()
	for _, h := range out {
		fn(h)
	}
	return len(out)
}

// ---- connectors ----

// fakeConn queues messages in a slice; with auto it accepts each one at
// once (Claim, Accepted, Release) like an instant upstream.
type fakeConn struct {
	name   string
	mu     sync.Mutex
	q      []*msg.Message
	cap    int
	down   bool
	closed bool // stopped: Submit refuses, QueueFull is false
	auto   bool
	sink   connector.Sink

	caps      connector.Caps
	cancelUp  func(msg.ID, *codec.CancelSM, connector.UpstreamDone) bool
	replaceUp func(msg.ID, *codec.ReplaceSM, connector.UpstreamDone) bool
}

func (c *fakeConn) Name() string                 { return c.name }
func (c *fakeConn) Start(s connector.Sink) error { c.sink = s; return nil }
func (c *fakeConn) Up() bool                     { return !c.down }
func (c *fakeConn) Stats() connector.Stats       { return connector.Stats{} }
func (c *fakeConn) Caps() connector.Caps         { return c.caps }
func (c *fakeConn) SubmitQuiet(m *msg.Message) bool {
	return c.Submit(m)
}
func (c *fakeConn) Help() {}

func (c *fakeConn) CancelUpstream(id msg.ID, p *codec.CancelSM, done connector.UpstreamDone) bool {
	return c.cancelUp != nil && c.cancelUp(id, p, done)
}

func (c *fakeConn) ReplaceUpstream(id msg.ID, r *codec.ReplaceSM, done connector.UpstreamDone) bool {
	return c.replaceUp != nil && c.replaceUp(id, r, done)
}

func (c *fakeConn) Submit(m *msg.Message) bool {
	if c.auto {
		if !m.Claim() {
			c.sink.Failed(m, 0, msg.StateDeleted)
		} else {
			c.sink.Accepted(m, nil)
		}
		m.Release()
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.cap > 0 && len(c.q) >= c.cap {
		return false
	}
	c.q = append(c.q, m)
	return true
}

// QueueFull implements connector.Connector.
func (c *fakeConn) QueueFull() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed && c.cap > 0 && len(c.q) >= c.cap
}

func (c *fakeConn) Stop(context.Context) error { return nil }

// pop removes the oldest queued message.
func (c *fakeConn) pop(t testing.TB) *msg.Message {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.q) == 0 {
		t.Fatalf("connector %s: nothing queued", c.name)
	}
	m := c.q[0]
	c.q = c.q[1:]
	return m
}

func (c *fakeConn) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.q)
}

// revIDs is a map-backed storage.UpstreamIDs.
type revIDs struct {
	mu  sync.Mutex
	fwd map[string]msg.ID
	rev map[msg.ID]string
}

func newRevIDs() *revIDs { return &revIDs{fwd: map[string]msg.ID{}, rev: map[msg.ID]string{}} }

func (r *revIDs) PutUpstream(c int, up []byte, id msg.ID) {
	r.mu.Lock()
	r.fwd[fmt.Sprint(c, "/", string(up))] = id
	r.mu.Unlock()
}

func (r *revIDs) Upstream(c int, up []byte) (msg.ID, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.fwd[fmt.Sprint(c, "/", string(up))]
	return id, ok
}

func (r *revIDs) PutUpstreamOf(id msg.ID, up []byte) {
	r.mu.Lock()
	r.rev[id] = string(up)
	r.mu.Unlock()
}

func (r *revIDs) UpstreamOf(id msg.ID, dst []byte) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	up, ok := r.rev[id]
	return append(dst, up...), ok
}

// ---- the engine side ----

type delivery struct {
	user string
	d    *engine.Delivery
	body []byte
}

// fakeOut records deliveries; err decides what Deliver returns.
type fakeOut struct {
	mu  sync.Mutex
	got []delivery
	err error
}

func (o *fakeOut) Deliver(user string, d *engine.Delivery) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	o.got = append(o.got, delivery{user: user, d: d, body: bytes.Clone(d.Body)})
	return nil
}

func (o *fakeOut) setErr(err error) {
	o.mu.Lock()
	o.err = err
	o.mu.Unlock()
}

func (o *fakeOut) take() []delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.got
	o.got = nil
	return g
}

// decodeDeliver decodes a recorded deliver_sm body.
func decodeDeliver(t testing.TB, d delivery) *codec.SM {
	t.Helper()
	p := new(codec.SM)
	if err := p.Decode(d.body); err != nil {
		t.Fatalf("deliver_sm body: %v", err)
	}
	return p
}

// ---- the hub ----

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type testHub struct {
	*Hub
	store  *memStore
	conns  []*fakeConn
	helped []*helpedConn // with hubSpec.helped: the same connectors as conns
	out    *fakeOut
	clock  *fakeClock
	table  *routing.Table
}

type hubSpec struct {
	routes    routing.Config // default: one default route over "a"
	conns     int            // default 1 (named a, b, c, ...)
	mod       func(*Options)
	noAttach  bool
	logWriter *bytes.Buffer
	helped    bool // connectors declare Caps.Helped (helpedConn)
}

// helpedConn is a fakeConn the loops may help (Caps.Helped).
type helpedConn struct {
	*fakeConn
	quietSubs, helps atomic.Int32
}

func (c *helpedConn) SubmitQuiet(m *msg.Message) bool {
	c.quietSubs.Add(1)
	return c.fakeConn.Submit(m)
}

func (c *helpedConn) Help() { c.helps.Add(1) }

func newHub(t testing.TB, spec hubSpec) *testHub {
	t.Helper()
	if spec.conns == 0 {
		spec.conns = 1
	}
	th := &testHub{store: newMemStore(), out: &fakeOut{},
		clock: &fakeClock{t: time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)}}
	var conns []connector.Connector
	var names []string
	for i := range spec.conns {
		c := &fakeConn{name: string(rune('a' + i))}
		th.conns = append(th.conns, c)
		if spec.helped {
			c.caps.Helped = true
			hc := &helpedConn{fakeConn: c}
			th.helped = append(th.helped, hc)
			conns = append(conns, hc)
		} else {
			conns = append(conns, c)
		}
		names = append(names, c.name)
	}
	cfg := spec.routes
	if cfg.MT == nil && cfg.MO == nil {
		cfg.MT = []routing.MTRouteConfig{{Name: "all", Kind: "default", Connectors: []string{"a"}}}
		cfg.MO = []routing.MORouteConfig{{Name: "mo", User: "alice"}}
	}
	cfg.Connectors = names
	tb, err := routing.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	th.table = tb
	ids, err := msg.NewIDGen(1)
	if err != nil {
		t.Fatal(err)
	}
	logger := zerolog.Nop()
	if spec.logWriter != nil {
		logger = zerolog.New(spec.logWriter)
	}
	opts := Options{
		Router: routing.NewRouter(tb), Connectors: conns, Messages: th.store, Holds: th.store,
		IDs: ids, Logger: logger, Now: th.clock.Now,
		RetryMin: time.Second, RetryMax: 8 * time.Second, HoldLifetime: time.Hour,
	}
	if spec.mod != nil {
		spec.mod(&opts)
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range th.conns {
		c.sink = h
	}
	if !spec.noAttach {
		h.Attach(th.out)
	}
	th.Hub = h
	return th
}

// submit runs HandleSubmit for a submit_sm from p.
func (th *testHub) submit(p principal, sm *codec.SM) (codec.Status, string) {
	req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: p.u.SystemID, SubmitSM: sm, Principal: p}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	th.HandleSubmit(req, res)
	return res.Status, string(res.MessageID)
}

func sm(src, dst, text string) *codec.SM {
	return &codec.SM{SourceAddr: []byte(src), DestinationAddr: []byte(dst), ShortMessage: []byte(text)}
}

func mustID(t testing.TB, s string) msg.ID {
	t.Helper()
	id, err := msg.ParseID([]byte(s))
	if err != nil {
		t.Fatalf("id %q: %v", s, err)
	}
	return id
}

func wantStatus(t testing.TB, got, want codec.Status) {
	t.Helper()
	if got != want {
		t.Fatalf("status %v, want %v", got, want)
	}
}

var errBoom = errors.New("boom")

// ackOut acknowledges every delivery at once, allocating nothing.
type ackOut struct {
	h *Hub
	n int
}

func (o *ackOut) Deliver(_ string, d *engine.Delivery) error {
	o.n++
	o.h.DeliveryDone(d, codec.StatusOK, nil)
	return nil
}

func allocHub(t testing.TB) (*testHub, principal) {
	th := newHub(t, hubSpec{conns: 2, routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "rr", Kind: "roundrobin", Connectors: []string{"a", "b"}, Rate: 0.01}},
		MO: []routing.MORouteConfig{{Name: "mo", User: "alice"}},
	}})
	for _, c := range th.conns {
		c.auto = true
	}
	th.Attach(&ackOut{h: th.Hub})
	p := newUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{
		Balance: accounts.Micros(1 << 60), Quota: 1 << 60, Throughput: 1e12}})
	return th, p
}
