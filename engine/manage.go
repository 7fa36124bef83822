package engine

import "github.com/smppd/smppd/codec"

// onQuery answers query_sm (bound TX/TRX). With Options.Manage the handler
// decides; without it no message can be found: ESME_RQUERYFAIL. The queried
// message_id is echoed in every answer; final_date, message_state and
// error_code are sent only with ESME_ROK (empty/zero otherwise).
func (s *session) onQuery(h codec.Header, body []byte) {
	l := s.l
	q := &l.query
	q.Reset()
	if err := q.Decode(body); err != nil {
		s.rejectUndecodable(h, err)
		return
	}
	r := codec.QuerySMResp{MessageID: q.MessageID}
	st := codec.StatusQueryFail
	if m := l.srv.opts.Manage; m != nil {
		req := s.manageRequest()
		req.Query = q
		res := &l.qres
		*res = QueryResult{Status: codec.StatusOK, FinalDate: l.fdbuf[:0]}
		m.HandleQuery(req, res)
		*req = ManageRequest{}
		st = res.Status
		if st == codec.StatusOK {
			r.FinalDate, r.MessageState, r.ErrorCode = res.FinalDate, res.State, res.ErrorCode
		}
		res.FinalDate = nil
	}
	out, err := r.Append(s.out, codec.Header{CommandID: codec.QuerySMRespID, Status: st, Sequence: h.Sequence})
	if err != nil {
		// Only a handler's final_date over 16 characters gets here.
		l.srv.log.Warn().Str("event", "bad_response").Stringer("cmd", codec.QuerySMRespID).Str("system_id", s.systemID).
			Err(err).Msg("handler result not encodable; answered ESME_RSYSERR")
		r = codec.QuerySMResp{MessageID: q.MessageID} // decoded, so it encodes
		out, _ = r.Append(s.out, codec.Header{CommandID: codec.QuerySMRespID, Status: codec.StatusSysErr, Sequence: h.Sequence})
	}
	s.out = out
}

// onCancel answers cancel_sm with the handler's status, or ESME_RCANCELFAIL
// when there is no ManageHandler; a deferred answer comes through
// onManageRespond.
func (s *session) onCancel(h codec.Header, body []byte) {
	l := s.l
	c := &l.cancel
	c.Reset()
	if err := c.Decode(body); err != nil {
		s.rejectUndecodable(h, err)
		return
	}
	st := codec.StatusCancelFail
	if m := l.srv.opts.Manage; m != nil {
		if s.manageThrottled(h) {
			return
		}
		req := s.manageRequest()
		req.Cancel = c
		req.tok = s.manageToken(h)
		st = m.HandleCancel(req)
		if s.manageDeferred(req) {
			return
		}
	}
	s.appendHeaderOnly(codec.CancelSMRespID, st, h.Sequence)
}

// onReplace answers replace_sm with the handler's status, or
// ESME_RREPLACEFAIL when there is no ManageHandler; a deferred answer comes
// through onManageRespond.
func (s *session) onReplace(h codec.Header, body []byte) {
	l := s.l
	r := &l.repl
	r.Reset()
	if err := r.Decode(body); err != nil {
		s.rejectUndecodable(h, err)
		return
	}
	st := codec.StatusReplaceFail
	if m := l.srv.opts.Manage; m != nil {
		if s.manageThrottled(h) {
			return
		}
		req := s.manageRequest()
		req.Replace = r
		req.tok = s.manageToken(h)
		st = m.HandleReplace(req)
		if s.manageDeferred(req) {
			return
		}
	}
	s.appendHeaderOnly(codec.ReplaceSMRespID, st, h.Sequence)
}

// manageRequest returns the loop's ManageRequest filled with s's identity;
// the caller sets the PDU and clears the request after the handler returns
// (the scratch must not keep a closed session's bind alive).
func (s *session) manageRequest() *ManageRequest {
	req := &s.l.mreq
	*req = ManageRequest{SystemID: s.systemID, Principal: s.principal}
	return req
}

func (s *session) manageToken(h codec.Header) ManageToken {
	return ManageToken{l: s.l, s: s, gen: s.gen, seq: h.Sequence, cmd: h.CommandID}
}

// manageThrottled answers a cancel_sm or replace_sm ESME_RTHROTTLED when
// the session's deferred requests are at MaxInFlight: a handler may defer
// it, and an ESME must not pile up answers we owe (as for MT requests).
func (s *session) manageThrottled(h codec.Header) bool {
	if s.inFlight < s.l.srv.opts.MaxInFlight {
		return false
	}
	s.l.srv.stats.throttled.Add(1)
	s.throttled++
	s.reject(h, codec.StatusThrottled)
	return true
}

// manageDeferred clears the loop's request after the handler returned and
// reports whether the handler deferred the answer (then counted in flight).
func (s *session) manageDeferred(req *ManageRequest) bool {
	d := req.deferred
	*req = ManageRequest{}
	if d {
		s.inFlight++
	}
	return d
}

// Defer tells the engine that the handler answers this cancel_sm or
// replace_sm later, exactly once, with Respond on its Token; the status the
// handler returns is then ignored. Call it only from HandleCancel or
// HandleReplace; on a request that cannot be deferred (see Token) it does
// nothing.
func (r *ManageRequest) Defer() {
	if r.tok.l != nil {
		r.deferred = true
	}
}

// Token names this request for a deferred answer; it may be kept after
// the handler returns. false when the request cannot be deferred (query_sm,
// or a ManageRequest the engine did not make).
func (r *ManageRequest) Token() (ManageToken, bool) { return r.tok, r.tok.l != nil }

// Respond answers a deferred cancel_sm or replace_sm with st
// (cancel_sm_resp or replace_sm_resp). Safe from any goroutine; call it
// once per token. When the session has closed meanwhile the answer is
// dropped. ErrBadToken for the zero token; ErrQueueFull when the session's
// event loop inbox is full (nothing was posted: try again).
func (t ManageToken) Respond(st codec.Status) error {
	if t.l == nil {
		return ErrBadToken
	}
	ev := event{kind: evManage, s: t.s, gen: t.gen, seq: t.seq, cmd: t.cmd, status: st}
	if !t.l.post(&ev) {
		return ErrQueueFull
	}
	return nil
}

// onManageRespond writes a deferred cancel_sm_resp or replace_sm_resp,
// unless the session it was for has closed (the generation moved on) or
// left the states that may still answer.
func (l *loop) onManageRespond(ev *event) {
	s := ev.s
	if s.gen != ev.gen || !s.state.bound() && s.state != stateUnbinding {
		return
	}
	if s.inFlight > 0 {
		s.inFlight--
	}
	s.appendHeaderOnly(ev.cmd.Response(), ev.status, ev.seq)
	l.markDirty(s)
}
