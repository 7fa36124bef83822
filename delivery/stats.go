package delivery

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Stats are the service's counters since New (HeldNow and WaitingNow are
// gauges).
type Stats struct {
	ReceiptsGenerated uint64 // receipt deliver_sm built
	ReceiptsDelivered uint64 // receipts acknowledged ESME_ROK
	ReceiptsUnknown   uint64 // connector receipts for ids no longer stored
	MODelivered       uint64 // MO acknowledged ESME_ROK
	MOHeld            uint64 // MO put on hold
	MOExpired         uint64 // MO dropped after HoldLifetime (held or retrying)
	MOUnroutable      uint64 // MO with no route or an unknown user
	MOIncomplete      uint64 // reassembly sets dropped incomplete
	ReceiptsHeld      uint64 // receipts put on hold
	ReceiptsExpired   uint64 // receipts dropped after HoldLifetime
	DeliveriesRetried uint64 // deliver_sm sent again after an error or timeout
	DeliveriesWaited  uint64 // times a receipt or MO waited for room at a busy ESME (back-pressure)
	WaitingNow        int    // receipts and MO waiting for room now
	DeliveriesFailed  uint64 // deliver_sm refused permanently (ESME_RX_P_APPN) or not encodable
	HeldFull          uint64 // items storage.Holds refused (full or failing) before they were acknowledged: refused to their source
	StoreErrors       uint64 // hold store and record calls that failed (named in the log)
	WaitingFull       uint64 // items sent to the hold store because MaxWaiting items already waited for busy ESMEs
	WaitingOver       uint64 // of those, acknowledged items the hold store refused: they waited in memory past MaxWaiting
	BackloggedNow     int    // users whose pending receipts and MO passed half their share: MT asking receipts refused (Options.Backlog)
	BacklogOn         uint64 // times a user's backlog switched MT admission off
	HeldNow           int    // items held in storage now (leased ones on their way to a receiver included)
	ReceiptsLate      uint64 // receipts for messages already final: the first final state won, nothing sent
	DeadMO            uint64 // connector MO with no route or user (or not encodable), kept as dead letters
	DeadReceipts      uint64 // receipts for ids not ours, kept as dead letters
	RetryOverflow     uint64 // retries moved to the hold store (the user's share or MaxWaiting reached)
	RetryingNow       int    // deliveries waiting in memory for a retry now
	// Receipts the store could not keep when they came (its device full
	// or failing) and whose source does not send them again: waiting in
	// memory for the store now, taken by it later, and lost because
	// MaxWaiting already waited (unkept.go).
	UnkeptNow  int
	UnkeptKept uint64
	UnkeptLost uint64
}

type counters struct {
	// Receipts generated and delivered and MO delivered: slab.counts.
	rcptUnknown                               atomic.Uint64
	moHeld, moExpired, moUnroutable           atomic.Uint64
	moIncomplete, rcptHeld, rcptExpired       atomic.Uint64
	retried, failedPermanent, heldFull        atomic.Uint64
	waited, waitFull, storeErrors, waitOver   atomic.Uint64
	backlogOn                                 atomic.Uint64
	rcptLate, deadMO, deadReceipts, retryOver atomic.Uint64
	unkept, unkeptKept, unkeptLost            atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (h *Service) Stats() Stats {
	c := &h.stats
	made, rcptDelivered, moDelivered := h.items.counts()
	return Stats{
		ReceiptsGenerated: made,
		ReceiptsDelivered: rcptDelivered,
		ReceiptsUnknown:   c.rcptUnknown.Load(),
		MODelivered:       moDelivered,
		MOHeld:            c.moHeld.Load(),
		MOExpired:         c.moExpired.Load(),
		MOUnroutable:      c.moUnroutable.Load(),
		MOIncomplete:      c.moIncomplete.Load(),
		ReceiptsHeld:      c.rcptHeld.Load(),
		ReceiptsExpired:   c.rcptExpired.Load(),
		DeliveriesRetried: c.retried.Load(),
		DeliveriesWaited:  c.waited.Load(),
		DeliveriesFailed:  c.failedPermanent.Load(),
		HeldFull:          c.heldFull.Load(),
		StoreErrors:       c.storeErrors.Load(),
		WaitingFull:       c.waitFull.Load(),
		WaitingOver:       c.waitOver.Load(),
		BackloggedNow:     int(h.bg.backloggedNow.Load()),
		BacklogOn:         c.backlogOn.Load(),
		HeldNow:           h.holds.Len(),
		WaitingNow:        int(h.bg.waitingNow.Load()),
		ReceiptsLate:      c.rcptLate.Load(),
		DeadMO:            c.deadMO.Load(),
		DeadReceipts:      c.deadReceipts.Load(),
		RetryOverflow:     c.retryOver.Load(),
		RetryingNow:       int(h.bg.retryingNow.Load()),
		UnkeptNow:         int(h.unkeptQ.n.Load()),
		UnkeptKept:        c.unkeptKept.Load(),
		UnkeptLost:        c.unkeptLost.Load(),
	}
}

// noteStore counts and logs (throttled) a store call that failed. nil and
// storage.ErrNotFound pass: a record evicted or past its lifetime is no
// failure of the store. op names the call in the log line: state, read,
// hold, release, ack, lease, expire.
func (h *Service) noteStore(err error, op string, id msg.ID) {
	if err == nil || errors.Is(err, storage.ErrNotFound) {
		return
	}
	h.stats.storeErrors.Add(1)
	if e := h.event(&h.warn.store, zerologError); e != nil {
		e.Str("op", op).Stringer("id", id).Err(err).Uint64("store_errors_total", h.stats.storeErrors.Load()).
			Msg("store call failed")
	}
}

// observeSince samples the seconds from receivedNs to atNs (Unix ns) into
// obs[connector], when the caller configured one for that connector. atNs
// is a connector's own reading of the wall clock (0 = none): used as is
// unless the service runs on an injected clock.
func (h *Service) observeSince(obs []Observer, connector int, receivedNs, atNs int64) {
	if connector < 0 || connector >= len(obs) || obs[connector] == nil || receivedNs == 0 {
		return
	}
	if atNs == 0 || !h.wallClock {
		atNs = h.now().UnixNano()
	}
	obs[connector].Observe(time.Duration(atNs - receivedNs).Seconds())
}
