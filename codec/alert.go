package codec

// AlertNotification is the body of alert_notification (SMSC to ESME, never
// answered). Optional TLV: ms_availability_status.
type AlertNotification struct {
	SourceAddrTON uint8
	SourceAddrNPI uint8
	SourceAddr    []byte
	ESMEAddrTON   uint8
	ESMEAddrNPI   uint8
	ESMEAddr      []byte
	TLVs          TLVs
}

// Reset clears p for reuse.
func (p *AlertNotification) Reset() {
	t := p.TLVs
	t.Reset()
	*p = AlertNotification{TLVs: t}
}

// Decode parses an alert_notification body; []byte fields are views.
func (p *AlertNotification) Decode(body []byte) error {
	var e *DecodeError
	b := body
	if len(b) < 2 {
		return errTruncSource
	}
	p.SourceAddrTON, p.SourceAddrNPI = b[0], b[1]
	i := 2
	if p.SourceAddr, i, e = cstr(b, i, fSourceAddr65); e != nil {
		return e
	}
	if len(b)-i < 2 {
		return errTruncESMEAddr
	}
	p.ESMEAddrTON, p.ESMEAddrNPI = b[i], b[i+1]
	if p.ESMEAddr, i, e = cstr(b, i+2, fESMEAddr); e != nil {
		return e
	}
	return p.TLVs.decode(b[i:], false).orNil()
}

// Append appends the whole PDU; see SM.Append for the contract.
func (p *AlertNotification) Append(dst []byte, h Header) ([]byte, error) {
	if e := ccheck(p.SourceAddr, fSourceAddr65); e != nil {
		return dst, e
	}
	if e := ccheck(p.ESMEAddr, fESMEAddr); e != nil {
		return dst, e
	}
	if p.TLVs.err != nil {
		return dst, p.TLVs.err
	}
	n := HeaderLen + 6 + len(p.SourceAddr) + len(p.ESMEAddr) + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i := putAddr(w, HeaderLen, p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr)
	i = putAddr(w, i, p.ESMEAddrTON, p.ESMEAddrNPI, p.ESMEAddr)
	i += copy(w[i:], p.TLVs.raw)
	return finish(dst, start, i, n)
}
