// Package sim is the embedded default upstream: a simulated SMSC inside the
// process. It accepts every message after a latency, reports a final
// receipt after a delay with a configured mix of outcomes, and echoes an MO
// back for destinations with a configured prefix.
//
// # Message path
//
// Submit pushes onto the connector.Runtime's lock-free queue (never blocks,
// allocates nothing). The Runtime's worker takes batches off it and hands
// them to the simulator's driver, which, for each message:
//
//   - Claims it; a message cancelled while queued is reported
//     Sink.Failed(m, 0, StateDeleted).
//   - Works out when the simulated SMSC accepts it: due = max(Schedule, the
//     time it came off the queue) + Latency. A message whose validity ends
//     (Expires, when not 0) at or before due is reported Sink.Failed(m, 0,
//     StateExpired) once that time has come.
//   - Holds it until due: while it waits for Latency it stays claimed (it is
//     "upstream"); while it waits for a future Schedule it is Requeued, so
//     cancel_sm and replace_sm still act on it, and re-Claimed when due (a
//     replace that moved the schedule is honoured). A cancelled scheduled
//     message is reported when its time comes, not at the cancel.
//   - Sink.Accepted(m, our id as 16 hex digits), then, with Intermediate set
//     and registered_delivery & 0x10, an ENROUTE intermediate Sink.Receipt;
//     then m is released and, when its destination matches a prefix, the MO
//     echo goes to Sink.MO (Inbound.Connector = the simulator's name; its
//     views are worker scratch buffers, valid during the call).
//
// # Receipts
//
// The outcome is drawn at acceptance from Options.Outcomes with a seeded
// PRNG and travels with Sink.Accepted (Message.FinalState, FinalErr,
// FinalAt = acceptance + ReceiptDelay). A message whose registered_delivery
// asks for a final receipt (low two bits not 0) then gets its final
// Sink.Receipt ReceiptDelay after its acceptance (the flow hub decides
// whether that outcome is one the ESME wants); the others get none, the
// sink records the decided state instead.
// Since the delay is the same for every message, pending receipts form a
// FIFO of 24-byte entries (id, due, outcome) in a growing ring: no timer and
// no allocation per message. The FIFO is bounded by MaxPending; when it is
// full the oldest receipt is reported early, and counted.
//
// # Counters
//
// Stats.Submitted counts messages taken off the queue; each is still held
// or got exactly one of Accepted, Expired, Counters.Deleted or
// Counters.Shutdown. Stats.Refused
// stays 0: the simulator never refuses a submit_sm, and the UNDELIV,
// EXPIRED and REJECTD outcomes are receipts after an acceptance, not
// refusals (Counters.Outcomes counts them). Stats.Expired counts messages
// whose validity ended before acceptance (Sink.Failed), not EXPIRED
// receipts. Stats.Receipts counts every Sink.Receipt, intermediate ones
// included (also in Counters.Intermediate).
//
// # Stop
//
// The connector.Runtime runs the simulator: Stop closes the gate (Submit
// returns false), then the worker goes on as before: it accepts what is
// queued or held as each comes due and emits receipts as they fall due,
// until nothing is left or ctx ends. At ctx end the messages still queued
// or held are abandoned (Sink.Failed with StateUnknown and StatusShutdown;
// StateDeleted if cancelled, StateExpired if their validity has ended),
// and the receipts still pending are emitted at once, Done = the stop
// time: their final states were decided at acceptance, so reporting them
// beats leaving the records ENROUTE.
//
// # Goroutines
//
// The simulator declares connector.Caps.Helped: its steps are short and
// never block, so the event loops SubmitQuiet and, once their answers are
// written, Help: a loop runs a bounded step on its own goroutine when the
// worker is idle, so the messages stay in the cache of the core that
// received them and the worker sleeps through steady traffic. Sink calls
// come from whichever goroutine holds the Runtime's lock: never two from
// one simulator at once.
package sim

import (
	"math/rand/v2"
	"sync/atomic"

	"github.com/smppd/smppd/connector"
)

// Connector is one simulated SMSC: a connector.Runtime (the whole
// connector.Connector surface) around the simulator's driver. Build it
// with New.
type Connector struct {
	*connector.Runtime
	w   *worker
	set settings

	// Written by the driver only. Each accepted message counts one
	// outcome: at acceptance when it wants no final receipt, else when its
	// receipt goes, so accepted minus outcomes is what is pending.
	intermediate, early atomic.Uint64
	outcomes            outcomeCounts
}

var _ connector.Connector = (*Connector)(nil)

// Counters are the simulator's own counters, beside connector.Stats.
type Counters struct {
	Full          uint64              // Submit returned false: queue full
	Deleted       uint64              // cancelled while queued: Failed(StateDeleted)
	Shutdown      uint64              // still held at the end of Stop: Failed(StateUnknown)
	Intermediate  uint64              // ENROUTE intermediate receipts
	EarlyReceipts uint64              // reported before ReceiptDelay: MaxPending reached
	Outcomes      [NumOutcomes]uint64 // outcomes drawn at acceptance, receipt or not
	Held          int                 // messages waiting for Latency or a schedule
	Pending       int                 // final receipts waiting for ReceiptDelay
}

// New validates opts and builds a stopped simulator named name (the
// routing table's connector name, and Inbound.Connector of its MO).
func New(name string, opts Options) (*Connector, error) {
	if name == "" {
		return nil, ErrOptions
	}
	set, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if set.seed == 0 {
		set.seed = rand.Uint64()
	}
	c := &Connector{set: set}
	c.w = newWorker(c, 0)
	rt, err := connector.New(connector.Options{Name: name, Queue: set.queue, Caps: connector.Caps{Helped: true},
		Clock: set.clock, Manual: opts.Manual}, c.w)
	if err != nil {
		return nil, err
	}
	c.Runtime, c.w.rt = rt, rt
	c.w.setHold(rt.Cap())
	return c, nil
}

// Poke makes the worker read the clock again and act on whatever is due
// now. Tests and tools that drive an injected Options.Clock call it after
// moving the clock (the worker also wakes on its own, on a real timer set
// from the clock's readings). Any goroutine; never blocks.
func (c *Connector) Poke() { c.Wake() }

// Counters returns a snapshot of the simulator's own counters.
func (c *Connector) Counters() Counters {
	var k Counters
	told := uint64(0)
	for i := range k.Outcomes {
		k.Outcomes[i] = c.outcomes.load(Outcome(i))
		told += k.Outcomes[i]
	}
	// Read after the outcomes: a message's outcome is counted after its
	// acceptance, so this cannot count fewer.
	st := c.Stats()
	k.Full, k.Deleted, k.Shutdown = st.Full, st.Deleted, st.Shutdown
	k.Intermediate, k.EarlyReceipts = c.intermediate.Load(), c.early.Load()
	k.Held = c.Held()
	k.Pending = int(st.Accepted - told)
	return k
}
