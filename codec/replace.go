package codec

// ReplaceSM is the body of replace_sm (no data_coding, no esm_class: the
// replacement keeps the original's). Its response is header-only.
type ReplaceSM struct {
	MessageID            []byte
	SourceAddrTON        uint8
	SourceAddrNPI        uint8
	SourceAddr           []byte
	ScheduleDeliveryTime []byte
	ValidityPeriod       []byte
	RegisteredDelivery   uint8
	SMDefaultMsgID       uint8
	ShortMessage         []byte
	TLVs                 TLVs
}

// Reset clears p for reuse.
func (p *ReplaceSM) Reset() {
	t := p.TLVs
	t.Reset()
	*p = ReplaceSM{TLVs: t}
}

// Decode parses a replace_sm body; []byte fields are views into body.
func (p *ReplaceSM) Decode(body []byte) error {
	var e *DecodeError
	b := body
	i := 0
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
	if p.ScheduleDeliveryTime, i, e = cstr(b, i, fScheduleTime); e != nil {
		return e
	}
	if p.ValidityPeriod, i, e = cstr(b, i, fValidityPeriod); e != nil {
		return e
	}
	if len(b)-i < 2 {
		return errTruncRegistered
	}
	p.RegisteredDelivery, p.SMDefaultMsgID = b[i], b[i+1]
	if p.ShortMessage, i, e = shortMessage(b, i+2); e != nil {
		return e
	}
	return smDecoded(p.TLVs.decode(b[i:], true), p.ShortMessage, &p.TLVs)
}

func (p *ReplaceSM) check() *DecodeError {
	if e := ccheck(p.MessageID, fMessageID); e != nil {
		return e
	}
	if e := ccheck(p.SourceAddr, fSourceAddr); e != nil {
		return e
	}
	if e := ccheck(p.ScheduleDeliveryTime, fScheduleTime); e != nil {
		return e
	}
	if e := ccheck(p.ValidityPeriod, fValidityPeriod); e != nil {
		return e
	}
	return checkSM(p.ShortMessage, &p.TLVs)
}

// Append appends the whole PDU; see SM.Append for the contract.
func (p *ReplaceSM) Append(dst []byte, h Header) ([]byte, error) {
	if e := p.check(); e != nil {
		return dst, e
	}
	n := HeaderLen + 9 + len(p.MessageID) + len(p.SourceAddr) + len(p.ScheduleDeliveryTime) +
		len(p.ValidityPeriod) + len(p.ShortMessage) + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i := putC(w, HeaderLen, p.MessageID)
	i = putAddr(w, i, p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr)
	i = putC(w, i, p.ScheduleDeliveryTime)
	i = putC(w, i, p.ValidityPeriod)
	w[i], w[i+1] = p.RegisteredDelivery, p.SMDefaultMsgID
	i = putSM(w, i+2, p.ShortMessage, &p.TLVs)
	return finish(dst, start, i, n)
}
