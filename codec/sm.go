package codec

// SM is the shared body of submit_sm and deliver_sm (identical layouts,
// SMPP 3.4 §4.4.1, §4.6.1). For deliver_sm the spec wants schedule_delivery_time,
// validity_period, replace_if_present_flag and sm_default_msg_id empty/0;
// that is semantic validation and left to the caller.
type SM struct {
	ServiceType          []byte
	SourceAddrTON        uint8
	SourceAddrNPI        uint8
	SourceAddr           []byte
	DestAddrTON          uint8
	DestAddrNPI          uint8
	DestinationAddr      []byte
	ESMClass             uint8
	ProtocolID           uint8
	PriorityFlag         uint8
	ScheduleDeliveryTime []byte
	ValidityPeriod       []byte
	RegisteredDelivery   uint8
	ReplaceIfPresentFlag uint8
	DataCoding           uint8
	SMDefaultMsgID       uint8
	ShortMessage         []byte // sm_length is len(ShortMessage)
	TLVs                 TLVs
}

// SubmitSM is the body of submit_sm.
type SubmitSM = SM

// DeliverSM is the body of deliver_sm.
type DeliverSM = SM

// Reset clears p for reuse, keeping the TLV builder's capacity. It zeroes
// p in place and puts the builder back: a composite literal would be built
// on the stack and copied with wide loads that stall on store forwarding.
func (p *SM) Reset() {
	own := p.TLVs.own[:0]
	*p = SM{}
	p.TLVs.own = own
}

// Decode parses a submit_sm/deliver_sm body (the PDU after its header).
// []byte fields are views into body, valid while body is; nothing is
// allocated. Length rules and their statuses: see the package doc. On error
// p's contents are unspecified.
func (p *SM) Decode(body []byte) error {
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
	if len(b)-i < 3 {
		return errTruncESMClass
	}
	p.ESMClass, p.ProtocolID, p.PriorityFlag = b[i], b[i+1], b[i+2]
	if p.ScheduleDeliveryTime, i, e = cstr(b, i+3, fScheduleTime); e != nil {
		return e
	}
	if p.ValidityPeriod, i, e = cstr(b, i, fValidityPeriod); e != nil {
		return e
	}
	if len(b)-i < 4 {
		return errTruncRegistered
	}
	p.RegisteredDelivery, p.ReplaceIfPresentFlag, p.DataCoding, p.SMDefaultMsgID = b[i], b[i+1], b[i+2], b[i+3]
	if p.ShortMessage, i, e = shortMessage(b, i+4); e != nil {
		return e
	}
	// smDecoded's rule spelled out: its merged return paths cost this,
	// the hottest decode, 2% (BenchmarkDecodeSubmitSMBody).
	if e = p.TLVs.decode(b[i:], true); e != nil {
		return e
	}
	if len(p.ShortMessage) != 0 && p.TLVs.payload {
		return ErrSMAndPayload // text in both (SMPP 3.4 §4.4.1)
	}
	return nil
}

// check validates everything but embedded NULs, which Append detects while
// copying (checkNUL then names the field).
func (p *SM) check() *DecodeError {
	if e := clen(p.ServiceType, fServiceType); e != nil {
		return e
	}
	if e := clen(p.SourceAddr, fSourceAddr); e != nil {
		return e
	}
	if e := clen(p.DestinationAddr, fDestAddr); e != nil {
		return e
	}
	if e := clen(p.ScheduleDeliveryTime, fScheduleTime); e != nil {
		return e
	}
	if e := clen(p.ValidityPeriod, fValidityPeriod); e != nil {
		return e
	}
	return checkSM(p.ShortMessage, &p.TLVs)
}

// checkNUL finds the C-Octet String that holds a NUL (cold path).
func (p *SM) checkNUL() *DecodeError {
	for _, c := range [...]struct {
		v []byte
		f *cfield
	}{{p.ServiceType, fServiceType}, {p.SourceAddr, fSourceAddr}, {p.DestinationAddr, fDestAddr},
		{p.ScheduleDeliveryTime, fScheduleTime}, {p.ValidityPeriod, fValidityPeriod}} {
		if e := ccheck(c.v, c.f); e != nil {
			return e
		}
	}
	return ErrEncodeLength
}

// Append appends the whole PDU (header from h with CommandID SubmitSMID or
// DeliverSMID; command_length computed) to dst. dst's existing bytes are not
// touched; no allocation when dst has the capacity. A field over its limit
// returns the matching *DecodeError and dst with its original length.
func (p *SM) Append(dst []byte, h Header) ([]byte, error) {
	if e := p.check(); e != nil {
		return dst, e
	}
	n := HeaderLen + 17 + len(p.ServiceType) + len(p.SourceAddr) + len(p.DestinationAddr) +
		len(p.ScheduleDeliveryTime) + len(p.ValidityPeriod) + len(p.ShortMessage) + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	var z, z1 uint64
	i, z := putCS(w, HeaderLen, p.ServiceType)
	w[i], w[i+1] = p.SourceAddrTON, p.SourceAddrNPI
	i, z1 = putCS(w, i+2, p.SourceAddr)
	z |= z1
	w[i], w[i+1] = p.DestAddrTON, p.DestAddrNPI
	i, z1 = putCS(w, i+2, p.DestinationAddr)
	z |= z1
	w[i], w[i+1], w[i+2] = p.ESMClass, p.ProtocolID, p.PriorityFlag
	i, z1 = putCS(w, i+3, p.ScheduleDeliveryTime)
	z |= z1
	i, z1 = putCS(w, i, p.ValidityPeriod)
	z |= z1
	w[i], w[i+1], w[i+2], w[i+3] = p.RegisteredDelivery, p.ReplaceIfPresentFlag, p.DataCoding, p.SMDefaultMsgID
	i = putSM(w, i+4, p.ShortMessage, &p.TLVs)
	if z != 0 {
		return dst[:start], p.checkNUL()
	}
	return finish(dst, start, i, n)
}
