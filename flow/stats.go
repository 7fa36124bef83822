package flow

import (
	"sync/atomic"
	"time"
)

// Stats are the hub's counters since New (the MT direction; the delivery
// side counts receipts and MO).
type Stats struct {
	SubmitsAccepted uint64              // MT messages queued (submit_multi counts each destination)
	Refused         [numRefusals]uint64 // refusals by reason (index: Refusal)
	QueueFull       uint64              // messages refused because every ring was full
	Failovers       uint64              // messages queued on a failover connector
	Refunds         uint64              // charges given back (upstream refusal, cancel, full rings)
	// StoreErrors counts the hub's store calls that failed (the record,
	// state or upstream id is named in the log).
	StoreErrors uint64

	// Durability (Options.Committer, Options.Durable).
	Deferred       uint64 // submit answers that waited for the store's commit
	DeferredNow    int    // of those, waiting now
	DeferredFull   uint64 // submits refused because MaxDeferred answers were waiting
	HandOffWaits   uint64 // answered messages whose connector had no room at the hand-off: held in the hub, offered again (handoff.go)
	KeptAtStop     uint64 // messages a stopping connector still held, kept pending in the store
	Rerouted       uint64 // messages a removed connector gave back, routed again (RemoveConnector)
	Scheduled      uint64 // far-future messages held in the hub until their schedule
	ScheduledNow   int    // messages held in the hub now (scheduled, or re-driven waiting for room)
	Redriven       uint64 // messages sent to their connector again at start (same id)
	RedrivenDup    uint64 // of those, ones the previous run may have sent already (possible duplicates), and due receipts of outcomes decided at acceptance sent again
	RedriveWaiting uint64 // non-final messages at start that an upstream had accepted: waiting for their receipt
	RedriveTime    time.Duration
	// State writes of accepted messages the store refused (its device
	// full or failing): waiting in memory for it now, written later, and
	// lost because too many waited (unkept.go).
	UnkeptNow  int
	UnkeptKept uint64
	UnkeptLost uint64
	// MOPolicyDropped: MO the traffic policy refused (dropped, answered
	// as kept to their connector).
	MOPolicyDropped uint64
}

// RefusedBy returns the refusal count for r.
func (s Stats) RefusedBy(r Refusal) uint64 {
	if r < numRefusals {
		return s.Refused[r]
	}
	return 0
}

type counters struct {
	accepted                       pCells // a: messages queued, per P (pcount.go)
	queueFull, failovers           atomic.Uint64
	refused                        [numRefusals]atomic.Uint64
	refunds, storeErrors           atomic.Uint64
	kept                           atomic.Uint64
	movedOff                       atomic.Uint64 // routed again off a removed connector (connset.go)
	moPolicyDropped                atomic.Uint64 // MO the policy refused (policy.go)
	redriven, redrivenDup, waiting atomic.Uint64
	redriveTime                    atomic.Int64
}

// init makes the per-P cells of the counters counted per message.
func (c *counters) init() { c.accepted = newPCells() }

// Stats returns a snapshot of the counters.
func (h *Hub) Stats() Stats {
	c := &h.stats
	accepted, _ := c.accepted.load()
	s := Stats{
		SubmitsAccepted: accepted,
		QueueFull:       c.queueFull.Load(),
		Failovers:       c.failovers.Load(),
		Refunds:         c.refunds.Load(),
		StoreErrors:     c.storeErrors.Load(),

		Deferred:       h.acks.deferredTotal(),
		DeferredNow:    h.acks.waiting(),
		DeferredFull:   h.acks.full.Load(),
		HandOffWaits:   h.acks.overflow.Load(),
		KeptAtStop:     c.kept.Load(),
		Rerouted:       c.movedOff.Load(),
		Scheduled:      h.later.scheduled.Load(),
		ScheduledNow:   h.later.len(),
		Redriven:       c.redriven.Load(),
		RedrivenDup:    c.redrivenDup.Load(),
		RedriveWaiting: c.waiting.Load(),
		RedriveTime:    time.Duration(c.redriveTime.Load()),
		UnkeptNow:      int(h.unkept.n.Load()),
		UnkeptKept:     h.unkept.kept.Load(),
		UnkeptLost:     h.unkept.lost.Load(),

		MOPolicyDropped: c.moPolicyDropped.Load(),
	}
	for i := range s.Refused {
		s.Refused[i] = c.refused[i].Load()
	}
	return s
}
