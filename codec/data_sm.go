package codec

// DataSM is the body of data_sm: no short_message, the payload travels in
// the message_payload TLV. Addresses may be up to 65 octets.
type DataSM struct {
	ServiceType        []byte
	SourceAddrTON      uint8
	SourceAddrNPI      uint8
	SourceAddr         []byte
	DestAddrTON        uint8
	DestAddrNPI        uint8
	DestinationAddr    []byte
	ESMClass           uint8
	RegisteredDelivery uint8
	DataCoding         uint8
	TLVs               TLVs
}

// Reset clears p for reuse, in place as SM.Reset.
func (p *DataSM) Reset() {
	own := p.TLVs.own[:0]
	*p = DataSM{}
	p.TLVs.own = own
}

// Decode parses a data_sm body; []byte fields are views into body.
func (p *DataSM) Decode(body []byte) error {
	var e *DecodeError
	b := body
	i := 0
	if p.ServiceType, i, e = cstr(b, i, fServiceType); e != nil {
		return e
	}
	if len(b)-i < 2 {
		return errTruncSource
	}
	p.SourceAddrTON, p.SourceAddrNPI = b[i], b[i+1]
	if p.SourceAddr, i, e = cstr(b, i+2, fSourceAddr65); e != nil {
		return e
	}
	if len(b)-i < 2 {
		return errTruncDest
	}
	p.DestAddrTON, p.DestAddrNPI = b[i], b[i+1]
	if p.DestinationAddr, i, e = cstr(b, i+2, fDestAddr65); e != nil {
		return e
	}
	if len(b)-i < 3 {
		return errTruncESMClass
	}
	p.ESMClass, p.RegisteredDelivery, p.DataCoding = b[i], b[i+1], b[i+2]
	return p.TLVs.decode(b[i+3:], false).orNil()
}

func (p *DataSM) check() *DecodeError {
	if e := ccheck(p.ServiceType, fServiceType); e != nil {
		return e
	}
	if e := ccheck(p.SourceAddr, fSourceAddr65); e != nil {
		return e
	}
	if e := ccheck(p.DestinationAddr, fDestAddr65); e != nil {
		return e
	}
	return p.TLVs.err
}

// Append appends the whole PDU; dst's existing bytes are untouched, no
// allocation with capacity, limits checked.
func (p *DataSM) Append(dst []byte, h Header) ([]byte, error) {
	if e := p.check(); e != nil {
		return dst, e
	}
	n := HeaderLen + 10 + len(p.ServiceType) + len(p.SourceAddr) + len(p.DestinationAddr) + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i := putC(w, HeaderLen, p.ServiceType)
	i = putAddr(w, i, p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr)
	i = putAddr(w, i, p.DestAddrTON, p.DestAddrNPI, p.DestinationAddr)
	w[i], w[i+1], w[i+2] = p.ESMClass, p.RegisteredDelivery, p.DataCoding
	i += 3
	i += copy(w[i:], p.TLVs.raw)
	return finish(dst, start, i, n)
}
