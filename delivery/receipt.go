package delivery

import (
	"errors"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/delivery/dlr"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// encoder is the pooled working memory for building one deliver_sm.
type encoder struct {
	sm  codec.SM
	rec storage.Record
	dlr dlr.Encoder
}

func (h *Service) getEncoder() *encoder { return h.encs.Get().(*encoder) }

func (h *Service) putEncoder(e *encoder) {
	e.sm.Reset()
	h.encs.Put(e)
}

// sendReceipt builds the receipt deliver_sm for rec and dispatches it to
// the record's owner. e is the caller's encoder (rec may live in it).
func (h *Service) sendReceipt(e *encoder, rec *storage.Record, ri *dlr.Report) {
	now := h.now()
	it := h.newItem(rec.SystemID, storage.HeldReceipt, rec.ID, now)
	if err := e.receipt(it, rec, ri, h.opts.ReceiptIDDecimal, h.zone); err != nil {
		h.stats.failedPermanent.Add(1)
		if ev := h.event(&h.warn.encode, zerologError); ev != nil {
			ev.Str("system_id", rec.SystemID).Stringer("id", rec.ID).Err(err).Msg("receipt cannot be encoded: dropped")
		}
		h.items.put(it)
		return
	}
	h.stats.rcptGenerated.Add(1)
	h.dispatch(it, now)
}

// receipt encodes the receipt for rec into it (dlr.Encoder.Encode).
func (e *encoder) receipt(it *item, rec *storage.Record, r *dlr.Report, decimal bool, zone *time.Location) error {
	e.dlr.Encode(&e.sm, rec, r, decimal, zone)
	return it.setBody(&e.sm)
}

// FailedReceipt sends the receipt of an MT that ended here (refused
// upstream, expired or cancelled before it went, left queued at a stop)
// when rec's registered_delivery asks for state: rec is its Record, read
// during the call only; done is Unix ns.
func (h *Service) FailedReceipt(rec *storage.Record, state msg.State, code uint16, done int64) {
	if !dlr.Wanted(rec.RegisteredDelivery, state, false) {
		return
	}
	e := h.getEncoder()
	h.sendReceipt(e, rec, &dlr.Report{State: state, Err: code, Done: done})
	h.putEncoder(e)
}

// Receipt implements connector.Sink's half for receipts: the upstream
// reported a state for one of our messages. A final state is recorded; a
// receipt deliver_sm goes to the owner when the Record's
// registered_delivery asks (also when the store failed to record the
// state: counted, logged). A receipt for an id no longer stored is counted
// and dropped.
func (h *Service) Receipt(r *msg.Receipt) {
	e := h.getEncoder()
	done := r.Done
	if r.State.Final() && done == 0 {
		done = h.now().UnixNano()
	}
	var err error
	if r.Intermediate {
		err = h.msgs.Get(r.ID, &e.rec)
	} else if err = h.msgs.Finish(r.ID, r.State, r.Err, done, &e.rec); err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.noteStore(err, "state", r.ID)
		err = h.msgs.Get(r.ID, &e.rec)
	}
	if err != nil {
		h.noteStore(err, "read", r.ID) // a failed read, not an unknown id: counted as a store error too
		h.stats.rcptUnknown.Add(1)
		if ev := h.event(&h.warn.unknownRcpt, zerologWarn); ev != nil {
			ev.Stringer("id", r.ID).Int("connector", r.Connector).
				Uint64("unknown_total", h.stats.rcptUnknown.Load()).
				Msg("receipt for a message id no longer stored: dropped")
		}
		h.putEncoder(e)
		return
	}
	if !r.Intermediate {
		h.observeSince(h.opts.ReceiptLatency, int(e.rec.Connector), e.rec.Submitted, r.At)
	}
	if dlr.Wanted(e.rec.RegisteredDelivery, r.State, r.Intermediate) {
		ri := dlr.Report{State: r.State, Err: r.Err, NetErr: r.NetworkError, HasNetErr: r.HasNetErr, Intermediate: r.Intermediate}
		if !r.Intermediate {
			ri.Done = done
		}
		h.sendReceipt(e, &e.rec, &ri)
	}
	h.putEncoder(e)
}
