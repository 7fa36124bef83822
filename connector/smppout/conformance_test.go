package smppout

import (
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/connectortest"
	"github.com/smppd/smppd/internal/smsctest"
)

// The SMPP client passes the connector conformance suite against an
// in-process SMSC on loopback.
func TestConformance(t *testing.T) {
	connectortest.Run(t, connectortest.Kind{Name: "smpp", New: conformanceSMPP})
}

// conformanceSMPP starts an SMSC that behaves as the case asks (a stalled
// one holds every submit_sm_resp) and a connector bound to it.
func conformanceSMPP(t *testing.T, name string, u connectortest.Upstream) connectortest.Target {
	act := smsctest.Action{Delay: u.Delay, Hold: u.Stall, Receipt: smsctest.Receipt{Send: u.Receipts}}
	srv, err := smsctest.Start(smsctest.Options{SystemID: "up", Password: "secret", Default: act})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	c, err := New(Options{Name: name, ID: 1, Host: srv.Host(), Port: srv.Port(), SystemID: "up", Password: "secret",
		Queue: u.Queue, Window: 8, IDMap: newMapIDs(), ResponseTimeout: 5 * time.Second,
		ReconnectMin: 5 * time.Millisecond, ReconnectMax: 50 * time.Millisecond,
		RetryMin: 2 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return connectortest.Target{Conn: c, MO: func(t *testing.T, _ connector.Connector) (string, string) {
		if err := srv.DeliverMO(smsctest.MO{Source: "4915550001", Dest: "4800", ShortMessage: []byte("hello")}); err != nil {
			t.Fatal(err)
		}
		return "4915550001", "4800"
	}}
}
