package flow

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/internal/logthrottle"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

func TestNewChecks(t *testing.T) {
	tb, err := routing.Compile(routing.Config{
		MT:         []routing.MTRouteConfig{{Name: "all", Kind: "default", Connectors: []string{"a"}}},
		Connectors: []string{"a", "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := msg.NewIDGen(0)
	st := newMemStore()
	base := Options{Router: routing.NewRouter(tb), Messages: st, Deliveries: nopDeliveries{}, Accounts: newAccounts(t), IDs: ids,
		Connectors: []connector.Connector{&fakeConn{name: "a"}, &fakeConn{name: "b"}}}
	if _, err := New(base); err != nil {
		t.Fatal(err)
	}
	f := func(name string, mod func(*Options), want string) {
		t.Helper()
		o := base
		mod(&o)
		_, err := New(o)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want %q", name, err, want)
		}
	}
	f("router", func(o *Options) { o.Router = nil }, "Router")
	f("storage", func(o *Options) { o.Messages = nil }, "Messages")
	f("deliveries", func(o *Options) { o.Deliveries = nil }, "Deliveries")
	f("accounts", func(o *Options) { o.Accounts = nil }, "Accounts")
	f("ids", func(o *Options) { o.IDs = nil }, "IDs")
	f("too few connectors", func(o *Options) { o.Connectors = o.Connectors[:1] }, "only 1 connectors")
	f("wrong order", func(o *Options) {
		o.Connectors = []connector.Connector{&fakeConn{name: "b"}, &fakeConn{name: "a"}}
	}, `id 0 is "a"`)
}

// nopDeliveries drops receipts and MO: for tests of New.
type nopDeliveries struct{}

func (nopDeliveries) Receipt(*msg.Receipt) error                              { return nil }
func (nopDeliveries) MO(*msg.Inbound) error                                   { return nil }
func (nopDeliveries) FailedReceipt(*storage.Record, msg.State, uint16, int64) {}

func TestDefaults(t *testing.T) {
	th := newHub(t, hubSpec{mod: func(o *Options) { o.DefaultValidity = 0 }})
	if th.opts.DefaultValidity != DefaultValidity {
		t.Fatalf("defaults %+v", th.opts)
	}
}

// startConn records Start and Stop.
type startConn struct {
	fakeConn
	err     error
	started bool
	stopped bool
}

func (c *startConn) Start(s connector.Sink) error {
	c.started = c.err == nil
	c.sink = s
	return c.err
}

func (c *startConn) Stop(context.Context) error { c.stopped = true; return nil }

func TestStartStop(t *testing.T) {
	tb, _ := routing.Compile(routing.Config{Connectors: []string{"a", "b"}})
	ids, _ := msg.NewIDGen(0)
	st := newMemStore()
	a, b := &startConn{fakeConn: fakeConn{name: "a"}}, &startConn{fakeConn: fakeConn{name: "b"}}
	h, err := New(Options{Router: routing.NewRouter(tb), Messages: st, Deliveries: nopDeliveries{}, Accounts: newAccounts(t), IDs: ids, Connectors: []connector.Connector{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	if !a.started || !b.started || a.sink != h {
		t.Fatal("connectors not started with the hub as sink")
	}
	if err := h.Start(); err == nil {
		t.Fatal("second Start accepted")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Stop(ctx); err != nil || !a.stopped || !b.stopped {
		t.Fatalf("stop: %v", err)
	}

	a2, b2 := &startConn{fakeConn: fakeConn{name: "a"}}, &startConn{fakeConn: fakeConn{name: "b"}, err: errBoom}
	h2, _ := New(Options{Router: routing.NewRouter(tb), Messages: st, Deliveries: nopDeliveries{}, Accounts: newAccounts(t), IDs: ids, Connectors: []connector.Connector{a2, b2}})
	if err := h2.Start(); !errors.Is(err, errBoom) || !a2.stopped {
		t.Fatalf("failed start: %v, first connector stopped %v", err, a2.stopped)
	}
}

func TestRefusalNames(t *testing.T) {
	for r := Refusal(0); r < numRefusals; r++ {
		if r.String() == "" || strings.HasPrefix(r.String(), "refusal(") {
			t.Fatalf("refusal %d has no name", r)
		}
	}
	if Refusal(200).String() != "refusal(200)" {
		t.Fatal(Refusal(200).String())
	}
}

func TestAffinityTable(t *testing.T) {
	var a affinity
	a.init()
	now := time.Date(2025, 1, 1, 0, 0, 30, 0, time.UTC)
	k1 := a.key("alice", []byte("491"), 7)
	k2 := a.key("alice", []byte("491"), 8)
	k3 := a.key("bob", []byte("491"), 7)
	if k1 == k2 || k1 == k3 {
		t.Fatal("keys collide")
	}
	if _, ok := a.get(k1, now); ok {
		t.Fatal("hit on an empty table")
	}
	a.put(k1, 3, now)
	if c, ok := a.get(k1, now.Add(9*time.Minute)); !ok || c != 3 {
		t.Fatalf("get %d %v", c, ok)
	}
	if _, ok := a.get(k1, now.Add(11*time.Minute)); ok {
		t.Fatal("stale entry hit")
	}
	// Another key in the same slot evicts the first.
	other := k1 ^ 1<<40
	a.put(other, 5, now)
	if _, ok := a.get(k1, now); ok {
		t.Fatal("tag not checked")
	}
}

// newLogGate is Options.LogGate as cmd/smppd gives it.
func newLogGate(period time.Duration, burst int) LogGate { return logthrottle.New(period, burst) }

// Every warning gate lets one line through per warnEvery (a gate left out
// of init would write every line).
func TestWarningsOneLinePerPeriod(t *testing.T) {
	var w warnings
	w.init(newLogGate)
	if n, fields := len(w.all()), reflect.TypeFor[warnings]().NumField(); n != fields {
		t.Fatalf("all() lists %d gates, warnings has %d fields", n, fields)
	}
	for i, gp := range w.all() {
		g, ok := (*gp).(*logthrottle.Gate)
		if !ok {
			t.Fatalf("gate %d is %T, not made by Options.LogGate", i, *gp)
		}
		now := int64(1e12)
		if ok, n := g.Allow(now); !ok || n != 0 {
			t.Fatalf("gate %d: first line refused", i)
		}
		for j := range 5 {
			if ok, _ := g.Allow(now + int64(j+1)*int64(time.Second)); ok {
				t.Fatalf("gate %d: line within warnEvery allowed", i)
			}
		}
		if ok, n := g.Allow(now + int64(warnEvery)); !ok || n != 5 {
			t.Fatalf("gate %d after warnEvery: %v, suppressed %d", i, ok, n)
		}
	}
}

// Without Options.LogGate every line at or above the logger's level is
// written, and none below it.
func TestEventWithoutGateWritesEveryLine(t *testing.T) {
	var buf bytes.Buffer
	h := &Hub{log: zerolog.New(&buf).Level(zerolog.WarnLevel)}
	var g LogGate
	for range 3 {
		h.event(&g, zerologWarn).Msg("full")
	}
	if n := strings.Count(buf.String(), `"message":"full"`); n != 3 {
		t.Fatalf("%d lines written, want 3:\n%s", n, buf.String())
	}
	if e := h.event(&g, zerolog.InfoLevel); e != nil {
		t.Fatal("a line below the logger's level got an event")
	}
}

func TestQueueFullIsLoggedAndThrottled(t *testing.T) {
	var logs bytes.Buffer
	th := newHub(t, hubSpec{logWriter: &logs})
	th.conns[0].cap = 1
	p := newUser(t, "alice", userSpec{})
	for range 4 {
		th.submit(p, sm("1", "2", "x"))
	}
	out := logs.String()
	if n := strings.Count(out, "connector queue full"); n != 1 {
		t.Fatalf("%d queue-full lines (want 1, the rest counted):\n%s", n, out)
	}
	if !strings.Contains(out, `"queue_full_total":1`) || !strings.Contains(out, `"level":"warn"`) {
		t.Fatalf("line without counters or level:\n%s", out)
	}
	th.clock.Add(warnEvery)
	th.submit(p, sm("1", "2", "x"))
	if !strings.Contains(logs.String(), `"suppressed":2`) {
		t.Fatalf("suppressed count not reported:\n%s", logs.String())
	}
}

func TestStopFailsQueuedWithRefund(t *testing.T) {
	up := newChanConn("up", 8, 0)
	up.release = make(chan struct{}) // the worker never starts draining
	tb, _ := routing.Compile(routing.Config{
		MT:         []routing.MTRouteConfig{{Name: "paid", Kind: "default", Connectors: []string{"up"}, Rate: 1}},
		Connectors: []string{"up"},
	})
	ids, _ := msg.NewIDGen(0)
	st := newMemStore()
	h, err := New(Options{Router: routing.NewRouter(tb), Messages: st, Deliveries: nopDeliveries{}, Accounts: newAccounts(t), IDs: ids, Connectors: []connector.Connector{up}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	p := newUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(3_000_000)}})
	th := &testHub{Hub: h}
	status, id := th.submit(p, sm("1", "2", "x"))
	wantStatus(t, status, codec.StatusOK)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if b := p.User().Limits.Credit().Balance().Micros(); b != 3_000_000 {
		t.Fatalf("balance %d after stop", b)
	}
	if rec := st.record(t, mustID(t, id)); rec.State != msg.StateUnknown || rec.Err != uint16(connector.StatusShutdown) {
		t.Fatalf("record %+v", rec)
	}
}
