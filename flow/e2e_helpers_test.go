package flow

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

// wait bounds every wait for an asynchronous outcome in end-to-end tests:
// generous, because the machine is shared; no test asserts on speed.
const wait = 20 * time.Second

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// env is a running engine + hub.
type env struct {
	hub *Hub
	dl  *delivery.Service
	srv *engine.Server
	// accounts are the users the engine binds (addUser).
	accounts *accounts.Store
	addr     string
	msgs     storage.Messages
	holds    storage.Holds
}

type envSpec struct {
	routes     routing.Config
	connectors []connector.Connector
	msgs       storage.Messages
	holds      storage.Holds
	mod        func(*Options)
	dmod       func(*delivery.Options)
	engineMod  func(*engine.Options)
}

func startEnv(t testing.TB, spec envSpec) *env {
	t.Helper()
	var names []string
	for _, c := range spec.connectors {
		names = append(names, c.Name())
	}
	spec.routes.Connectors = names
	tb, err := routing.Compile(spec.routes)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := msg.NewIDGen(7)
	if err != nil {
		t.Fatal(err)
	}
	users := newAccounts(t)
	opts := Options{Router: routing.NewRouter(tb), Connectors: spec.connectors, Messages: spec.msgs, Accounts: users,
		IDs: ids, Logger: zerolog.Nop()}
	if spec.mod != nil {
		spec.mod(&opts)
	}
	dopts := delivery.Options{Holds: spec.holds,
		Settings: delivery.Settings{RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond}}
	if spec.dmod != nil {
		spec.dmod(&dopts)
	}
	h, dl := newPaths(t, opts, dopts)
	e := &env{hub: h, dl: dl, accounts: users, msgs: spec.msgs, holds: spec.holds}
	eo := engine.Options{
		Addr: "127.0.0.1:0", EventLoops: 2, Authenticator: h.Authenticator(), Submit: h, Manage: h, Binds: dl, Deliveries: dl,
		IDs: ids, Logger: zerolog.Nop(), ResponseTimeout: 2 * time.Second, DeliverAttempts: 1,
	}
	if spec.engineMod != nil {
		spec.engineMod(&eo)
	}
	srv, err := engine.New(eo)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	dl.Attach(srv)
	if err := dl.Start(); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	e.srv, e.addr = srv, srv.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = h.Stop(ctx)
		dl.Stop(ctx)
	})
	return e
}

// stats returns the hub's and the delivery side's counters together.
func (e *env) stats() bothStats {
	h, d := e.hub.Stats(), e.dl.Stats()
	return bothStats{hubStats: h, dlStats: d, StoreErrors: h.StoreErrors + d.StoreErrors}
}

// addUser adds a user the engine binds (password testPassword) and returns
// one bind of it, whose user record the sessions share.
func (e *env) addUser(t testing.TB, id string, spec userSpec) principal {
	t.Helper()
	return bindUser(t, e.accounts, id, spec)
}

// esme is a test client that keeps deliver_sm arriving while it waits for
// something else.
type esme struct {
	*smpptest.Client
	t        testing.TB
	delivers []frame
}

type frame struct {
	h    codec.Header
	body []byte
}

func (e *env) bind(t testing.TB, kind codec.CommandID, user string) *esme {
	t.Helper()
	c, err := smpptest.Dial(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	h, _, err := c.Bind(kind, user, "pw", codec.InterfaceVersion34)
	if err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind %s: %v %v", user, h.Status, err)
	}
	return &esme{Client: c, t: t}
}

// request sends a PDU built by appendFn and returns the response with seq.
func (c *esme) request(id codec.CommandID, appendFn func([]byte, codec.Header) ([]byte, error)) frame {
	c.t.Helper()
	seq := c.NextSeq()
	b, err := appendFn(nil, codec.Header{CommandID: id, Sequence: seq})
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.Write(b); err != nil {
		c.t.Fatal(err)
	}
	for {
		f := c.read()
		if f.h.CommandID == codec.DeliverSMID {
			c.delivers = append(c.delivers, f)
			continue
		}
		if f.h.Sequence != seq || f.h.CommandID != id.Response() {
			c.t.Fatalf("got %v seq %d, want %v seq %d", f.h.CommandID, f.h.Sequence, id.Response(), seq)
		}
		return f
	}
}

func (c *esme) read() frame {
	c.t.Helper()
	h, b, err := c.ReadFrame(wait)
	if err != nil {
		c.t.Fatal(err)
	}
	return frame{h: h, body: b[codec.HeaderLen:]}
}

// submit sends submit_sm and returns the status and message id.
func (c *esme) submit(p *codec.SM) (codec.Status, string) {
	c.t.Helper()
	f := c.request(codec.SubmitSMID, p.Append)
	var r codec.SubmitSMResp
	if err := r.Decode(f.body); err != nil {
		c.t.Fatal(err)
	}
	return f.h.Status, string(r.MessageID)
}

// deliver waits for the next deliver_sm and answers it with st.
func (c *esme) deliver(st codec.Status) *codec.SM {
	c.t.Helper()
	var f frame
	if len(c.delivers) > 0 {
		f, c.delivers = c.delivers[0], c.delivers[1:]
	} else {
		for f = c.read(); f.h.CommandID != codec.DeliverSMID; f = c.read() {
			c.t.Fatalf("unexpected %v while waiting for deliver_sm", f.h.CommandID)
		}
	}
	p := new(codec.SM)
	if err := p.Decode(f.body); err != nil {
		c.t.Fatal(err)
	}
	var r codec.DeliverSMResp
	b, _ := r.Append(nil, codec.Header{CommandID: codec.DeliverSMRespID, Status: st, Sequence: f.h.Sequence})
	if err := c.Write(b); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// noDeliver checks that no deliver_sm arrives within d.
func (c *esme) noDeliver(d time.Duration) {
	c.t.Helper()
	if len(c.delivers) > 0 {
		c.t.Fatalf("unexpected deliver_sm queued")
	}
	h, _, err := c.ReadFrame(d)
	if err == nil {
		c.t.Fatalf("unexpected %v", h.CommandID)
	}
}

// chanConn is an in-test upstream: a bounded channel and one worker that
// accepts each message and, when its ESME asked, reports it delivered. With
// hold set the worker waits until release is closed.
type chanConn struct {
	name   string
	ch     chan *msg.Message
	sink   connector.Sink
	down   bool
	state  msg.State // receipt state; 0 = accept without a receipt
	refuse uint32    // non-zero: refuse every message permanently with this status
	// waitRoom > 0 makes QueueFull true while fewer slots than that are
	// free, so sessions wait for the worker as they do for a
	// connector.Runtime. At least the number of goroutines that submit (the
	// event loops): a Submit after a QueueFull that saw room then always
	// finds it, where an exact check could race another loop to the last
	// slot and refuse.
	waitRoom int
	release  chan struct{}
	quit     chan struct{}
	done     chan struct{}
}

func newChanConn(name string, size int, state msg.State) *chanConn {
	return &chanConn{name: name, ch: make(chan *msg.Message, size), state: state,
		quit: make(chan struct{}), done: make(chan struct{})}
}

func (c *chanConn) Name() string           { return c.name }
func (c *chanConn) Up() bool               { return !c.down }
func (c *chanConn) Stats() connector.Stats { return connector.Stats{Queued: len(c.ch)} }
func (c *chanConn) Caps() connector.Caps   { return connector.Caps{} }
func (c *chanConn) Help()                  {}

// QueueFull is false without waitRoom: a full chanConn refuses at once,
// sessions never wait.
func (c *chanConn) QueueFull() bool { return c.waitRoom > 0 && cap(c.ch)-len(c.ch) < c.waitRoom }

func (c *chanConn) SubmitQuiet(m *msg.Message) bool { return c.Submit(m) }

func (c *chanConn) CancelUpstream(msg.ID, *codec.CancelSM, connector.UpstreamDone) bool { return false }
func (c *chanConn) ReplaceUpstream(msg.ID, *codec.ReplaceSM, connector.UpstreamDone) bool {
	return false
}

func (c *chanConn) Submit(m *msg.Message) bool {
	select {
	case c.ch <- m:
		return true
	default:
		return false
	}
}

func (c *chanConn) Start(s connector.Sink) error {
	c.sink = s
	go c.run()
	return nil
}

func (c *chanConn) run() {
	defer close(c.done)
	if c.release != nil {
		select {
		case <-c.release:
		case <-c.quit:
			return
		}
	}
	for {
		select {
		case <-c.quit:
			return
		case m := <-c.ch:
			c.handle(m)
		}
	}
}

func (c *chanConn) handle(m *msg.Message) {
	if !m.Claim() {
		c.sink.Failed(m, 0, msg.StateDeleted)
		m.Release()
		return
	}
	if c.refuse != 0 {
		c.sink.Failed(m, c.refuse, msg.StateRejected)
		m.Release()
		return
	}
	id, reg := m.ID, m.RegisteredDelivery
	c.sink.Accepted(m, nil)
	m.Release()
	if c.state != 0 && reg != 0 {
		c.sink.Receipt(&msg.Receipt{ID: id, State: c.state, Done: time.Now().UnixNano()})
	}
}

func (c *chanConn) Stop(ctx context.Context) error {
	close(c.quit)
	<-c.done
	for {
		select {
		case m := <-c.ch:
			c.sink.Failed(m, connector.StatusShutdown, msg.StateUnknown)
			m.Release()
		default:
			return nil
		}
	}
}

// startAllocEnv is the allocation test's system: one user, one connector.
func startAllocEnv(t testing.TB) *env {
	st := newMemStore()
	up := newChanConn("up", 4096, 0)
	e := startEnv(t, envSpec{routes: defaultRoutes("up"), msgs: st, holds: st, connectors: []connector.Connector{up},
		engineMod: func(o *engine.Options) {
			o.EnquireLinkInterval, o.InactivityTimeout = time.Hour, time.Hour
			// submit_sm_resp leaves when the message is queued, so the
			// ESMEs' windows do not bound the queue: a worker starved of
			// CPU lets it fill. The sessions then wait for room, as in
			// production, for as long as a loaded machine may starve it.
			up.waitRoom, o.QueueFullWait = o.EventLoops, 30*time.Second
		}})
	e.addUser(t, "alice", userSpec{})
	return e
}
