package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/internal/coretest"
	"github.com/smppd/smppd/metrics"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage/memory"
)

// wait bounds every wait for an asynchronous outcome; generous because the
// machine is shared. No test asserts on speed.
const wait = 20 * time.Second

// system is smppd as cmd/smppd wires it: accounts, memory storage, the
// simulator, the hub and the engine, with the metrics observers in place
// and the handler on an HTTP server.
type system struct {
	m     *metrics.Metrics
	srv   *engine.Server
	hub   *flow.Hub
	users *accounts.Store
	url   string // the /metrics URL
}

// startSystem runs the system with users alice (password "pw", balance
// 100, route rate 1) and bulk (unlimited, transmitter only), and the
// simulator "sim" answering receipts at once.
func startSystem(t testing.TB) *system {
	t.Helper()
	hash, err := accounts.HashPasswordIter("pw", 1000)
	if err != nil {
		t.Fatal(err)
	}
	users, err := accounts.NewStore([]accounts.User{
		{SystemID: "alice", PasswordHash: hash, Enabled: true, BindTypes: accounts.AllBindTypes, Receipts: true,
			Limits: accounts.UserLimits{Balance: accounts.Micros(100 * accounts.MicrosPerUnit)}},
		{SystemID: "bulk", PasswordHash: hash, Enabled: true, BindTypes: accounts.BindTransmitter},
	}, nil, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.New(memory.Options{MaxRecords: 1 << 18, MaxUpstream: 1 << 10, MaxHeld: 1 << 10, TTL: time.Hour})
	// A small ring bounds the messages alive at once, so the allocation
	// test's warm-up fills the pools whatever the machine's load.
	sc, err := sim.New("sim", sim.Options{ReceiptDelay: sim.ReceiptsAtOnce, Seed: 1, Queue: 1024})
	if err != nil {
		t.Fatal(err)
	}
	conns := []connector.Connector{sc}
	tb, err := routing.Compile(routing.Config{Connectors: []string{"sim"},
		MT: []routing.MTRouteConfig{{Name: "all", Kind: "default", Connectors: []string{"sim"}, Rate: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(metrics.Options{Connectors: []string{"sim"}})
	core := coretest.Start(t, coretest.Options{Store: mem,
		Hub: flow.Options{Router: routing.NewRouter(tb), Connectors: conns, Accounts: users,
			AcceptLatency: m.AcceptLatency(), ReceiptLatency: m.ReceiptLatency()},
		Engine: func(o *engine.Options) {
			o.EnquireLinkInterval, o.InactivityTimeout = time.Hour, time.Hour
			o.SubmitLatency = m.SubmitLatency()
		}})
	m.Attach(metrics.Sources{Engine: core.Engine, Hub: core.Hub, Deliveries: core.Deliveries, Connectors: conns,
		Storage: mem, Accounts: users})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return &system{m: m, srv: core.Engine, hub: core.Hub, users: users, url: hs.URL + "/metrics"}
}

// eventually polls cond until it holds or wait passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
