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
		s.reject(h, codec.StatusOf(err))
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
// when there is no ManageHandler.
func (s *session) onCancel(h codec.Header, body []byte) {
	l := s.l
	c := &l.cancel
	c.Reset()
	if err := c.Decode(body); err != nil {
		s.reject(h, codec.StatusOf(err))
		return
	}
	st := codec.StatusCancelFail
	if m := l.srv.opts.Manage; m != nil {
		req := s.manageRequest()
		req.Cancel = c
		st = m.HandleCancel(req)
		*req = ManageRequest{}
	}
	s.appendHeaderOnly(codec.CancelSMRespID, st, h.Sequence)
}

// onReplace answers replace_sm with the handler's status, or
// ESME_RREPLACEFAIL when there is no ManageHandler.
func (s *session) onReplace(h codec.Header, body []byte) {
	l := s.l
	r := &l.repl
	r.Reset()
	if err := r.Decode(body); err != nil {
		s.reject(h, codec.StatusOf(err))
		return
	}
	st := codec.StatusReplaceFail
	if m := l.srv.opts.Manage; m != nil {
		req := s.manageRequest()
		req.Replace = r
		st = m.HandleReplace(req)
		*req = ManageRequest{}
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
