package flow

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/routing"
)

func newSim(t testing.TB, name string, latency time.Duration) *sim.Connector {
	t.Helper()
	c, err := sim.New(name, sim.Options{Latency: latency, ReceiptDelay: time.Hour, Queue: 64})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStopStartConnector: a stopped connector reports what it held as
// failed (refund, receipt), routing fails over around it while it is down,
// and StartConnector brings up a fresh instance from the factory.
func TestStopStartConnector(t *testing.T) {
	st := newMemStore()
	// The first instance holds every message for an hour: still queued at Stop.
	a := connector.NewRestartable("sim", newSim(t, "a", time.Hour), func() (connector.Connector, error) {
		return newSim(t, "a", 0), nil
	})
	b := newSim(t, "b", 0)
	routes := routing.Config{MT: []routing.MTRouteConfig{{Name: "fo", Kind: "failover", Connectors: []string{"a", "b"}, Rate: 1}}}
	e := startEnv(t, envSpec{routes: routes, msgs: st, holds: st, connectors: []connector.Connector{a, b}})
	alice := e.addUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000)}})
	balance := func() int64 { return alice.User().Limits.Credit().Balance().Micros() }
	c := e.bind(t, codec.BindTransceiverID, "alice")

	p := sm("1", "2", "held")
	p.RegisteredDelivery = 1
	status, id := c.submit(p)
	wantStatus(t, status, codec.StatusOK)
	eventually(t, "held by a", func() bool { return e.hub.Connectors()[0].Stats.Queued == 1 })
	if b := balance(); b != 9_000_000 {
		t.Fatalf("balance after the charge: %d", b)
	}
	info := e.hub.Connectors()
	if info[0].Name != "a" || info[0].Kind != "sim" || !info[0].Up || !info[0].Restartable || info[0].Stopped ||
		info[1].Name != "b" || info[1].Restartable || !info[1].Up {
		t.Fatalf("connectors before stop: %+v", info)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	drained, err := e.hub.StopConnector(ctx, "a")
	cancel()
	if err != nil || drained {
		t.Fatalf("stop: drained %v err %v (the held message cannot go up in 50ms)", drained, err)
	}
	d := c.deliver(codec.StatusOK)
	r, err := receipt.Parse(d.ShortMessage)
	if err != nil || string(r.ID) != id || r.Stat != receipt.StatUnknown {
		t.Fatalf("receipt after stop: %q %v", d.ShortMessage, err)
	}
	eventually(t, "refund", func() bool { return e.stats().Refunds == 1 && balance() == 10_000_000 })
	if info := e.hub.Connectors()[0]; info.Up || !info.Stopped {
		t.Fatalf("a after stop: %+v", info)
	}

	status, _ = c.submit(sm("1", "2", "to b"))
	wantStatus(t, status, codec.StatusOK)
	eventually(t, "accepted by b", func() bool { return e.hub.Connectors()[1].Stats.Accepted == 1 })

	if _, err := e.hub.StopConnector(context.Background(), "a"); !errors.Is(err, ErrConnectorStopped) {
		t.Errorf("second stop: %v", err)
	}
	if _, err := e.hub.StopConnector(context.Background(), "b"); !errors.Is(err, ErrNotRestartable) {
		t.Errorf("stop of a plain connector: %v", err)
	}
	if err := e.hub.StartConnector("nope"); !errors.Is(err, ErrUnknownConnector) {
		t.Errorf("start of an unknown connector: %v", err)
	}

	if err := e.hub.StartConnector("a"); err != nil {
		t.Fatal(err)
	}
	if err := e.hub.StartConnector("a"); !errors.Is(err, ErrConnectorRunning) {
		t.Errorf("second start: %v", err)
	}
	if info := e.hub.Connectors()[0]; !info.Up || info.Stopped || info.Stats.Queued != 0 {
		t.Fatalf("a after start: %+v", info)
	}
	status, _ = c.submit(sm("1", "2", "to the new a"))
	wantStatus(t, status, codec.StatusOK)
	eventually(t, "accepted by the new a", func() bool { return e.hub.Connectors()[0].Stats.Accepted == 1 })
}

// TestRestartableFactoryErrors: a failing or misnamed factory leaves the
// connector stopped.
func TestRestartableFactoryErrors(t *testing.T) {
	st := newMemStore()
	fail := errors.New("config gone")
	var build connector.Factory = func() (connector.Connector, error) { return nil, fail }
	a := connector.NewRestartable("sim", newSim(t, "a", 0), func() (connector.Connector, error) { return build() })
	e := startEnv(t, envSpec{routes: defaultRoutes("a"), msgs: st, holds: st, connectors: []connector.Connector{a}})
	if _, err := e.hub.StopConnector(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if err := e.hub.StartConnector("a"); !errors.Is(err, fail) {
		t.Fatalf("factory error: %v", err)
	}
	build = func() (connector.Connector, error) { return newSim(t, "other", 0), nil }
	if err := e.hub.StartConnector("a"); err == nil {
		t.Fatal("a factory building another name was accepted")
	}
	if info := e.hub.Connectors()[0]; info.Up || !info.Stopped {
		t.Fatalf("after failed starts: %+v", info)
	}
}
