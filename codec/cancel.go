package codec

// CancelSM is the body of cancel_sm. Its response is header-only
// (AppendHeaderOnly with CancelSMRespID).
type CancelSM struct {
	ServiceType     []byte
	MessageID       []byte
	SourceAddrTON   uint8
	SourceAddrNPI   uint8
	SourceAddr      []byte
	DestAddrTON     uint8
	DestAddrNPI     uint8
	DestinationAddr []byte
	TLVs            TLVs
}

// Reset clears p for reuse.
func (p *CancelSM) Reset() {
	t := p.TLVs
	t.Reset()
	*p = CancelSM{TLVs: t}
}

// Decode parses a cancel_sm body; []byte fields are views into body.
func (p *CancelSM) Decode(body []byte) error {
	var e *DecodeError
	b := body
	i := 0
	if p.ServiceType, i, e = cstr(b, i, fServiceType); e != nil {
		return e
	}
	if p.MessageID, i, e = cstr(b, i, fMessageID); e != nil {
		return e
	}
	if len(b)-i < 2 {
		return errTruncSource
	}
	p.SourceAddrTON, p.SourceAddrNPI = b[i], b[i+1]
	if p.SourceAddr, i, e = cstr(b, i+2, fSourceAddr); e != nil {
		return e
	}
	if len(b)-i < 2 {
		return errTruncDest
	}
	p.DestAddrTON, p.DestAddrNPI = b[i], b[i+1]
	if p.DestinationAddr, i, e = cstr(b, i+2, fDestAddr); e != nil {
		return e
	}
	return p.TLVs.decode(b[i:], false).orNil()
}

func (p *CancelSM) check() *DecodeError {
	if e := ccheck(p.ServiceType, fServiceType); e != nil {
		return e
	}
	if e := ccheck(p.MessageID, fMessageID); e != nil {
		return e
	}
	if e := ccheck(p.SourceAddr, fSourceAddr); e != nil {
		return e
	}
	if e := ccheck(p.DestinationAddr, fDestAddr); e != nil {
		return e
	}
	return p.TLVs.err
}

// Append appends the whole PDU; see SM.Append for the contract.
func (p *CancelSM) Append(dst []byte, h Header) ([]byte, error) {
	if e := p.check(); e != nil {
		return dst, e
	}
	n := HeaderLen + 8 + len(p.ServiceType) + len(p.MessageID) + len(p.SourceAddr) + len(p.DestinationAddr) + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i := putC(w, HeaderLen, p.ServiceType)
	i = putC(w, i, p.MessageID)
	i = putAddr(w, i, p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr)
	i = putAddr(w, i, p.DestAddrTON, p.DestAddrNPI, p.DestinationAddr)
	i += copy(w[i:], p.TLVs.raw)
	return finish(dst, start, i, n)
}
