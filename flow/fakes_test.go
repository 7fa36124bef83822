package flow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// ---- users ----

// principal is a bound user: the *accounts.Bind its accounts store
// returned, which the engine would hand the hub as the session's
// engine.Principal (requests carry p.Bind), and that store.
type principal struct {
	*accounts.Bind
	store *accounts.Store
}

// setEnabled enables or disables the user as the admin API does.
func (p principal) setEnabled(t testing.TB, on bool) {
	t.Helper()
	if err := p.store.SetEnabled(p.SystemID(), on); err != nil {
		t.Fatal(err)
	}
}

type userSpec struct {
	group, defaultSource string
	receipts             bool
	limits               accounts.UserLimits
	sourceAddrs          []string
}

// testPassword is every test user's; its hash has the lowest iteration
// count, since tests bind often.
const testPassword = "pw"

var testHash = sync.OnceValues(func() (string, error) { return accounts.HashPasswordIter(testPassword, 1000) })

// newAccounts returns an accounts store with spec's group, if any, and no
// user.
func newAccounts(t testing.TB, groups ...string) *accounts.Store {
	t.Helper()
	var gs []accounts.Group
	for _, g := range groups {
		gs = append(gs, accounts.Group{Name: g, Enabled: true})
	}
	st, err := accounts.NewStore(nil, gs, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// newUser binds a user of an accounts store of its own.
func newUser(t testing.TB, id string, spec userSpec) principal {
	t.Helper()
	var groups []string
	if spec.group != "" {
		groups = append(groups, spec.group)
	}
	return bindUser(t, newAccounts(t, groups...), id, spec)
}

// bindUser adds the user to st and binds it as a transceiver.
func bindUser(t testing.TB, st *accounts.Store, id string, spec userSpec) principal {
	t.Helper()
	hash, err := testHash()
	if err != nil {
		t.Fatal(err)
	}
	u := accounts.User{SystemID: id, PasswordHash: hash, Enabled: true, BindTypes: accounts.AllBindTypes, Group: spec.group,
		DefaultSource: spec.defaultSource, Receipts: spec.receipts, Limits: spec.limits, SourceAddrs: spec.sourceAddrs}
	if err := st.Upsert(u); err != nil {
		t.Fatal(err)
	}
	b, err := st.Authenticate(id, testPassword, accounts.BindTransceiver, netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Release)
	return principal{Bind: b, store: st}
}

// ---- storage ----

// memStore is a small Messages for unit tests beside the real hold store
// (storage/memory's, held to the contract by storagetest). Records live in
// a fixed table indexed by id (so steady-state Put allocates nothing).
// fail, when set, is what every record write returns, and failHold what
// Hold returns: a store whose disk is full or failing.
type memStore struct {
	*memory.Holds
	mu       sync.Mutex
	recs     [4096]storage.Record
	puts     int
	deletes  int
	fail     error
	failHold error
	// body is the last message body PutMessage kept (a durable store's
	// copy, for the re-drive tests), per slot.
	body [4096][]byte
}

func newMemStore() *memStore { return &memStore{Holds: newHolds(0)} }

// newHolds returns a real hold store of max items (0: the default).
func newHolds(max int) *memory.Holds {
	return memory.New(memory.Options{MaxRecords: 16, MaxUpstream: 16, MaxHeld: max}).Holds().(*memory.Holds)
}

func (s *memStore) slot(id msg.ID) *storage.Record { return &s.recs[uint64(id)%uint64(len(s.recs))] }

func (s *memStore) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

func (s *memStore) Put(r *storage.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	*s.slot(r.ID) = *r
	s.puts++
	return nil
}

// PutMessage is Put keeping m's binary form (a copy; steady state reuses
// the slot's buffer).
func (s *memStore) PutMessage(r *storage.Record, m []byte) error {
	if err := s.Put(r); err != nil {
		return err
	}
	s.mu.Lock()
	b := &s.body[uint64(r.ID)%uint64(len(s.recs))]
	*b = append((*b)[:0], m...)
	s.mu.Unlock()
	return nil
}

func (s *memStore) Get(id msg.ID, out *storage.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.slot(id)
	if r.ID != id || r.SystemID == "" {
		return storage.ErrNotFound
	}
	*out = *r
	return nil
}

// update applies f to id's record unless the store fails or id is unknown.
func (s *memStore) update(id msg.ID, f func(r *storage.Record)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	r := s.slot(id)
	if r.ID != id || r.SystemID == "" {
		return storage.ErrNotFound
	}
	f(r)
	return nil
}

// SetState is written out (not through update): the receipt benchmarks
// run through it.
func (s *memStore) SetState(id msg.ID, st msg.State, errCode uint16, done int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	r := s.slot(id)
	if r.ID != id || r.SystemID == "" {
		return storage.ErrNotFound
	}
	r.State, r.Err, r.Done = st, errCode, done
	return nil
}

// SetAccepted stores the decided state at once: unit tests read it after
// the connector's report, never before at. Written out as SetState is: the
// submit benchmarks run through it.
func (s *memStore) SetAccepted(id msg.ID, final msg.State, errCode uint16, at int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	r := s.slot(id)
	if r.ID != id || r.SystemID == "" {
		return storage.ErrNotFound
	}
	if final != 0 {
		r.State, r.Err, r.Done = final, errCode, at
	}
	return nil
}

func (s *memStore) SetReplaced(id msg.ID, n *storage.Record) error {
	return s.update(id, func(r *storage.Record) {
		r.RegisteredDelivery, r.Parts, r.Submitted = n.RegisteredDelivery, n.Parts, n.Submitted
		r.TextLen = uint8(copy(r.Text[:], n.Text[:n.TextLen]))
	})
}

func (s *memStore) Delete(id msg.ID) error {
	return s.update(id, func(r *storage.Record) {
		*r = storage.Record{}
		s.deletes++
	})
}

func (s *memStore) Finish(id msg.ID, st msg.State, errCode uint16, done int64, out *storage.Record) error {
	if err := s.SetState(id, st, errCode, done); err != nil {
		return err
	}
	return s.Get(id, out)
}

// Len is the held items' count: the hub reads Len through Holds only.
func (s *memStore) Len() int { return s.Holds.Len() }

// Hold fails with failHold when set.
func (s *memStore) Hold(h *storage.Held) (storage.HeldKey, error) {
	s.mu.Lock()
	err := s.failHold
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return s.Holds.Hold(h)
}

func (s *memStore) record(t testing.TB, id msg.ID) storage.Record {
	t.Helper()
	var r storage.Record
	if err := s.Get(id, &r); err != nil {
		t.Fatalf("no record for %v: %v", id, err)
	}
	return r
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
	// racing: QueueFull reports room while Submit refuses, as a queue that
	// filled between the hub's check and its push does.
	racing bool
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
	if c.closed || c.racing || c.cap > 0 && len(c.q) >= c.cap {
		return false
	}
	c.q = append(c.q, m)
	return true
}

// QueueFull implements connector.Connector. With auto nothing queues, so
// it answers without the lock, as connector.Runtime's does (two atomic
// loads): the benchmarks then do not count a mutex production never takes.
func (c *fakeConn) QueueFull() bool {
	if c.auto {
		return false
	}
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

func (r *revIDs) PutUpstream(c int, up []byte, id msg.ID) error {
	r.mu.Lock()
	r.fwd[fmt.Sprint(c, "/", string(up))] = id
	r.mu.Unlock()
	return nil
}

func (r *revIDs) Upstream(c int, up []byte) (msg.ID, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.fwd[fmt.Sprint(c, "/", string(up))]
	return id, ok
}

func (r *revIDs) PutUpstreamOf(id msg.ID, up []byte) error {
	r.mu.Lock()
	r.rev[id] = string(up)
	r.mu.Unlock()
	return nil
}

func (r *revIDs) UpstreamOf(id msg.ID, dst []byte) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	up, ok := r.rev[id]
	return append(dst, up...), ok
}

// ---- the engine side ----

type sentPDU struct {
	user string
	d    *engine.Delivery
	body []byte
}

// fakeOut records deliveries; err decides what Deliver returns.
type fakeOut struct {
	mu  sync.Mutex
	got []sentPDU
	err error
}

func (o *fakeOut) Deliver(user string, d *engine.Delivery) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	o.got = append(o.got, sentPDU{user: user, d: d, body: bytes.Clone(d.Body)})
	return nil
}

func (o *fakeOut) setErr(err error) {
	o.mu.Lock()
	o.err = err
	o.mu.Unlock()
}

func (o *fakeOut) take() []sentPDU {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.got
	o.got = nil
	return g
}

// decodeDeliver decodes a recorded deliver_sm body.
func decodeDeliver(t testing.TB, d sentPDU) *codec.SM {
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
	dl     *delivery.Service
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
	dmod      func(*delivery.Options)
	noAttach  bool
	logWriter *bytes.Buffer
	helped    bool // connectors declare Caps.Helped (helpedConn)
	batched   bool // with helped: the connectors take batches (batchConn)
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
			if spec.batched {
				conns = append(conns, &batchConn{hc})
			} else {
				conns = append(conns, hc)
			}
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
		Router: routing.NewRouter(tb), Connectors: conns, Messages: th.store, Accounts: newAccounts(t),
		IDs: ids, Logger: logger, Now: th.clock.Now,
	}
	if spec.mod != nil {
		spec.mod(&opts)
	}
	dopts := delivery.Options{Holds: th.store,
		Settings: delivery.Settings{RetryMin: time.Second, RetryMax: 8 * time.Second, HoldLifetime: time.Hour}}
	if spec.dmod != nil {
		spec.dmod(&dopts)
	}
	h, dl := newPaths(t, opts, dopts)
	for _, c := range th.conns {
		c.sink = h
	}
	if !spec.noAttach {
		dl.Attach(th.out)
	}
	th.Hub, th.dl = h, dl
	return th
}

// newPaths builds the delivery side and the hub wired as cmd/smppd wires
// them: the hub hands the connectors' receipts and MO to the delivery side,
// which counts what ESMEs acknowledged in the hub's user counters and runs
// its sweep. Unset delivery options take the hub's (store, routes, clock,
// logger, receipt latency).
func newPaths(t testing.TB, opts Options, dopts delivery.Options) (*Hub, *delivery.Service) {
	t.Helper()
	var h *Hub
	if dopts.Messages == nil {
		dopts.Messages = opts.Messages
	}
	if dopts.Routes == nil {
		dopts.Routes = MORoutes{Router: opts.Router}
	}
	if dopts.ReceiptLatency == nil {
		dopts.ReceiptLatency = opts.ReceiptLatency
	}
	if dopts.Now == nil {
		dopts.Now = opts.Now
	}
	if opts.Zone != nil {
		dopts.ReceiptZone = opts.Zone
	}
	dopts.Logger = opts.Logger
	dopts.Delivered = func(id string, mo bool) { h.CountDelivered(id, mo) }
	if dopts.Backlog == nil {
		dopts.Backlog = func(id string, on bool) { h.SetReceiptBacklog(id, on) }
	}
	dopts.Sweep = func(now int64) { h.Sweep(now) }
	dl, err := delivery.New(dopts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Deliveries = dl
	if opts.LogGate == nil {
		opts.LogGate = newLogGate // as cmd/smppd wires it
	}
	h, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h, dl
}

// Deliveries is the delivery side wired to the hub.
func (th *testHub) Deliveries() *delivery.Service { return th.dl }

// bothStats are the hub's and the delivery side's counters together, as
// the tests read them; StoreErrors is their sum.
type bothStats struct {
	hubStats
	dlStats
	StoreErrors uint64
}

type (
	hubStats = Stats
	dlStats  = delivery.Stats
)

// Stats returns both sides' counters.
func (th *testHub) Stats() bothStats {
	h, d := th.Hub.Stats(), th.dl.Stats()
	return bothStats{hubStats: h, dlStats: d, StoreErrors: h.StoreErrors + d.StoreErrors}
}

// submit runs HandleSubmit for a submit_sm from p.
func (th *testHub) submit(p principal, sm *codec.SM) (codec.Status, string) {
	req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: p.SystemID(), SubmitSM: sm, Principal: p.Bind}
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
	dl *delivery.Service
	n  int
}

func (o *ackOut) Deliver(_ string, d *engine.Delivery) error {
	o.n++
	o.dl.DeliveryDone(d, codec.StatusOK, nil)
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
	th.Deliveries().Attach(&ackOut{dl: th.dl})
	p := newUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{
		Balance: accounts.Micros(1 << 56), Quota: 1 << 56, Throughput: 1e9}})
	return th, p
}
