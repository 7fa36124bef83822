package engine

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
)

// dispatch handles one complete frame (header included). frame is a view
// into gnet's buffer valid until the caller's Discard: nothing keeps it.
// Decision order: framing (SMPP 3.4 §3.2), command_id (§4.3, generic_nack),
// the state table (§2.3), then the body.
func (s *session) dispatch(frame []byte) {
	h, _ := codec.ParseHeader(frame) // len(frame) >= 16: FrameLen checked it
	body := frame[codec.HeaderLen:]
	if s.trace {
		if e := s.l.srv.log.Debug(); e.Enabled() {
			e.Str("dir", "in").Str("system_id", s.systemID).Stringer("cmd", h.CommandID).
				Uint32("seq", h.Sequence).Stringer("status", h.Status).Int("len", len(frame)).Msg("pdu")
		}
	}
	s.sawPDU = true
	if !s.retry { // a held request was counted when it arrived
		s.l.pdus.count(dirIn, h.CommandID, h.Status)
		s.pdusIn++
	}
	if h.CommandID.IsResponse() {
		if h.CommandID != codec.EnquireLinkRespID {
			s.sawActivity = true
		}
		if s.onResponse(h, body) {
			s.unexpected = 0
		} else {
			s.unexpectedResponse(h)
		}
		return
	}
	k := kindOf(h.CommandID)
	if k != reqEnquireLink {
		s.sawActivity = true
	}
	if k == reqUnknown {
		s.nack(h.Sequence, codec.StatusInvCmdID)
		return
	}
	if allowed[s.state]&bit(k) == 0 {
		s.reject(h, codec.StatusInvBndSts)
		if s.state == stateOpen {
			// A peer that talks before binding is not an ESME we can
			// serve (SMPP 3.4 §2.3 allows only bind in OPEN; closing denies a
			// prober a free parser).
			s.close(ReasonWrongState)
		}
		return
	}
	switch k {
	case reqEnquireLink:
		if err := codec.DecodeEmpty(body); err != nil {
			s.rejectUndecodable(h, err)
			return
		}
		s.appendHeaderOnly(codec.EnquireLinkRespID, codec.StatusOK, h.Sequence)
	case reqBind:
		s.onBind(h, body)
	case reqUnbind:
		if err := codec.DecodeEmpty(body); err != nil {
			s.rejectUndecodable(h, err)
			return
		}
		// SMPP 3.4 §4.2: answer, then close once the answer is written.
		s.appendHeaderOnly(codec.UnbindRespID, codec.StatusOK, h.Sequence)
		srv := s.l.srv
		srv.event(&srv.logs.close, zerolog.InfoLevel).Str("event", "unbind").Str("by", "peer").
			Str("system_id", s.systemID).Str("remote", s.remote.String()).Msg("unbind received")
		s.close(ReasonUnbound)
	case reqSubmitSM, reqDataSM, reqSubmitMulti:
		s.onSubmit(h, k, body)
	case reqQuerySM:
		s.onQuery(h, body)
	case reqCancelSM:
		s.onCancel(h, body)
	case reqReplaceSM:
		s.onReplace(h, body)
	}
}

// onResponse matches a response from the peer to what we sent and reports
// whether it answered anything. A response is never answered, matched or not
// (SMPP 3.4 §2.3, §3.3: generic_nack is for requests): two peers nacking
// each other's nacks would never stop.
func (s *session) onResponse(h codec.Header, _ []byte) bool {
	switch h.CommandID {
	case codec.DeliverSMRespID, codec.DataSMRespID:
		return s.win.onResponse(h.Sequence, h.Status)
	case codec.EnquireLinkRespID:
		if s.ctrlCmd == codec.EnquireLinkID && s.ctrlSeq == h.Sequence {
			s.ctrlCmd, s.ctrlSeq = 0, 0
			s.l.wheel.Cancel(&s.tCtrl)
			return true
		}
	case codec.UnbindRespID:
		if s.ctrlCmd == codec.UnbindID && s.ctrlSeq == h.Sequence {
			s.l.wheel.Cancel(&s.tCtrl)
			s.close(s.unbindWhy)
			return true
		}
	case codec.GenericNackID:
		switch {
		case h.Sequence == 0:
			// The peer cannot decode our stream (SMPP 3.4 §3.3): reset.
			s.close(ReasonGenericNack)
			return true
		case s.ctrlSeq == h.Sequence && s.ctrlCmd != 0:
			s.l.wheel.Cancel(&s.tCtrl)
			if s.ctrlCmd == codec.UnbindID {
				s.close(s.unbindWhy)
				return true
			}
			s.ctrlCmd, s.ctrlSeq = 0, 0
			return true
		default:
			// A nack is never a success: one without a status is reported
			// as ESME_RUNKNOWNERR so the DeliverySink cannot mistake it.
			st := h.Status
			if st == codec.StatusOK {
				st = codec.StatusUnknownErr
			}
			return s.win.onResponse(h.Sequence, st)
		}
	}
	return false
}

// unexpectedResponse drops a response that answered nothing we sent (any
// response before bind, or an unknown sequence number). It is counted and,
// past MaxUnexpectedResponses in a row, the connection is closed: a peer
// streaming responses is either broken or flooding.
func (s *session) unexpectedResponse(h codec.Header) {
	srv := s.l.srv
	srv.stats.unexpectedResponses.Add(1)
	s.unexpected++
	if s.unexpected <= srv.opts.MaxUnexpectedResponses {
		return
	}
	srv.event(&srv.logs.peer, zerolog.WarnLevel).Str("event", "unexpected_responses").Str("system_id", s.systemID).
		Str("remote", s.remote.String()).Str("state", s.state.String()).Stringer("cmd", h.CommandID).
		Int("count", s.unexpected).Msg("responses to nothing we sent: closing")
	s.close(ReasonUnexpectedResponses)
}

// rejectUndecodable answers a request whose body did not decode with the
// status the codec chose, and logs which field failed (rate-limited: a peer
// sending garbage must not buy a log write per PDU).
func (s *session) rejectUndecodable(h codec.Header, err error) {
	srv := s.l.srv
	st := codec.StatusOf(err)
	if e := srv.event(&srv.logs.decode, zerolog.WarnLevel); e != nil {
		var de *codec.DecodeError
		if errors.As(err, &de) {
			e = e.Str("field", de.Field).Str("why", de.Reason)
		}
		e.Str("event", "decode_error").Stringer("cmd", h.CommandID).Uint32("seq", h.Sequence).
			Stringer("status", st).Str("system_id", s.systemID).Str("remote", s.remote.String()).
			Msg("request body not decodable: refused")
	}
	s.reject(h, st)
}

// reject answers a request with an error status in its own response, or
// with generic_nack when the command has no response.
func (s *session) reject(h codec.Header, st codec.Status) {
	if !h.CommandID.HasResponse() {
		s.nack(h.Sequence, st)
		return
	}
	rh := codec.Header{CommandID: h.CommandID.Response(), Status: st, Sequence: h.Sequence}
	var err error
	out := s.out
	switch rh.CommandID {
	case codec.BindReceiverRespID, codec.BindTransmitterRespID, codec.BindTransceiverRespID:
		out, err = s.appendBindResp(out, rh)
	case codec.SubmitSMRespID:
		// Error responses carry the body anyway: an empty message_id
		// (SMPP 3.4 §4.4.2: the body is sent whatever the status; some
		// client libraries fail to parse a header-only one).
		var r codec.SubmitSMResp
		out, err = r.Append(out, rh)
	case codec.DataSMRespID:
		var r codec.DataSMResp
		out, err = r.Append(out, rh)
	case codec.DeliverSMRespID:
		var r codec.DeliverSMResp
		out, err = r.Append(out, rh)
	case codec.SubmitMultiRespID:
		var r codec.SubmitMultiResp
		out, err = r.Append(out, rh)
	case codec.QuerySMRespID:
		var r codec.QuerySMResp
		out, err = r.Append(out, rh)
	default: // enquire_link_resp, unbind_resp, cancel_sm_resp, replace_sm_resp
		out = codec.AppendHeaderOnly(out, rh)
	}
	if err != nil {
		out = codec.AppendHeaderOnly(s.out, rh)
	}
	s.out = out
}

// appendBindResp appends bind_*_resp with our system_id, and the
// sc_interface_version TLV unless the peer bound as v3.3 or older. A refusal
// is header-only, except bind_transceiver_resp, which keeps the system_id
// (no TLV): gosmpp v0.3.1 cannot parse a header-only one.
func (s *session) appendBindResp(out []byte, rh codec.Header) ([]byte, error) {
	if rh.Status != codec.StatusOK && rh.CommandID != codec.BindTransceiverRespID {
		return codec.AppendHeaderOnly(out, rh), nil
	}
	r := &s.l.bresp
	r.Reset()
	r.SystemID = s.l.srv.sysID
	if !s.noTLV && rh.Status == codec.StatusOK {
		r.TLVs.AddUint8(codec.TagSCInterfaceVersion, codec.InterfaceVersion34)
	}
	return r.Append(out, rh)
}

// nack appends generic_nack with st.
func (s *session) nack(seq uint32, st codec.Status) {
	s.l.srv.stats.nacks.Add(1)
	s.appendHeaderOnly(codec.GenericNackID, st, seq)
}

func (s *session) appendHeaderOnly(id codec.CommandID, st codec.Status, seq uint32) {
	s.out = codec.AppendHeaderOnly(s.out, codec.Header{CommandID: id, Status: st, Sequence: seq})
}

// appendRequest appends a request PDU of ours: header plus a pre-encoded body.
func (s *session) appendRequest(id codec.CommandID, seq uint32, body []byte) {
	n := codec.HeaderLen + len(body)
	var hdr [codec.HeaderLen]byte
	binary.BigEndian.PutUint32(hdr[0:4], uint32(n))
	binary.BigEndian.PutUint32(hdr[4:8], uint32(id))
	binary.BigEndian.PutUint32(hdr[12:16], seq)
	s.out = append(s.out, hdr[:]...)
	s.out = append(s.out, body...)
}

// onSubmit handles submit_sm, data_sm and submit_multi on a bound session.
func (s *session) onSubmit(h codec.Header, k reqKind, body []byte) {
	l := s.l
	srv := l.srv
	if !s.retry {
		s.submits++
	}
	if s.inFlight >= srv.opts.MaxInFlight {
		srv.stats.throttled.Add(1)
		s.throttled++
		s.reject(h, codec.StatusThrottled)
		return
	}
	now := l.batchNow
	if now.IsZero() {
		now = time.Now() // once per batch: a batch takes microseconds
		l.batchNow = now
	}
	wait := srv.opts.QueueFullWait
	// Zeroed in place and set field by field: a composite literal is built
	// on the stack and copied with wide loads that stall on store
	// forwarding (21% of this function's samples at 4 x 100).
	req := &l.req
	*req = SubmitRequest{}
	req.Command, req.Sequence, req.SystemID, req.Principal = h.CommandID, h.Sequence, s.systemID, s.principal
	req.Token.l, req.Token.s, req.Token.gen, req.Token.seq, req.Token.cmd = l, s, s.gen, h.Sequence, h.CommandID
	req.Now = now
	req.MayWait = wait > 0 && (s.waitSince == 0 || now.UnixNano()-s.waitSince < int64(wait))
	req.TurnEnd, req.Loop = srv.ender != nil, l.turnLocal
	l.endTurn = l.endTurn || srv.ender != nil
	var err error
	switch k {
	case reqSubmitSM:
		l.sm.Reset()
		err = l.sm.Decode(body)
		req.SubmitSM = &l.sm
	case reqDataSM:
		l.dsm.Reset()
		err = l.dsm.Decode(body)
		req.DataSM = &l.dsm
	default:
		l.multi.Reset()
		err = l.multi.Decode(body)
		req.SubmitMulti = &l.multi
	}
	if err != nil {
		s.rejectUndecodable(h, err)
		return
	}
	res := &l.res
	res.Status, res.MessageID, res.Deferred, res.Wait, res.Unsuccess = codec.StatusOK, l.idbuf[:0], false, false, nil
	if k == reqSubmitMulti {
		l.mresp.Unsuccess.Reset()
		res.Unsuccess = &l.mresp.Unsuccess
	}
	srv.submit.HandleSubmit(req, res)
	req.Principal = nil // the loop's scratch must not keep a closed session's bind alive
	if res.Wait {
		if req.MayWait {
			s.hold(now)
			return
		}
		res.Status = codec.StatusMsgQFul // a handler that waits unasked
	}
	if res.Status == codec.StatusOK {
		s.waitSince = 0
	}
	if res.Deferred {
		s.inFlight++
		if res.Unsuccess != nil && res.Unsuccess.Len() > 0 {
			s.keepUnsuccess(h.Sequence, res.Unsuccess)
		}
		return
	}
	s.appendSubmitResp(h.CommandID.Response(), h.Sequence, res.Status, res.MessageID, k == reqSubmitMulti)
	l.answered++ // sampled at the batch's end (submitsDone)
}

// hold keeps the MT request being dispatched unread (serve stops before
// discarding it) and offers it again after a Tick: the session's own
// back-pressure while its connector queues are full.
func (s *session) hold(now time.Time) {
	l := s.l
	if s.waitSince == 0 {
		s.waitSince = now.UnixNano()
		if e := l.srv.log.Debug(); e.Enabled() {
			e.Str("event", "queue_wait").Str("system_id", s.systemID).Str("remote", s.remote.String()).
				Msg("connector queues full: holding the session's input")
		}
	}
	s.waiting = true
	l.srv.stats.queueWaits.Add(1)
	l.wheel.Schedule(&s.tWait, l.srv.opts.Tick)
}

// appendSubmitResp appends submit_sm_resp, data_sm_resp or submit_multi_resp.
// withUnsuccess encodes the list in l.mresp.Unsuccess (filled by
// HandleSubmit, or by onRespond from a deferred request's copy) into
// submit_multi_resp; without it the list is emptied first.
func (s *session) appendSubmitResp(id codec.CommandID, seq uint32, st codec.Status, msgID []byte, withUnsuccess bool) {
	rh := codec.Header{CommandID: id, Status: st, Sequence: seq}
	var err error
	out := s.out
	switch id {
	case codec.SubmitSMRespID:
		r := codec.SubmitSMResp{MessageID: msgID}
		out, err = r.Append(out, rh)
	case codec.DataSMRespID:
		r := codec.DataSMResp{MessageID: msgID}
		out, err = r.Append(out, rh)
	default:
		r := &s.l.mresp
		if !withUnsuccess {
			r.Unsuccess.Reset()
		}
		r.MessageID = msgID
		out, err = r.Append(out, rh)
		r.MessageID = nil
	}
	if err != nil {
		// The handler produced an id or unsuccess entry the codec refuses:
		// answer with a system error rather than emit a bad frame.
		s.l.srv.log.Warn().Str("event", "bad_response").Stringer("cmd", id).Str("system_id", s.systemID).
			Err(err).Msg("handler result not encodable; answered ESME_RSYSERR")
		s.reject(codec.Header{CommandID: id &^ 0x80000000, Sequence: seq}, codec.StatusSysErr)
		return
	}
	s.out = out
}

// onRespond delivers a deferred MT response (Server.Respond).
func (l *loop) onRespond(ev *event) {
	s := ev.s
	if s.gen != ev.gen || !s.state.bound() && s.state != stateUnbinding {
		return // session gone: the request dies with it (the ESME resubmits)
	}
	if s.inFlight > 0 {
		s.inFlight--
	}
	withList := false
	if list, ok := s.multiLists[ev.seq]; ok && ev.cmd == codec.SubmitMultiID {
		delete(s.multiLists, ev.seq)
		l.mresp.Unsuccess.Reset()
		for _, u := range list {
			l.mresp.Unsuccess.Add(u)
		}
		withList = true
	}
	s.appendSubmitResp(ev.cmd.Response(), ev.seq, ev.status, ev.id[:ev.idLen], withList)
	l.markDirty(s)
}

// keepUnsuccess copies a deferred submit_multi's unsuccess list (views into
// the read buffer) until Server.Respond answers it, so the late
// submit_multi_resp still names the refused destinations.
func (s *session) keepUnsuccess(seq uint32, u *codec.UnsuccessList) {
	if s.multiLists == nil {
		s.multiLists = make(map[uint32][]codec.Unsuccess)
	}
	list := make([]codec.Unsuccess, u.Len())
	for i := range list {
		x := u.At(i)
		x.Addr = append([]byte(nil), x.Addr...)
		list[i] = x
	}
	s.multiLists[seq] = list
}
