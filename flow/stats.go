package flow

import "sync/atomic"

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

// Stats returns a snapshot of the counters.
func (h *Hub) Stats() Stats {
	c := &h.stats
	s := Stats{
		SubmitsAccepted: c.accepted.Load(),
		QueueFull:       c.queueFull.Load(),
		Failovers:       c.failovers.Load(),
		Refunds:         c.refunds.Load(),
		StoreErrors:     c.storeErrors.Load(),
	}
	for i := range s.Refused {
		s.Refused[i] = c.refused[i].Load()
	}
	return s
}
