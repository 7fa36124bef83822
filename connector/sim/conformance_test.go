package sim

import (
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/connectortest"
	"github.com/smppd/smppd/msg"
)

// The simulator passes the connector conformance suite.
func TestConformance(t *testing.T) {
	connectortest.Run(t, connectortest.Kind{Name: "sim", New: conformanceSim})
}

// conformanceSim builds a simulator as the case asks: a stalled upstream
// is a latency longer than any case, receipts come at acceptance (else
// 1 ms later, so a drain does not wait for them), and an MO is the echo of
// a message to a 999 number.
func conformanceSim(t *testing.T, name string, u connectortest.Upstream) connectortest.Target {
	o := Options{Queue: u.Queue, Latency: u.Delay, ReceiptDelay: time.Millisecond, MOEchoPrefixes: []string{"999"}}
	if u.Stall {
		o.Latency = time.Hour
	}
	if u.Receipts {
		o.ReceiptDelay = ReceiptsAtOnce
	}
	c, err := New(name, o)
	if err != nil {
		t.Fatal(err)
	}
	return connectortest.Target{Conn: c, MO: func(t *testing.T, c connector.Connector) (string, string) {
		m := msg.NewMessage()
		m.ID = 1 << 40 // outside the suite's ids
		m.Source = append(m.Source[:0], "4915550001"...)
		m.Dest = append(m.Dest[:0], "99912345"...)
		m.ShortMessage = append(m.ShortMessage[:0], "echo"...)
		if !c.Submit(m) {
			t.Fatal("Submit of the echoed message refused")
		}
		return "99912345", "4915550001" // swapped by the echo
	}}
}
