// Package admintest runs smppd's core (internal/coretest: engine, hub and
// delivery side, with an accounts store, simulator connectors and routes)
// behind the admin API on 127.0.0.1, so the admin package and cmd/smppctl
// test against real HTTP and real components. Test code only.
package admintest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/internal/coretest"
	"github.com/smppd/smppd/routing"
)

// Users of a fresh Env: alice (transceiver-capable, balance 100, receipts)
// and bob (disabled). Passwords are "secret" and "bobpw".
const (
	AlicePassword = "secret"
	BobPassword   = "bobpw"
)

// Env is a running core behind the admin API; Bind opens SMPP sessions.
type Env struct {
	*coretest.Core
	URL    string // admin base URL, "http://127.0.0.1:port"
	Users  *accounts.Store
	Router *routing.Router

	mu       sync.Mutex
	saves    [][]accounts.User
	saveErr  error
	routes   routing.Config
	loadErr  error
	Restarts int // factory calls (connector "sim1")
}

// Spec adjusts an Env.
type Spec struct {
	Token  string
	Tokens []admin.Token  // scoped tokens besides Token
	Audit  admin.AuditLog // nil: changes are not audited
	// Messages gives the admin API's message lookup over the running core
	// (a cdr.Lookup on its store); nil: GET /v1/messages answers 503.
	Messages func(c *coretest.Core) admin.MessageLookup
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
	e.Core = coretest.Start(t, coretest.Options{Hub: flow.Options{Router: e.Router,
		Connectors: []connector.Connector{sim1, s2}, Accounts: store}})
	var lookup admin.MessageLookup
	if spec.Messages != nil {
		lookup = spec.Messages(e.Core)
	}
	a := admin.New(admin.Options{Addr: "127.0.0.1:0", Token: spec.Token, MO: e.Deliveries, Sessions: e.Engine, Users: store,
		Connectors: e.Hub, Router: e.Router, Routes: e.routes, LoadRoutes: e.loadRoutes, StopGrace: 2 * time.Second,
		Ready: func() error { return nil }, Tokens: spec.Tokens, Audit: spec.Audit, Messages: lookup, Logger: log})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	e.URL = "http://" + a.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx) // registered after the core's cleanup: runs before it
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
