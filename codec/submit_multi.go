package codec

import "encoding/binary"

// SubmitMulti is the body of submit_multi: submit_sm with a destination
// list instead of one destination address.
type SubmitMulti struct {
	ServiceType          []byte
	SourceAddrTON        uint8
	SourceAddrNPI        uint8
	SourceAddr           []byte
	Dests                Dests
	ESMClass             uint8
	ProtocolID           uint8
	PriorityFlag         uint8
	ScheduleDeliveryTime []byte
	ValidityPeriod       []byte
	RegisteredDelivery   uint8
	ReplaceIfPresentFlag uint8 // reserved in submit_multi, should be 0
	DataCoding           uint8
	SMDefaultMsgID       uint8
	ShortMessage         []byte
	TLVs                 TLVs
}

// Reset clears p for reuse, keeping builder capacity.
func (p *SubmitMulti) Reset() {
	own, d := p.TLVs.own[:0], p.Dests.own[:0]
	*p = SubmitMulti{}
	p.TLVs.own, p.Dests.own = own, d
}

// Decode parses a submit_multi body; []byte fields and the destination list
// are views into body, valid while body is; nothing is allocated.
func (p *SubmitMulti) Decode(body []byte) error {
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
	if i >= len(b) {
		return errTruncNumDests
	}
	nd := int(b[i])
	if nd == 0 || nd > MaxDests {
		return ErrNumDests
	}
	if i, e = p.Dests.decode(b, i+1, nd); e != nil {
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
	return smDecoded(p.TLVs.decode(b[i:], true), p.ShortMessage, &p.TLVs)
}

func (p *SubmitMulti) check() *DecodeError {
	if e := ccheck(p.ServiceType, fServiceType); e != nil {
		return e
	}
	if e := ccheck(p.SourceAddr, fSourceAddr); e != nil {
		return e
	}
	if p.Dests.err != nil {
		return p.Dests.err
	}
	if p.Dests.n == 0 {
		return ErrNumDests
	}
	if e := ccheck(p.ScheduleDeliveryTime, fScheduleTime); e != nil {
		return e
	}
	if e := ccheck(p.ValidityPeriod, fValidityPeriod); e != nil {
		return e
	}
	return checkSM(p.ShortMessage, &p.TLVs)
}

// Append appends the whole PDU; see SM.Append for the contract. An empty or
// over-full destination list is ErrNumDests.
func (p *SubmitMulti) Append(dst []byte, h Header) ([]byte, error) {
	if e := p.check(); e != nil {
		return dst, e
	}
	n := HeaderLen + 15 + len(p.ServiceType) + len(p.SourceAddr) + len(p.Dests.raw) +
		len(p.ScheduleDeliveryTime) + len(p.ValidityPeriod) + len(p.ShortMessage) + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i := putC(w, HeaderLen, p.ServiceType)
	i = putAddr(w, i, p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr)
	w[i] = byte(p.Dests.n)
	i++
	i += copy(w[i:], p.Dests.raw)
	w[i], w[i+1], w[i+2] = p.ESMClass, p.ProtocolID, p.PriorityFlag
	i = putC(w, i+3, p.ScheduleDeliveryTime)
	i = putC(w, i, p.ValidityPeriod)
	w[i], w[i+1], w[i+2], w[i+3] = p.RegisteredDelivery, p.ReplaceIfPresentFlag, p.DataCoding, p.SMDefaultMsgID
	i = putSM(w, i+4, p.ShortMessage, &p.TLVs)
	return finish(dst, start, i, n)
}

// Dest is one submit_multi dest_address. Flag is DestFlagSMEAddress (TON,
// NPI and Addr = destination_addr) or DestFlagDistributionList (Addr =
// dl_name; TON/NPI unused).
type Dest struct {
	Flag uint8
	TON  uint8
	NPI  uint8
	Addr []byte
}

// Dests is the submit_multi destination list: the raw wire region plus a
// fixed array of entry offsets, so decoding allocates nothing. Add builds a
// list in a buffer owned by the struct (reused across Reset).
type Dests struct {
	raw   []byte
	own   []byte
	off   [MaxDests + 1]uint16 // off[k] = start of entry k; off[n] = len(raw)
	n     int
	owned bool
	err   *DecodeError
}

// NumDests is number_of_dests.
func (d *Dests) NumDests() int { return d.n }

// Dest returns entry i (views into the list); the zero Dest if i is out of
// range.
func (d *Dests) Dest(i int) Dest {
	if i < 0 || i >= d.n {
		return Dest{}
	}
	o, end := int(d.off[i]), int(d.off[i+1])-1 // end: the NUL
	r := d.raw
	if r[o] == DestFlagSMEAddress {
		return Dest{Flag: r[o], TON: r[o+1], NPI: r[o+2], Addr: r[o+3 : end : end]}
	}
	return Dest{Flag: r[o], Addr: r[o+1 : end : end]}
}

// Reset empties the list, keeping the builder's capacity.
func (d *Dests) Reset() {
	d.raw = nil
	d.own = d.own[:0]
	d.n = 0
	d.owned = false
	d.err = nil
}

// Add appends a destination (copied). An unknown flag, an address over its
// limit or a 255th entry is recorded and fails the next Append.
func (d *Dests) Add(x Dest) {
	if d.err != nil {
		return
	}
	if d.n >= MaxDests {
		d.err = ErrNumDests
		return
	}
	switch x.Flag {
	case DestFlagSMEAddress:
		if e := ccheck(x.Addr, fDestAddr); e != nil {
			d.err = e
			return
		}
	case DestFlagDistributionList:
		if e := ccheck(x.Addr, fDLName); e != nil {
			d.err = e
			return
		}
	default:
		d.err = ErrDestFlag
		return
	}
	if !d.owned {
		d.own = append(d.own[:0], d.raw...)
		d.owned = true
	}
	d.own = append(d.own, x.Flag)
	if x.Flag == DestFlagSMEAddress {
		d.own = append(d.own, x.TON, x.NPI)
	}
	d.own = append(d.own, x.Addr...)
	d.own = append(d.own, 0)
	d.raw = d.own
	d.n++
	d.off[d.n] = uint16(len(d.own))
}

// AddSME appends an SME address destination.
func (d *Dests) AddSME(ton, npi uint8, addr []byte) {
	d.Add(Dest{Flag: DestFlagSMEAddress, TON: ton, NPI: npi, Addr: addr})
}

// AddDL appends a distribution list destination.
func (d *Dests) AddDL(name []byte) {
	d.Add(Dest{Flag: DestFlagDistributionList, Addr: name})
}

// Err reports the first error recorded by Add.
func (d *Dests) Err() error { return d.err.orNil() }

// decode walks count entries starting at b[i] and returns the offset after
// the list.
func (d *Dests) decode(b []byte, i, count int) (int, *DecodeError) {
	start := i
	d.n, d.owned, d.err = 0, false, nil
	d.off[0] = 0
	var e *DecodeError
	for k := 0; k < count; k++ {
		if i >= len(b) {
			return i, errTruncDestFlag
		}
		switch b[i] {
		case DestFlagSMEAddress:
			if len(b)-i < 3 {
				return i, errTruncDestFlag
			}
			if _, i, e = cstr(b, i+3, fDestAddr); e != nil {
				return i, e
			}
		case DestFlagDistributionList:
			if _, i, e = cstr(b, i+1, fDLName); e != nil {
				return i, e
			}
		default:
			return i, ErrDestFlag
		}
		d.off[k+1] = uint16(i - start)
	}
	d.raw = b[start:i:i]
	d.n = count
	return i, nil
}

// SubmitMultiResp is the body of submit_multi_resp.
type SubmitMultiResp struct {
	MessageID []byte
	Unsuccess UnsuccessList
	TLVs      TLVs
}

// Reset clears p for reuse.
func (p *SubmitMultiResp) Reset() {
	p.MessageID = nil
	p.Unsuccess.Reset()
	p.TLVs.Reset()
}

// Decode parses a submit_multi_resp body; an empty body (error response) is
// accepted. Views are valid while body is.
func (p *SubmitMultiResp) Decode(body []byte) error {
	var e *DecodeError
	p.Unsuccess.raw, p.Unsuccess.n, p.Unsuccess.owned, p.Unsuccess.err = nil, 0, false, nil
	if len(body) == 0 {
		p.MessageID = nil
		return p.TLVs.decode(nil, false).orNil()
	}
	i := 0
	if p.MessageID, i, e = cstr(body, i, fMessageID); e != nil {
		return e
	}
	if i >= len(body) {
		return errTruncUnsuccess
	}
	if i, e = p.Unsuccess.decode(body, i+1, int(body[i])); e != nil {
		return e
	}
	return p.TLVs.decode(body[i:], false).orNil()
}

// Append appends the whole PDU; the body is always written.
func (p *SubmitMultiResp) Append(dst []byte, h Header) ([]byte, error) {
	if e := ccheck(p.MessageID, fMessageID); e != nil {
		return dst, e
	}
	if p.Unsuccess.err != nil {
		return dst, p.Unsuccess.err
	}
	if p.TLVs.err != nil {
		return dst, p.TLVs.err
	}
	n := HeaderLen + 2 + len(p.MessageID) + len(p.Unsuccess.raw) + len(p.TLVs.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i := putC(w, HeaderLen, p.MessageID)
	w[i] = byte(p.Unsuccess.n)
	i++
	i += copy(w[i:], p.Unsuccess.raw)
	i += copy(w[i:], p.TLVs.raw)
	return finish(dst, start, i, n)
}

// Unsuccess is one unsuccess_sme entry of submit_multi_resp.
type Unsuccess struct {
	TON    uint8
	NPI    uint8
	Addr   []byte
	Status Status // error_status_code
}

// UnsuccessList is the unsuccess_sme list: a raw view plus offsets, like
// Dests.
type UnsuccessList struct {
	raw   []byte
	own   []byte
	off   [MaxUnsuccess + 1]uint16
	n     int
	owned bool
	err   *DecodeError
}

// Len is no_unsuccess.
func (u *UnsuccessList) Len() int { return u.n }

// At returns entry i (Addr is a view); the zero value if out of range.
func (u *UnsuccessList) At(i int) Unsuccess {
	if i < 0 || i >= u.n {
		return Unsuccess{}
	}
	o, end := int(u.off[i]), int(u.off[i+1])
	r := u.raw
	return Unsuccess{
		TON:    r[o],
		NPI:    r[o+1],
		Addr:   r[o+2 : end-5 : end-5],
		Status: Status(binary.BigEndian.Uint32(r[end-4 : end])),
	}
}

// Reset empties the list, keeping the builder's capacity.
func (u *UnsuccessList) Reset() {
	u.raw = nil
	u.own = u.own[:0]
	u.n = 0
	u.owned = false
	u.err = nil
}

// Add appends an entry (copied); an address over 20 characters or a 256th
// entry is recorded and fails the next Append.
func (u *UnsuccessList) Add(x Unsuccess) {
	if u.err != nil {
		return
	}
	if u.n >= MaxUnsuccess {
		u.err = ErrNumUnsuccess
		return
	}
	if e := ccheck(x.Addr, fUnsuccessAddr); e != nil {
		u.err = e
		return
	}
	if !u.owned {
		u.own = append(u.own[:0], u.raw...)
		u.owned = true
	}
	u.own = append(u.own, x.TON, x.NPI)
	u.own = append(u.own, x.Addr...)
	u.own = append(u.own, 0, byte(x.Status>>24), byte(x.Status>>16), byte(x.Status>>8), byte(x.Status))
	u.raw = u.own
	u.n++
	u.off[u.n] = uint16(len(u.own))
}

// Err reports the first error recorded by Add.
func (u *UnsuccessList) Err() error { return u.err.orNil() }

func (u *UnsuccessList) decode(b []byte, i, count int) (int, *DecodeError) {
	start := i
	u.n, u.owned, u.err = 0, false, nil
	u.off[0] = 0
	var e *DecodeError
	for k := 0; k < count; k++ {
		if len(b)-i < 2 {
			return i, errTruncUnsuccess
		}
		if _, i, e = cstr(b, i+2, fUnsuccessAddr); e != nil {
			return i, e
		}
		if len(b)-i < 4 {
			return i, errTruncUnsuccess
		}
		i += 4
		u.off[k+1] = uint16(i - start)
	}
	u.raw = b[start:i:i]
	u.n = count
	return i, nil
}
