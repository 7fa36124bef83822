// Package connectortest is the conformance suite every connector kind
// passes: the same cases against each, through the connector.Connector
// surface and a recording Sink. A kind's test calls Run with a Kind that
// builds its connector against the upstream each case asks for:
//
//	func TestConformance(t *testing.T) { connectortest.Run(t, kind) }
//
// Cases: submit, full queue, stop while submitting, drain, restart,
// cancel and replace (declared or refused), receipts and MO through the
// sink, and, for a kind that declares it, the event loops' help.
package connectortest

import (
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
)

// Upstream is what a case needs from the upstream the kind sets up.
type Upstream struct {
	// Queue is the connector's queue capacity.
	Queue int
	// Stall: the upstream takes nothing (no acceptance, no answer) for as
	// long as the connector runs, so the connector's queue fills.
	Stall bool
	// Delay: the upstream accepts each message this long after it was
	// sent (0: at once).
	Delay time.Duration
	// Receipts: the upstream reports a final DELIVERED receipt for every
	// accepted message whose registered_delivery asks for one.
	Receipts bool
}

// Target is one connector built for a case.
type Target struct {
	// Conn is the unstarted connector.
	Conn connector.Connector
	// MO makes the upstream deliver one mobile-originated message and
	// returns the source and destination addresses the Sink must see; nil
	// when the kind receives no MO.
	MO func(t *testing.T, c connector.Connector) (src, dst string)
}

// Kind is what a connector kind gives the suite.
type Kind struct {
	// Name names the kind in failures.
	Name string
	// New builds an unstarted connector named name against an upstream as
	// u asks; the kind cleans its upstream up with t.Cleanup. The suite
	// starts and stops the connector (and calls New again for a restart).
	New func(t *testing.T, name string, u Upstream) Target
}

// Wait bounds every wait of the suite; nothing here measures speed.
const Wait = 10 * time.Second

// Run runs every case against k.
func Run(t *testing.T, k Kind) {
	t.Run("Submit", func(t *testing.T) { testSubmit(t, k) })
	t.Run("FullQueue", func(t *testing.T) { testFullQueue(t, k) })
	t.Run("StopWhileSubmitting", func(t *testing.T) { testStopWhileSubmitting(t, k) })
	t.Run("Drain", func(t *testing.T) { testDrain(t, k) })
	t.Run("Restart", func(t *testing.T) { testRestart(t, k) })
	t.Run("CancelReplace", func(t *testing.T) { testCancelReplace(t, k) })
	t.Run("Receipts", func(t *testing.T) { testReceipts(t, k) })
	t.Run("MO", func(t *testing.T) { testMO(t, k) })
	t.Run("Helped", func(t *testing.T) { testHelped(t, k) })
}
