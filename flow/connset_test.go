package flow

import (
	"testing"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

// swapRoutes installs a table over connector names by id ("" = vacant).
func swapRoutes(t *testing.T, th *testHub, names []string, mt routing.MTRouteConfig) {
	t.Helper()
	tb, err := routing.Compile(routing.Config{Connectors: names, MT: []routing.MTRouteConfig{mt},
		MO: []routing.MORouteConfig{{Name: "mo", User: "alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	th.router.Swap(tb)
}

// TestRemoveConnectorRoutesItsQueueAgain: a message a removed connector
// gives back goes to the connector the routes in force name, same id and
// charge, its record naming the new connector; with no route left it
// fails UNDELIV with its receipt. A removed id is vacant: nothing is
// routed to it and the operator's list leaves it out.
func TestRemoveConnectorRoutesItsQueueAgain(t *testing.T) {
	th := newHub(t, hubSpec{conns: 2})
	p := newUser(t, "alice", userSpec{receipts: true})
	m, id := submitted(t, th, p, 1, "moved")

	swapRoutes(t, th, []string{"", "b"}, routing.MTRouteConfig{Name: "all", Kind: "default", Connectors: []string{"b"}})
	if _, err := th.RemoveConnector(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	th.Failed(m, connector.StatusShutdown, msg.StateUnknown) // a's queue comes back
	m.Release()
	got := th.conns[1].pop(t)
	if got.ID != id || got.Connector != 1 || got.Route != "b" || string(got.ShortMessage) != "moved" {
		t.Fatalf("moved message: id %v connector %d route %q text %q", got.ID, got.Connector, got.Route, got.ShortMessage)
	}
	if rec := th.store.record(t, id); rec.Connector != 1 || rec.State.Final() {
		t.Fatalf("record after the move: %+v", rec)
	}
	if s := th.Stats(); s.Rerouted != 1 || s.Refunds != 0 {
		t.Fatalf("stats: rerouted %d refunds %d", s.Rerouted, s.Refunds)
	}
	if infos := th.Connectors(); len(infos) != 1 || infos[0].Name != "b" || infos[0].ID != 1 {
		t.Fatalf("connectors after the removal: %+v", infos)
	}
	if _, err := th.RemoveConnector(t.Context(), 0); err != ErrConnectorVacant {
		t.Fatalf("removing a vacant id: %v", err)
	}

	// No route left for b's message once b goes too.
	swapRoutes(t, th, []string{"", "b"}, routing.MTRouteConfig{Name: "other", Kind: "static", Connectors: []string{"b"},
		FilterConfig: routing.FilterConfig{DestPrefixes: []string{"999"}}})
	if _, err := th.RemoveConnector(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	th.Failed(got, connector.StatusShutdown, msg.StateUnknown)
	got.Release()
	if rec := th.store.record(t, id); rec.State != msg.StateUndeliverable {
		t.Fatalf("record with no route left: %+v", rec)
	}
	out := th.out.take()
	if len(out) != 1 {
		t.Fatalf("%d deliveries, want the UNDELIV receipt", len(out))
	}
	if v, _ := decodeDeliver(t, out[0]).TLVs.Uint8(codec.TagMessageState); v != uint8(msg.StateUndeliverable) {
		t.Fatalf("receipt state %d", v)
	}
}
