// Package admintest runs smppd's core (engine, accounts store, flow hub
// with simulator connectors, routes) behind the admin API on 127.0.0.1, so
// the admin package and cmd/smppctl test against real HTTP and real
// components. Test code only.
package admintest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage/memory"
)

// Users of a fresh Env: alice (transceiver-capable, balance 100, receipts)
// and bob (disabled). Passwords are "secret" and "bobpw".
const (
	AlicePassword = "secret"
	BobPassword   = "bobpw"
)

// Env is a running core behind the admin API.
type Env struct {
	URL      string // admin base URL, "http://127.0.0.1:port"
	SMPPAddr string
	Engine   *engine.Server
	Hub      *flow.Hub
	Users    *accounts.Store
	Router   *routing.Router

	mu       sync.Mutex
	saves    [][]accounts.User
	saveErr  error
	routes   routing.Config
	loadErr  error
	Restarts int // factory calls (connector "sim1")
}

// Spec adjusts an Env.
type Spec struct {
	Token string
}

// Connectors: "sim1" (restartable) and "sim2" (plain); the MT route
// "main" fails over from sim1 to sim2; MO goes to alice.
var connectorNames = []string{"sim1", "sim2"}

// Routes returns the routes an Env starts with.
func Routes() routing.Config {
	return routing.Config{
		MT: []routing.MTRouteConfig{{Name: "main", Kind: "failover", Connectors: []string{"sim1", "sim2"}, Rate: 0.5,
			FilterConfig: routing.FilterConfig{DestPrefixes: []string{"33", "49"}}},
			{Name: "rest", Kind: "default", Connectors: []string{"sim2"}}},
		MO:         []routing.MORouteConfig{{Name: "to-alice", User: "alice"}},
		Connectors: append([]string(nil), connectorNames...),
	}
}

// Start runs an Env until the test ends.
func Start(t testing.TB, spec Spec) *Env {
	t.Helper()
	e := &Env{routes: Routes()}
	log := zerolog.Nop()
	users := []accounts.User{
		{SystemID: "alice", PasswordHash: hash(t, AlicePassword), Enabled: true, BindTypes: accounts.AllBindTypes, Receipts: true,
			Limits: accounts.UserLimits{Balance: accounts.Micros(100_000_000)}},
		{SystemID: "bob", PasswordHash: hash(t, BobPassword), Enabled: false, BindTypes: accounts.BindTransmitter},
	}
	store, err := accounts.NewStore(users, nil, accounts.Options{Persist: e.persist})
	if err != nil {
		t.Fatal(err)
	}
	e.Users = store
	tb, err := routing.Compile(e.routes)
	if err != nil {
		t.Fatal(err)
	}
	e.Router = routing.NewRouter(tb)
	newSim := func(name string) (connector.Connector, error) {
		return sim.New(name, sim.Options{ReceiptDelay: sim.ReceiptsAtOnce, Queue: 1024})
	}
	s1, err := newSim("sim1")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := newSim("sim2")
	if err != nil {
		t.Fatal(err)
	}
	sim1 := connector.NewRestartable("sim", s1, func() (connector.Connector, error) {
		e.mu.Lock()
		e.Restarts++
		e.mu.Unlock()
		return newSim("sim1")
	})
	mem := memory.New(memory.Options{})
	ids, err := msg.NewIDGen(3)
	if err != nil {
		t.Fatal(err)
	}
	var hub *flow.Hub
	dl, err := delivery.New(delivery.Options{Messages: mem, Holds: mem.Holds(), Routes: flow.MORoutes{Router: e.Router},
		Users:     delivery.UsersFunc(func(id string) bool { _, ok := store.Lookup(id); return ok }),
		Delivered: func(id string, mo bool) { hub.CountDelivered(id, mo) }, Sweep: func(now int64) { hub.Sweep(now) },
		Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	hub, err = flow.New(flow.Options{Router: e.Router, Connectors: []connector.Connector{sim1, s2}, Messages: mem,
		Deliveries: dl, Accounts: store, IDs: ids, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	e.Hub = hub
	srv, err := engine.New(engine.Options{Addr: "127.0.0.1:0", EventLoops: 2, Authenticator: hub.Authenticator(),
		Submit: hub, Manage: hub, Binds: dl, Deliveries: dl, IDs: ids, Logger: log, ResponseTimeout: 5 * time.Second})
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
	if err := hub.Start(); err != nil {
		t.Fatal(err)
	}
	e.Engine, e.SMPPAddr = srv, srv.Addr().String()
	a := admin.New(admin.Options{Addr: "127.0.0.1:0", Token: spec.Token, MO: dl, Sessions: srv, Users: store,
		Connectors: hub, Router: e.Router, Routes: e.routes, LoadRoutes: e.loadRoutes, StopGrace: 2 * time.Second,
		Ready: func() error { return nil }, Logger: log})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	e.URL = "http://" + a.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
		_ = srv.Shutdown(ctx)
		_ = hub.Stop(ctx)
		dl.Stop(ctx)
	})
	return e
}

// hash uses the lowest iteration count: tests bind often.
func hash(t testing.TB, pw string) string {
	t.Helper()
	h, err := accounts.HashPasswordIter(pw, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (e *Env) persist(users []accounts.User) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.saveErr != nil {
		return e.saveErr
	}
	e.saves = append(e.saves, users)
	return nil
}

// LastSave returns the users the last successful save wrote, and how many
// saves there were.
func (e *Env) LastSave() ([]accounts.User, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.saves) == 0 {
		return nil, 0
	}
	return e.saves[len(e.saves)-1], len(e.saves)
}

// FailSaves makes the users file writes fail with err (nil: succeed again).
func (e *Env) FailSaves(err error) {
	e.mu.Lock()
	e.saveErr = err
	e.mu.Unlock()
}

// SetRoutesFile sets what the next routes reload reads; a non-nil err
// makes it fail as an unreadable config would.
func (e *Env) SetRoutesFile(cfg routing.Config, err error) {
	e.mu.Lock()
	e.routes, e.loadErr = cfg, err
	e.mu.Unlock()
}

func (e *Env) loadRoutes() (routing.Config, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.routes, e.loadErr
}

// Bind opens an SMPP session as user; it closes when the test ends.
func (e *Env) Bind(t testing.TB, kind codec.CommandID, user, pw string) *smpptest.Client {
	t.Helper()
	c, err := smpptest.Dial(e.SMPPAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	h, _, err := c.Bind(kind, user, pw, codec.InterfaceVersion34)
	if err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind %s: %v %v", user, h.Status, err)
	}
	return c
}

// Eventually polls cond until it holds or 20 s pass (a bound on waiting,
// not a speed assertion).
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
