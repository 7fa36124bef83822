package flow

import (
	"bytes"
	"slices"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
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
	if v, err := msg.ParseID(id); err == nil && h.msgs.Get(v, rec) == nil {
		return v, true
	}
	if v, err := msg.ParseDecimalID(id); err == nil && h.msgs.Get(v, rec) == nil {
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
// sends the receipt asked for) and the Record says DELETED at once. One
// already handed to a connector whose Caps declare Cancel is
// cancelled upstream: the answer is deferred until the upstream's
// cancel_sm_resp, whose status the ESME gets (ESME_RCANCELFAIL when none
// comes); only ESME_ROK marks the Record DELETED (upstreamCall.done).
// Anything else is ESME_RCANCELFAIL, including cancel_sm without a
// message_id (the "all messages from source to destination" form: not
// supported) and a submit_multi id (its destinations are not cancelled one
// by one).
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
	if h.live.cancel(id) {
		// Its connector fails it later (refunded): this state wins.
		done := h.now().UnixNano()
		err := h.msgs.SetState(id, msg.StateDeleted, 0, done)
		h.noteStore(err, "state", id)
		h.final(err, id, msg.StateDeleted, 0, done, nil, true)
		return codec.StatusOK
	}
	if rec.State.Final() {
		return codec.StatusCancelFail
	}
	fc := h.forwarder(rec)
	tok, deferrable := req.Token()
	if fc == nil || !fc.Caps().Cancel || !deferrable || !h.upstreamID(e, id) {
		return codec.StatusCancelFail
	}
	e.cancel = codec.CancelSM{MessageID: e.upID,
		SourceAddrTON: rec.SourceTON, SourceAddrNPI: rec.SourceNPI, SourceAddr: rec.SourceAddr(),
		DestAddrTON: rec.DestTON, DestAddrNPI: rec.DestNPI, DestinationAddr: rec.DestAddr()}
	call := &upstreamCall{h: h, tok: tok, id: id, cmd: codec.CancelSMID, conn: int(rec.Connector)}
	if !fc.CancelUpstream(id, &e.cancel, call.done) {
		return codec.StatusCancelFail
	}
	req.Defer()
	return codec.StatusOK // not sent: the upstream's answer is
}

// forwarder returns the connector that took rec's message when it is
// still going (not final) and its upstream ids are kept; else nil.
func (h *Hub) forwarder(rec *storage.Record) connector.Connector {
	c, s := int(rec.Connector), h.cs()
	if rec.State.Final() || !s.live(c) || !s.forwards[c] {
		return nil
	}
	return s.conns[c]
}

// upstreamID loads id's upstream id into e.upID.
func (h *Hub) upstreamID(e *encoder, id msg.ID) bool {
	var ok bool
	e.upID, ok = h.upIDs.UpstreamOf(id, e.upID[:0])
	return ok
}

// HandleReplace implements engine.ManageHandler. The replacement is
// checked as a new submit of its text would be: its parts are counted
// (countParts), it is routed with the message's addresses and coding
// (RouteMT, so content filters apply), and parts beyond those the message
// is billed for are admitted and charged at the matched route's rate
// (accounts.Admission). A replacement with as many parts or fewer costs
// nothing and gives nothing back: a message is billed for the most parts
// it has had, charged when each was asked for (as Jasmin bills at
// acceptance), and like a submit's charge it all comes back only when the
// message is not sent (refused upstream, expired, cancelled here).
//
// While the message is still queued here, replace_sm rewrites its
// short_message, schedule and validity (an empty time keeps the old one,
// SMPP 3.4 §4.10.1), registered_delivery and sm_default_msg_id; the
// receipt's submit date becomes the replacement time. Once handed to a
// connector whose Caps declare Replace it is passed upstream and the
// answer deferred: the ESME gets the upstream's status (ESME_RREPLACEFAIL
// when none comes), and only ESME_ROK updates the Record and keeps the
// extra parts' charge (refunded otherwise).
//
// Statuses: ESME_RINVSCHED / ESME_RINVEXPIRY for bad times;
// ESME_RINVREGDLVFLG when the user may not ask for receipts; the submit's
// statuses for the text (ESME_RINVESMCLASS, ESME_RINVMSGLEN), for no route
// (ESME_RINVDSTADR) and for the limits (accounts.Admission.Status:
// ESME_RTHROTTLED, ESME_RSUBMITFAIL for balance or quota, ESME_RINVEXPIRY
// over max_validity); ESME_RREPLACEFAIL for everything that cannot be
// replaced (unknown id, another owner, a user disabled since it bound, a
// replacement whose route does not use the message's connector, a message
// already handed to a connector that does not declare Replace or
// refuses, a submit_multi id).
func (h *Hub) HandleReplace(req *engine.ManageRequest) codec.Status {
	e := h.getEncoder()
	sc := h.scratch.Get().(*submitScratch)
	st := h.replaceSM(e, sc, req)
	sc.clear()
	h.scratch.Put(sc)
	h.putEncoder(e)
	return st
}

func (h *Hub) replaceSM(e *encoder, sc *submitScratch, req *engine.ManageRequest) codec.Status {
	rec := &e.rec
	r := req.Replace
	id, ok := h.lookupOwned(rec, req, r.MessageID, r.SourceAddr)
	if !ok {
		return codec.StatusReplaceFail
	}
	u := userOf(req.Principal)
	if !u.Active() {
		return codec.StatusReplaceFail
	}
	if r.RegisteredDelivery != 0 && !u.Receipts {
		return codec.StatusInvRegDlvFlg
	}
	s := &sc.sub
	s.user, s.systemID, s.group, s.ctr = u, u.SystemID, u.Group, h.ustats.get(u.SystemID)
	s.now = h.now()
	s.nowNs = s.now.UnixNano()
	s.fromReplace(r, rec)
	var sched, exp int64
	if len(r.ValidityPeriod) > 0 {
		t, err := codec.ParseTime(r.ValidityPeriod)
		if err != nil || !t.Resolve(s.now).After(s.now) {
			return codec.StatusInvExpiry
		}
		exp = t.Resolve(s.now).UnixNano()
		s.validity = time.Duration(exp - s.nowNs)
	}
	if len(r.ScheduleDeliveryTime) > 0 {
		t, err := codec.ParseTime(r.ScheduleDeliveryTime)
		if err != nil {
			return codec.StatusInvSched
		}
		sched = t.Resolve(s.now).UnixNano()
	}
	if st, why := s.countParts(); st != codec.StatusOK {
		h.refuse(s, why, st)
		return st
	}
	rate, st := h.routeReplacement(sc, int(rec.Connector))
	if st != codec.StatusOK {
		return st
	}
	// Editing holds off the connector's Claim, so the message stays ours
	// until EndEdit; BeginEdit under the index's lock makes sure it is
	// still this id's message.
	m, queued := h.live.beginEdit(id)
	if !queued {
		return h.replaceUpstream(e, sc, req, id, rate)
	}
	if m == nil {
		return codec.StatusReplaceFail // being sent: too late here, not yet upstream
	}
	if sched != 0 && sched >= max(exp, m.Expires) {
		if exp != 0 {
			m.EndEdit()
			return codec.StatusInvSched
		}
		exp = sched + int64(h.opts.DefaultValidity) // as at submit: the default moves along
	}
	old := m.Parts
	charge, billed, st := h.admitReplacement(s, id, old, rate)
	if st != codec.StatusOK {
		m.EndEdit()
		return st
	}
	h.addCharge(m, charge)
	h.replace(m, r, sched, exp)
	m.Parts = billed
	countExtra(s.ctr, old, billed)
	replacedRecord(rec, s, billed)
	// While the message is in Editing its connector cannot claim it, so
	// no state change can race with this update.
	h.noteStore(h.msgs.SetReplaced(id, rec), "replace", id)
	m.EndEdit()
	return codec.StatusOK
}

// fromReplace sets what the replacement is counted and routed as: its text
// with the message's esm_class, data_coding and addresses (from rec; as
// routed, after the policy's rewrites).
func (s *submission) fromReplace(p *codec.ReplaceSM, rec *storage.Record) {
	s.srcTON, s.srcNPI, s.src = rec.UpstreamSource()
	s.dstTON, s.dstNPI, s.dst = rec.UpstreamDest()
	s.esmClass, s.dataCoding = rec.ESMClass, rec.DataCoding
	s.regDlv, s.defaultMsgID = p.RegisteredDelivery, p.SMDefaultMsgID
	s.sm, s.tlvs = p.ShortMessage, &p.TLVs
	s.content = p.ShortMessage
	if v, ok := p.TLVs.Get(codec.TagMessagePayload); ok {
		s.content = v
	}
}

// routeReplacement routes the replacement as a new submit (content,
// source, destination, coding, time filters) and returns the matched
// route's rate. No route is ESME_RINVDSTADR, as for a submit; a route
// that does not use conn, the connector the message is queued on or went
// through, is ESME_RREPLACEFAIL: a message does not move between
// connectors. (A balancing route's rotation moves on, as for a submit.)
func (h *Hub) routeReplacement(sc *submitScratch, conn int) (float64, codec.Status) {
	s := &sc.sub
	sc.mt = routing.MT{User: s.systemID, Group: s.group, Source: s.src, Dest: s.dst, Content: s.content,
		DataCoding: s.dataCoding, Now: s.now}
	d, ok := h.router.Load().RouteMT(&sc.mt, &h.up)
	if !ok {
		h.refuse(s, RefuseNoRoute, RefuseNoRoute.status())
		return 0, RefuseNoRoute.status()
	}
	if !slices.Contains(d.Route.Connectors, conn) {
		if e := h.log.Debug(); e.Enabled() {
			e.Str("system_id", s.systemID).Str("route", d.Route.Name).Int("connector", conn).
				Msg("replace_sm refused: the replacement routes away from the message's connector")
		}
		return 0, codec.StatusReplaceFail
	}
	return d.Rate, codec.StatusOK
}

// admitReplacement charges the parts of the replacement (s.parts) beyond
// billed, those the message is billed for, through the same admission as
// a submit (throughput, quota, balance, max_validity); it returns their
// charge, written to the balance ledger under id (no record carries it),
// and the parts billed from then on. A replacement without new parts takes
// nothing but must still respect max_validity.
func (h *Hub) admitReplacement(s *submission, id msg.ID, billed int, rate float64) (accounts.Charge, int, codec.Status) {
	billed = max(billed, 1)
	extra := s.parts - billed
	lim := &s.user.Limits
	if extra <= 0 {
		// Admission's max_validity rule, for a replacement Admit is not asked about.
		if s.validity > 0 && lim.MaxValidity > 0 && s.validity > lim.MaxValidity {
			st := codec.Status(h.adm.Status(accounts.RefuseValidity))
			h.refuse(s, RefuseLimits, st)
			return accounts.Charge{}, billed, st
		}
		return accounts.Charge{}, billed, codec.StatusOK
	}
	charge, why := h.adm.Admit(lim, extra, rate, 0, s.validity, s.nowNs)
	if why != accounts.Admitted {
		st := codec.Status(h.adm.Status(why))
		h.refuse(s, refusalOf(why), st)
		return accounts.Charge{}, billed, st
	}
	if err := charge.Log(id); err != nil {
		charge.Undo()
		h.adm.Unadmit(lim, extra, s.nowNs)
		h.noteStore(err, "charge", id)
		h.refuse(s, RefuseStorage, RefuseStorage.status())
		return accounts.Charge{}, billed, RefuseStorage.status()
	}
	return charge, s.parts, codec.StatusOK
}

// countExtra adds the parts a replacement added to the user's counter.
func countExtra(ctr *userCounters, old, billed int) {
	if ctr != nil && billed > max(old, 1) {
		ctr.parts.Add(uint64(billed - max(old, 1)))
	}
}

// replacedRecord sets the fields of rec a replacement changes
// (storage.Messages.SetReplaced).
func replacedRecord(rec *storage.Record, s *submission, billed int) {
	rec.RegisteredDelivery = s.regDlv
	rec.Submitted = s.nowNs
	rec.TextLen = uint8(copy(rec.Text[:], s.text))
	rec.Parts = uint8(billed)
}

// replaceUpstream passes the replacement to the connector that took the
// message, when it can, and defers the ESME's answer to the upstream's.
// The extra parts' charge waits with the call.
func (h *Hub) replaceUpstream(e *encoder, sc *submitScratch, req *engine.ManageRequest, id msg.ID, rate float64) codec.Status {
	rec, s, r := &e.rec, &sc.sub, req.Replace
	fc := h.forwarder(rec)
	tok, deferrable := req.Token()
	if fc == nil || !fc.Caps().Replace || !deferrable || !h.upstreamID(e, id) {
		return codec.StatusReplaceFail
	}
	old := int(rec.Parts)
	charge, billed, st := h.admitReplacement(s, id, old, rate)
	if st != codec.StatusOK {
		return st
	}
	call := &upstreamCall{h: h, tok: tok, id: id, cmd: codec.ReplaceSMID, conn: int(rec.Connector),
		charge: charge, ctr: s.ctr, old: old}
	replacedRecord(&call.rec, s, billed)
	e.repl = *r
	e.repl.MessageID = e.upID
	e.repl.SourceAddrTON, e.repl.SourceAddrNPI, e.repl.SourceAddr = rec.SourceTON, rec.SourceNPI, rec.SourceAddr()
	if !fc.ReplaceUpstream(id, &e.repl, call.done) {
		h.noteStore(call.charge.Refund(id), "refund", id)
		h.adm.Unadmit(&s.user.Limits, billed-max(old, 1), s.nowNs)
		return codec.StatusReplaceFail
	}
	req.Defer()
	return codec.StatusOK // not sent: the upstream's answer is
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
