package flow

import (
	"sync/atomic"
)

// Stats are the hub's counters since New (HeldNow is a gauge).
type Stats struct {
	SubmitsAccepted   uint64              // MT messages queued (submit_multi counts each destination)
	Refused           [numRefusals]uint64 // refusals by reason (index: Refusal)
	QueueFull         uint64              // messages refused because every ring was full
	Failovers         uint64              // messages queued on a failover connector
	ReceiptsGenerated uint64              // receipt deliver_sm built
	ReceiptsDelivered uint64              // receipts acknowledged ESME_ROK
	ReceiptsUnknown   uint64              // connector receipts for ids no longer stored
	MODelivered       uint64              // MO acknowledged ESME_ROK
	MOHeld            uint64              // MO put on hold
	MOExpired         uint64              // MO dropped after HoldLifetime (held or retrying)
	MOUnroutable      uint64              // MO with no route or an unknown user
	MOIncomplete      uint64              // reassembly sets dropped incomplete
	ReceiptsHeld      uint64              // receipts put on hold
	ReceiptsExpired   uint64              // receipts dropped after HoldLifetime
	DeliveriesRetried uint64              // deliver_sm sent again after an error or timeout
	DeliveriesWaited  uint64              // times a receipt or MO waited for room at a busy ESME (back-pressure)
	WaitingNow        int                 // receipts and MO waiting for room now
	DeliveriesFailed  uint64              // deliver_sm refused permanently (ESME_RX_P_APPN) or not encodable
	HeldFull          uint64              // items dropped because storage.Holds was full or failed
	StoreErrors       uint64              // store writes that failed (the record, state, upstream id or held item named in the log)
	WaitingFull       uint64              // items sent to the hold store because MaxWaiting items already waited for busy ESMEs
	Refunds           uint64              // charges given back (upstream refusal, cancel, full rings)
	HeldNow           int                 // items held in storage now (leased ones on their way to a receiver included)
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
		SubmitsAccepted:   c.accepted.Load(),
		QueueFull:         c.queueFull.Load(),
		Failovers:         c.failovers.Load(),
		ReceiptsGenerated: d.ReceiptsGenerated,
		ReceiptsDelivered: d.ReceiptsDelivered,
		ReceiptsUnknown:   d.ReceiptsUnknown,
		MODelivered:       d.MODelivered,
		MOHeld:            d.MOHeld,
		MOExpired:         d.MOExpired,
		MOUnroutable:      d.MOUnroutable,
		MOIncomplete:      d.MOIncomplete,
		ReceiptsHeld:      d.ReceiptsHeld,
		ReceiptsExpired:   d.ReceiptsExpired,
		DeliveriesRetried: d.DeliveriesRetried,
		DeliveriesWaited:  d.DeliveriesWaited,
		DeliveriesFailed:  d.DeliveriesFailed,
		HeldFull:          d.HeldFull,
		StoreErrors:       c.storeErrors.Load() + d.StoreErrors,
		WaitingFull:       d.WaitingFull,
		Refunds:           c.refunds.Load(),
		HeldNow:           d.HeldNow,
		WaitingNow:        d.WaitingNow,
	}
	for i := range s.Refused {
		s.Refused[i] = c.refused[i].Load()
	}
	return s
}
