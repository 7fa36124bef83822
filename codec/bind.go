package codec

// Bind is the body of bind_transmitter, bind_receiver and bind_transceiver
// (the command id tells them apart).
type Bind struct {
	SystemID         []byte
	Password         []byte
	SystemType       []byte
	InterfaceVersion uint8
	AddrTON          uint8
	AddrNPI          uint8
	AddressRange     []byte
	TLVs             TLVs // none defined by v3.4; kept if a peer sends some
}

// Reset clears p for reuse.
func (p *Bind) Reset() {
	t := p.TLVs
	t.Reset()
	*p = Bind{TLVs: t}
}

// Decode parses a bind body (the PDU after its header). []byte fields are
// views into body, valid while body is. On error p's contents are
// unspecified.
func (p *Bind) Decode(body []byte) error {
	var e *DecodeError
	b := body
	i := 0
	if p.SystemID, i, e = cstr(b, i, fSystemID); e != nil {
		return e
	}
	if p.Password, i, e = cstr(b, i, fPassword); e != nil {
		return e
	}
	if p.SystemType, i, e = cstr(b, i, fSystemType); e != nil {
		return e
	}
	if len(b)-i < 3 {
		return errTruncInterface
	}
	p.InterfaceVersion, p.AddrTON, p.AddrNPI = b[i], b[i+1], b[i+2]
	i += 3
	if p.AddressRange, i, e = cstr(b, i, fAddressRange); e != nil {
		return e
	}
	return p.TLVs.decode(b[i:], false).orNil()
}

func (p *Bind) check() *DecodeError {
	if e := ccheck(p.SystemID, fSystemID); e != nil {
		return e
	}
	if e := ccheck(p.Password, fPassword); e != nil {
		return e
	}
	if e := ccheck(p.SystemType, fSystemType); e != nil {
		return e
	}
	if e := ccheck(p.AddressRange, fAddressRange); e != nil {
		return e
	}
	return p.TLVs.err
}

// Append appends the whole PDU (header from h, command_length computed) to
// dst. dst's existing bytes are not touched; no allocation when dst has the
// capacity. A field over its limit returns the matching *DecodeError and dst
// unchanged.
func (p *Bind) Append(dst []byte, h Header) ([]byte, error) {
	if e := p.check(); e != nil {
		return dst, e
	}
	n := HeaderLen + len(p.SystemID) + len(p.Password) + len(p.SystemType) + len(p.AddressRange) + 7 + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i := putC(w, HeaderLen, p.SystemID)
	i = putC(w, i, p.Password)
	i = putC(w, i, p.SystemType)
	w[i], w[i+1], w[i+2] = p.InterfaceVersion, p.AddrTON, p.AddrNPI
	i = putC(w, i+3, p.AddressRange)
	i += copy(w[i:], p.TLVs.raw)
	return finish(dst, start, i, n)
}

// finish checks that the encoder wrote exactly the computed length.
func finish(dst []byte, start, i, n int) ([]byte, error) {
	if i != n {
		return dst[:start], ErrEncodeLength
	}
	return dst, nil
}

// BindResp is the body of bind_transmitter_resp, bind_receiver_resp and
// bind_transceiver_resp: system_id and the sc_interface_version TLV. A body
// may be absent when command_status != 0; Decode accepts it (empty fields).
type BindResp struct {
	SystemID []byte
	TLVs     TLVs
}

// Reset clears p for reuse.
func (p *BindResp) Reset() {
	p.SystemID = nil
	p.TLVs.Reset()
}

// SCInterfaceVersion returns the sc_interface_version TLV.
func (p *BindResp) SCInterfaceVersion() (uint8, bool) {
	return p.TLVs.Uint8(TagSCInterfaceVersion)
}

// Decode parses a bind_*_resp body; an empty body is accepted (error
// responses may omit it). Views are valid while body is.
func (p *BindResp) Decode(body []byte) error {
	var e *DecodeError
	i := 0
	if len(body) == 0 {
		p.SystemID = nil
		return p.TLVs.decode(nil, false).orNil()
	}
	if p.SystemID, i, e = cstr(body, i, fSystemID); e != nil {
		return e
	}
	return p.TLVs.decode(body[i:], false).orNil()
}

// Append appends the whole PDU; the body is always written, also for error
// statuses (SMPP 3.4 §4.1.2 lets it be omitted, but some client libraries
// cannot decode a response without it). See Bind.Append for the contract.
func (p *BindResp) Append(dst []byte, h Header) ([]byte, error) {
	if e := ccheck(p.SystemID, fSystemID); e != nil {
		return dst, e
	}
	if p.TLVs.err != nil {
		return dst, p.TLVs.err
	}
	n := HeaderLen + len(p.SystemID) + 1 + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i := putC(w, HeaderLen, p.SystemID)
	i += copy(w[i:], p.TLVs.raw)
	return finish(dst, start, i, n)
}

// Outbind is the body of outbind (SMSC to ESME).
type Outbind struct {
	SystemID []byte
	Password []byte
	TLVs     TLVs
}

// Reset clears p for reuse.
func (p *Outbind) Reset() {
	p.SystemID, p.Password = nil, nil
	p.TLVs.Reset()
}

// Decode parses an outbind body; views are valid while body is.
func (p *Outbind) Decode(body []byte) error {
	var e *DecodeError
	i := 0
	if p.SystemID, i, e = cstr(body, i, fSystemID); e != nil {
		return e
	}
	if p.Password, i, e = cstr(body, i, fPassword); e != nil {
		return e
	}
	return p.TLVs.decode(body[i:], false).orNil()
}

// Append appends the whole PDU; see Bind.Append for the contract.
func (p *Outbind) Append(dst []byte, h Header) ([]byte, error) {
	if e := ccheck(p.SystemID, fSystemID); e != nil {
		return dst, e
	}
	if e := ccheck(p.Password, fPassword); e != nil {
		return dst, e
	}
	if p.TLVs.err != nil {
		return dst, p.TLVs.err
	}
	n := HeaderLen + len(p.SystemID) + len(p.Password) + 2 + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i := putC(w, HeaderLen, p.SystemID)
	i = putC(w, i, p.Password)
	i += copy(w[i:], p.TLVs.raw)
	return finish(dst, start, i, n)
}
