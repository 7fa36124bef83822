package flow

import (
	"sync/atomic"

	"github.com/smppd/smppd/delivery"
)

// Stats are the hub's counters since New, with the delivery side's embedded
// (MO and receipts: their fields are read through Stats as before).
type Stats struct {
	delivery.Stats
	SubmitsAccepted uint64              // MT messages queued (submit_multi counts each destination)
	Refused         [numRefusals]uint64 // refusals by reason (index: Refusal)
	QueueFull       uint64              // messages refused because every ring was full
	Failovers       uint64              // messages queued on a failover connector
	Refunds         uint64              // charges given back (upstream refusal, cancel, full rings)
	// StoreErrors counts store writes that failed on both sides (the record,
	// state, upstream id or held item is named in the log); it shadows the
	// delivery side's own count.
	StoreErrors uint64
}

// RefusedBy returns the refusal count for r.
func (s Stats) RefusedBy(r Refusal) uint64 {
	if r < numRefusals {
		return s.Refused[r]
	}
	return 0
}

type counters struct {
	accepted, queueFull, failovers atomic.Uint64
	refused                        [numRefusals]atomic.Uint64
	refunds, storeErrors           atomic.Uint64
}

// Stats returns a snapshot of the counters, the delivery side's included.
func (h *Hub) Stats() Stats {
	c := &h.stats
	d := h.dl.Stats()
	s := Stats{
		Stats:           d,
		SubmitsAccepted: c.accepted.Load(),
		QueueFull:       c.queueFull.Load(),
		Failovers:       c.failovers.Load(),
		Refunds:         c.refunds.Load(),
		StoreErrors:     c.storeErrors.Load() + d.StoreErrors,
	}
	for i := range s.Refused {
		s.Refused[i] = c.refused[i].Load()
	}
	return s
}
