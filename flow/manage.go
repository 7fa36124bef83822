package flow

import (
	"bytes"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// lookupOwned finds the Record a query_sm, cancel_sm or replace_sm names:
// message_id in hex (ours) or decimal (the receipt text's form when
// ReceiptIDDecimal is set), owned by the session's user, and, when the
// request gives a source_addr, submitted from it. rec receives the copy.
func (h *Hub) lookupOwned(rec *storage.Record, req *engine.ManageRequest, id, src []byte) (msg.ID, bool) {
	mid, ok := h.findID(rec, id)
	if !ok || rec.SystemID != req.SystemID {
		return 0, false
	}
	if len(src) > 0 && !bytes.Equal(src, rec.SourceAddr()) {
		return 0, false
	}
	return mid, true
}

// findID tries id as hex, then as decimal (a 16-digit decimal id is also
// valid hex).
func (h *Hub) findID(rec *storage.Record, id []byte) (msg.ID, bool) {
	if v, err := msg.ParseID(id); err == nil && h.msgs.Get(v, rec) {
		return v, true
	}
	if v, err := msg.ParseDecimalID(id); err == nil && h.msgs.Get(v, rec) {
		return v, true
	}
	return 0, false
}

// HandleQuery implements engine.ManageHandler: query_sm is answered from
// the Record (state, final date once final, error code); an unknown id, or
// one of another user or source, is ESME_RQUERYFAIL.
func (h *Hub) HandleQuery(req *engine.ManageRequest, res *engine.QueryResult) {
	e := h.getEncoder()
	rec := &e.rec
	if _, ok := h.lookupOwned(rec, req, req.Query.MessageID, req.Query.SourceAddr); !ok {
		res.Status = codec.StatusQueryFail
		h.putEncoder(e)
		return
	}
	res.Status = codec.StatusOK
	res.State = codec.MessageState(rec.State)
	res.ErrorCode = uint8(min(rec.Err, 0xff))
	if rec.State.Final() && rec.Done != 0 {
		res.FinalDate = codec.AppendAbsoluteTime(res.FinalDate, time.Unix(0, rec.Done).In(h.zone))
	}
	h.putEncoder(e)
}

// HandleCancel implements engine.ManageHandler. A message still queued here
// is cancelled (its connector reports it as deleted, which refunds it and
// sends the receipt asked for) and the Record says DELETED at once; one
// already handed to its connector is cancelled upstream when the connector
// implements UpstreamCanceller and accepts. Anything else is
// ESME_RCANCELFAIL, including cancel_sm without a message_id (the "all
// messages from source to destination" form: not supported) and a
// submit_multi id (its destinations are not cancelled one by one).
func (h *Hub) HandleCancel(req *engine.ManageRequest) codec.Status {
	e := h.getEncoder()
	st := h.cancel(e, req)
	h.putEncoder(e)
	return st
}

func (h *Hub) cancel(e *encoder, req *engine.ManageRequest) codec.Status {
	rec := &e.rec
	c := req.Cancel
	if len(c.MessageID) == 0 {
		return codec.StatusCancelFail
	}
	id, ok := h.lookupOwned(rec, req, c.MessageID, c.SourceAddr)
	if !ok || (len(c.DestinationAddr) > 0 && !bytes.Equal(c.DestinationAddr, rec.DestAddr())) {
		return codec.StatusCancelFail
	}
	if rec.Live != nil {
		// Under the record's lock: the Live message is still ours (its
		// connector clears Live before it lets the message go).
		cancelled := false
		h.msgs.WithLive(id, func(m *msg.Message) { cancelled = m != nil && m.Cancel() })
		if cancelled {
			h.msgs.SetState(id, msg.StateDeleted, 0, h.now().UnixNano())
			return codec.StatusOK
		}
	}
	if rec.State.Final() {
		return codec.StatusCancelFail
	}
	if uc, ok := h.forwarder(rec).(UpstreamCanceller); ok && h.upstreamID(e, id) {
		e.cancel = codec.CancelSM{MessageID: e.upID,
			SourceAddrTON: rec.SourceTON, SourceAddrNPI: rec.SourceNPI, SourceAddr: rec.SourceAddr(),
			DestAddrTON: rec.DestTON, DestAddrNPI: rec.DestNPI, DestinationAddr: rec.DestAddr()}
		if uc.CancelUpstream(id, &e.cancel) {
			return codec.StatusOK
		}
	}
	return codec.StatusCancelFail
}

// forwarder returns the connector that took rec's message when it is
// still going (not final) and its upstream ids are kept; else nil.
func (h *Hub) forwarder(rec *storage.Record) any {
	c := int(rec.Connector)
	if rec.State.Final() || c < 0 || c >= len(h.conns) || !h.forwards[c] {
		return nil
	}
	return h.conns[c]
}

// upstreamID loads id's upstream id into e.upID.
func (h *Hub) upstreamID(e *encoder, id msg.ID) bool {
	var ok bool
	e.upID, ok = h.upIDs.UpstreamOf(id, e.upID[:0])
	return ok
}

// HandleReplace implements engine.ManageHandler: while the message is still
// queued here, replace_sm rewrites its short_message, schedule and validity
// (an empty time keeps the old one, SMPP 3.4 §4.10.1), registered_delivery
// and sm_default_msg_id; the receipt's submit date becomes the replacement
// time. Statuses: ESME_RINVSCHED / ESME_RINVEXPIRY for bad times,
// ESME_RINVREGDLVFLG when the user may not ask for receipts,
// ESME_RREPLACEFAIL for everything that cannot be replaced (unknown id,
// another owner, already handed upstream to a connector that is not an
// UpstreamReplacer or refuses, a submit_multi id). The charge is not
// recomputed.
func (h *Hub) HandleReplace(req *engine.ManageRequest) codec.Status {
	e := h.getEncoder()
	st := h.replaceSM(e, req)
	h.putEncoder(e)
	return st
}

func (h *Hub) replaceSM(e *encoder, req *engine.ManageRequest) codec.Status {
	rec := &e.rec
	r := req.Replace
	id, ok := h.lookupOwned(rec, req, r.MessageID, r.SourceAddr)
	if !ok {
		return codec.StatusReplaceFail
	}
	u := userOf(req.Principal)
	if u == nil {
		return codec.StatusReplaceFail
	}
	if r.RegisteredDelivery != 0 && !userReceipts(u) {
		return codec.StatusInvRegDlvFlg
	}
	if rec.Live == nil {
		if ur, ok := h.forwarder(rec).(UpstreamReplacer); ok && h.upstreamID(e, id) {
			e.repl = *r
			e.repl.MessageID = e.upID
			e.repl.SourceAddrTON, e.repl.SourceAddrNPI, e.repl.SourceAddr = rec.SourceTON, rec.SourceNPI, rec.SourceAddr()
			if ur.ReplaceUpstream(id, &e.repl) {
				return codec.StatusOK
			}
		}
		return codec.StatusReplaceFail
	}
	now := h.now()
	var sched, exp int64
	if len(r.ValidityPeriod) > 0 {
		t, err := codec.ParseTime(r.ValidityPeriod)
		if err != nil || !t.Resolve(now).After(now) {
			return codec.StatusInvExpiry
		}
		exp = t.Resolve(now).UnixNano()
	}
	if len(r.ScheduleDeliveryTime) > 0 {
		t, err := codec.ParseTime(r.ScheduleDeliveryTime)
		if err != nil {
			return codec.StatusInvSched
		}
		sched = t.Resolve(now).UnixNano()
	}
	// Editing holds off the connector's Claim, so the message stays ours
	// until EndEdit; BeginEdit under the record's lock makes sure it is
	// still this id's message (see HandleCancel).
	var m *msg.Message
	h.msgs.WithLive(id, func(l *msg.Message) {
		if l != nil && l.BeginEdit() {
			m = l
		}
	})
	if m == nil {
		return codec.StatusReplaceFail
	}
	if sched != 0 && sched >= max(exp, m.Expires) {
		if exp != 0 {
			m.EndEdit()
			return codec.StatusInvSched
		}
		exp = sched + int64(h.opts.DefaultValidity) // as at submit: the default moves along
	}
	h.replace(m, r, sched, exp)
	rec.RegisteredDelivery = m.RegisteredDelivery
	rec.Submitted = now.UnixNano()
	rec.TextLen = uint8(copy(rec.Text[:], messageText(m)))
	// Stored while the message is still in Editing: its connector cannot
	// claim it, so no state change can race with this Put.
	h.msgs.Put(rec)
	m.EndEdit()
	return codec.StatusOK
}

// replace rewrites m's fields from r; m is in PhaseEditing.
func (h *Hub) replace(m *msg.Message, r *codec.ReplaceSM, sched, exp int64) {
	if payload, ok := r.TLVs.Get(codec.TagMessagePayload); ok {
		m.ShortMessage = m.ShortMessage[:0]
		m.TLVs = appendWithout(m.TLVs, codec.TagMessagePayload)
		m.TLVs = append(m.TLVs, byte(codec.TagMessagePayload>>8), byte(codec.TagMessagePayload&0xff), byte(len(payload)>>8), byte(len(payload)))
		m.TLVs = append(m.TLVs, payload...)
	} else {
		m.ShortMessage = append(m.ShortMessage[:0], r.ShortMessage...)
		m.TLVs = appendWithout(m.TLVs, codec.TagMessagePayload)
	}
	if len(r.ScheduleDeliveryTime) > 0 {
		m.ScheduleDeliveryTime = append(m.ScheduleDeliveryTime[:0], r.ScheduleDeliveryTime...)
		m.Schedule = sched
	}
	if len(r.ValidityPeriod) > 0 {
		m.ValidityPeriod = append(m.ValidityPeriod[:0], r.ValidityPeriod...)
	}
	if exp != 0 {
		m.Expires = exp
	}
	m.RegisteredDelivery = r.RegisteredDelivery
	m.SMDefaultMsgID = r.SMDefaultMsgID
}

// appendWithout removes, in place, every TLV with tag from the encoded
// region b and returns the shortened region.
func appendWithout(b []byte, tag codec.Tag) []byte {
	out := b[:0]
	for rest := b; len(rest) >= 4; {
		l := int(rest[2])<<8 | int(rest[3])
		if 4+l > len(rest) {
			break
		}
		tlv := rest[:4+l]
		rest = rest[4+l:]
		if codec.Tag(tlv[0])<<8|codec.Tag(tlv[1]) != tag {
			out = append(out, tlv...) // out never overtakes tlv: copy moves left
		}
	}
	return out
}
