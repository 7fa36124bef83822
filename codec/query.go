package codec

// QuerySM is the body of query_sm.
type QuerySM struct {
	MessageID     []byte
	SourceAddrTON uint8
	SourceAddrNPI uint8
	SourceAddr    []byte
	TLVs          TLVs
}

// Reset clears p for reuse.
func (p *QuerySM) Reset() {
	t := p.TLVs
	t.Reset()
	*p = QuerySM{TLVs: t}
}

// Decode parses a query_sm body; []byte fields are views into body.
func (p *QuerySM) Decode(body []byte) error {
	var e *DecodeError
	i := 0
	if p.MessageID, i, e = cstr(body, i, fMessageID); e != nil {
		return e
	}
	if len(body)-i < 2 {
		return errTruncSource
	}
	p.SourceAddrTON, p.SourceAddrNPI = body[i], body[i+1]
	if p.SourceAddr, i, e = cstr(body, i+2, fSourceAddr); e != nil {
		return e
	}
	return p.TLVs.decode(body[i:], false).orNil()
}

// Append appends the whole PDU; see SM.Append for the contract.
func (p *QuerySM) Append(dst []byte, h Header) ([]byte, error) {
	if e := ccheck(p.MessageID, fMessageID); e != nil {
		return dst, e
	}
	if e := ccheck(p.SourceAddr, fSourceAddr); e != nil {
		return dst, e
	}
	if p.TLVs.err != nil {
		return dst, p.TLVs.err
	}
	n := HeaderLen + 4 + len(p.MessageID) + len(p.SourceAddr) + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i := putC(w, HeaderLen, p.MessageID)
	i = putAddr(w, i, p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr)
	i += copy(w[i:], p.TLVs.raw)
	return finish(dst, start, i, n)
}

// QuerySMResp is the body of query_sm_resp. final_date accepts any length
// up to 16 characters (SMSCs send the 12-character short form too).
type QuerySMResp struct {
	MessageID    []byte
	FinalDate    []byte
	MessageState MessageState
	ErrorCode    uint8
	TLVs         TLVs
}

// Reset clears p for reuse.
func (p *QuerySMResp) Reset() {
	t := p.TLVs
	t.Reset()
	*p = QuerySMResp{TLVs: t}
}

// Decode parses a query_sm_resp body; an empty body (error response) is
// accepted. []byte fields are views into body.
func (p *QuerySMResp) Decode(body []byte) error {
	var e *DecodeError
	if len(body) == 0 {
		p.MessageID, p.FinalDate, p.MessageState, p.ErrorCode = nil, nil, 0, 0
		return p.TLVs.decode(nil, false).orNil()
	}
	i := 0
	if p.MessageID, i, e = cstr(body, i, fMessageID); e != nil {
		return e
	}
	if p.FinalDate, i, e = cstr(body, i, fFinalDate); e != nil {
		return e
	}
	if len(body)-i < 2 {
		return errTruncMsgState
	}
	p.MessageState, p.ErrorCode = MessageState(body[i]), body[i+1]
	return p.TLVs.decode(body[i+2:], false).orNil()
}

// Append appends the whole PDU; the body is always written.
func (p *QuerySMResp) Append(dst []byte, h Header) ([]byte, error) {
	if e := ccheck(p.MessageID, fMessageID); e != nil {
		return dst, e
	}
	if e := ccheck(p.FinalDate, fFinalDate); e != nil {
		return dst, e
	}
	if p.TLVs.err != nil {
		return dst, p.TLVs.err
	}
	n := HeaderLen + 4 + len(p.MessageID) + len(p.FinalDate) + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i := putC(w, HeaderLen, p.MessageID)
	i = putC(w, i, p.FinalDate)
	w[i], w[i+1] = byte(p.MessageState), p.ErrorCode
	i += 2
	i += copy(w[i:], p.TLVs.raw)
	return finish(dst, start, i, n)
}
