package delivery

import (
	"errors"
	"fmt"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/delivery/dlr"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// encoder is the pooled working memory for building one deliver_sm.
type encoder struct {
	sm   codec.SM
	rec  storage.Record
	dlr  dlr.Encoder
	part []byte // a held MO part's body (moparts.go)
}

func (h *Service) getEncoder() *encoder { return h.encs.Get().(*encoder) }

func (h *Service) putEncoder(e *encoder) {
	e.sm.Reset()
	h.encs.Put(e)
}

// sendReceipt builds the receipt deliver_sm for rec and dispatches it to
// the record's owner (kept in the hold store first with Options.Durable:
// an error then means it is not). e is the caller's encoder (rec may live
// in it); at is the connector's reading of the clock (Unix ns; 0 = none).
func (h *Service) sendReceipt(e *encoder, rec *storage.Record, ri *dlr.Report, at int64) error {
	now := h.at(at)
	it := h.buildReceipt(e, rec, ri, now)
	if it == nil {
		return nil
	}
	if h.opts.Durable {
		if err := h.keep(it, &e.dlr); err != nil {
			h.items.put(it)
			return err
		}
	}
	h.dispatch(it, now)
	return nil
}

// buildReceipt encodes the receipt deliver_sm for rec into a fresh item;
// nil when it cannot be encoded (counted, logged: dropped for good).
func (h *Service) buildReceipt(e *encoder, rec *storage.Record, ri *dlr.Report, now time.Time) *item {
	it := h.newItem(rec.SystemID, storage.HeldReceipt, rec.ID, now)
	if err := e.receipt(it, rec, ri, h.opts.ReceiptIDDecimal, h.zone); err != nil {
		h.stats.failedPermanent.Add(1)
		if ev := h.event(&h.warn.encode, zerologError); ev != nil {
			ev.Str("system_id", rec.SystemID).Stringer("id", rec.ID).Err(err).Msg("receipt cannot be encoded: dropped")
		}
		h.items.putUnbuilt(it)
		return nil
	}
	return it
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
	h.pushFinal(rec, state, code, done)
	if !dlr.Wanted(rec.RegisteredDelivery, state, false) {
		return
	}
	e := h.getEncoder()
	if err := h.sendReceipt(e, rec, &dlr.Report{State: state, Err: code, Done: done}, 0); err != nil {
		// Decided here: no one sends it again (unkept.go).
		h.unkept(unkeptFailed, &msg.Receipt{ID: rec.ID, Connector: int(rec.Connector), State: state, Err: code, Done: done}, err)
	}
	h.putEncoder(e)
}

// Receipt implements connector.Sink's half for receipts: the upstream
// reported a state for one of our messages. The first final state is
// recorded; a later one (a duplicate, a late receipt) changes nothing, is
// counted and sends nothing. A receipt deliver_sm goes to the owner when
// the Record's registered_delivery asks. A receipt for an id not stored
// (or none of ours) is kept as a dead letter. An error means the receipt
// could not be kept: with Options.Durable the receipt deliver_sm is held
// before the state is recorded, so an upstream asked to resend it finds
// the record as it was. A receipt whose source does not send it again
// (no r.Resends) waits in memory instead until the store takes it
// (unkept.go); the error still says it is not stored yet.
func (h *Service) Receipt(r *msg.Receipt) error {
	e := h.getEncoder()
	err := h.receipt(e, r)
	h.putEncoder(e)
	if err != nil && !r.Resends && errors.Is(err, errNotKept) {
		h.unkept(unkeptReceipt, r, err)
	}
	return err
}

// receipt is Receipt without the unkept queue; e is the caller's encoder.
func (h *Service) receipt(e *encoder, r *msg.Receipt) error {
	if r.ID == 0 {
		return h.unknownReceipt(r, "upstream id not mapped to a message of ours")
	}
	if r.Intermediate {
		if err := h.msgs.Get(r.ID, &e.rec); err != nil {
			return h.receiptNotFound(r, err)
		}
		if !dlr.Wanted(e.rec.RegisteredDelivery, r.State, true) {
			return nil
		}
		return h.sendReceipt(e, &e.rec, &dlr.Report{State: r.State, Err: r.Err, NetErr: r.NetworkError,
			HasNetErr: r.HasNetErr, Intermediate: true}, r.At)
	}
	done := r.Done
	if done == 0 {
		done = h.now().UnixNano()
	}
	if h.opts.Durable {
		return h.finalDurable(e, r, done)
	}
	err := h.msgs.Finish(r.ID, r.State, r.Err, done, &e.rec)
	switch {
	case errors.Is(err, storage.ErrFinal):
		h.late(r)
		return nil
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		h.noteStore(err, "state", r.ID)
		err = h.msgs.Get(r.ID, &e.rec) // still sent: the store lost only the state
	}
	if err != nil {
		return h.receiptNotFound(r, err)
	}
	h.pushFinal(&e.rec, r.State, r.Err, done)
	h.final(r, done)
	h.observeSince(h.opts.ReceiptLatency, int(e.rec.Connector), e.rec.Submitted, r.At)
	if dlr.Wanted(e.rec.RegisteredDelivery, r.State, false) {
		h.delivered(e, r.State)
		return h.sendReceipt(e, &e.rec, &dlr.Report{State: r.State, Err: r.Err, NetErr: r.NetworkError,
			HasNetErr: r.HasNetErr, Done: done}, r.At)
	}
	h.delivered(e, r.State)
	return nil
}

// finalDurable records a final receipt with Options.Durable: the receipt
// deliver_sm (when one is asked) is held first, then the state recorded,
// so a failure of either leaves nothing half done and the upstream's
// resend finds the record as it was.
func (h *Service) finalDurable(e *encoder, r *msg.Receipt, done int64) error {
	if err := h.msgs.Get(r.ID, &e.rec); err != nil {
		return h.receiptNotFound(r, err)
	}
	now := h.at(r.At)
	var it *item
	if dlr.Wanted(e.rec.RegisteredDelivery, r.State, false) {
		it = h.buildReceipt(e, &e.rec, &dlr.Report{State: r.State, Err: r.Err, NetErr: r.NetworkError,
			HasNetErr: r.HasNetErr, Done: done}, now)
		if it != nil {
			if err := h.keep(it, &e.dlr); err != nil {
				h.items.put(it)
				return err
			}
		}
	}
	// The HTTP callback too is kept before the state is recorded: an
	// upstream that must resend finds it made, never lost.
	h.pushFinal(&e.rec, r.State, r.Err, done)
	// SetState, not Finish: e.rec was read above and what follows reads
	// only its fields a state does not change, so a second copy of the
	// record (a disk store's users' and routes' names included) is waste.
	err := h.msgs.SetState(r.ID, r.State, r.Err, done)
	if err != nil && !r.Resends && it != nil && !errors.Is(err, storage.ErrFinal) && !errors.Is(err, storage.ErrNotFound) {
		// No one sends it again and its deliver_sm is held: that goes
		// now, the state waits in memory for the store (unkept.go).
		h.noteStore(err, "state", r.ID)
		u := *r
		u.Done = done
		h.unkept(unkeptState, &u, err)
		h.dispatch(it, now)
		return nil
	}
	if err != nil {
		if it != nil {
			h.done(it) // its held copy goes: nothing to send
		}
		switch {
		case errors.Is(err, storage.ErrFinal):
			h.late(r)
			return nil
		case errors.Is(err, storage.ErrNotFound):
			return h.receiptNotFound(r, err)
		}
		h.noteStore(err, "state", r.ID)
		return fmt.Errorf("%w: %w", errNotKept, err)
	}
	h.final(r, done)
	h.observeSince(h.opts.ReceiptLatency, int(e.rec.Connector), e.rec.Submitted, r.At)
	h.delivered(e, r.State)
	if it != nil {
		h.dispatch(it, now)
	}
	return nil
}

// at is the time a connector read (Unix ns) when it has one and the
// service runs on the wall clock, so a receipt costs no clock read of its
// own; h.now() otherwise.
func (h *Service) at(ns int64) time.Time {
	if ns != 0 && h.wallClock {
		return time.Unix(0, ns)
	}
	return h.now()
}

// late counts a receipt for a message already final: the first final
// state won, so it changes nothing and nothing goes to the ESME.
func (h *Service) late(r *msg.Receipt) {
	h.stats.rcptLate.Add(1)
	if e := h.log.Debug(); e.Enabled() {
		e.Stringer("id", r.ID).Int("connector", r.Connector).Stringer("state", r.State).
			Msg("receipt for a message already final: dropped")
	}
}

// receiptNotFound handles a receipt whose record could not be read: an id
// no longer stored is a dead letter; any other error is the store's.
func (h *Service) receiptNotFound(r *msg.Receipt, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return h.unknownReceipt(r, "message id not stored (never, or past its lifetime)")
	}
	h.noteStore(err, "read", r.ID)
	return fmt.Errorf("%w: %w", errNotKept, err)
}

// unknownReceipt keeps a receipt no message of ours can take as a dead
// letter (counted, logged).
func (h *Service) unknownReceipt(r *msg.Receipt, why string) error {
	h.stats.rcptUnknown.Add(1)
	if ev := h.event(&h.warn.unknownRcpt, zerologWarn); ev != nil {
		ev.Stringer("id", r.ID).Bytes("upstream_id", r.UpstreamID).Int("connector", r.Connector).
			Uint64("unknown_total", h.stats.rcptUnknown.Load()).Msg("receipt for an unknown message: " + why + "; kept as a dead letter")
	}
	reason := why
	if len(r.UpstreamID) > 0 {
		reason = why + " (upstream id " + string(r.UpstreamID) + ")"
	}
	return h.deadLetter(storage.HeldReceipt, int32(r.Connector), "", r.ID, reason, r.Raw)
}
