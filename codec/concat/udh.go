package concat

// Information element identifiers this package interprets (3GPP 23.040
// §9.2.3.24). Every other IEI is passed through untouched.
const (
	IEIConcat8  = 0x00 // concatenation, 8-bit reference: ref, total, seq
	IEIPorts8   = 0x04 // application port addressing, 8-bit: dst, src
	IEIPorts16  = 0x05 // application port addressing, 16-bit: dst, src
	IEIConcat16 = 0x08 // concatenation, 16-bit reference: ref(2), total, seq
)

// Sizes of a UDH holding only a concatenation IE, UDHL octet included.
const (
	Concat8UDHLen  = 6 // 05 00 03 RR TT SS
	Concat16UDHLen = 7 // 06 08 04 RR RR TT SS
)

// UDH is a parsed User Data Header. It holds a view into the payload given
// to ParseUDH and is valid only as long as that payload is not modified.
type UDH struct {
	ies []byte // the IE area: everything after UDHL, up to UDHL octets

	// Concat is the concatenation IE, valid when HasConcat is set. If the
	// header repeats the IE, the last occurrence wins (3GPP 23.040
	// §9.2.3.24: a repeated non-repeatable IE replaces the earlier one).
	Concat    Segment
	HasConcat bool
	// Ref16 tells a 16-bit reference (IEI 0x08) from an 8-bit one (0x00).
	Ref16 bool
}

// Len is the UDH size on the wire, UDHL octet included (0 for a zero UDH).
func (h UDH) Len() int {
	if h.ies == nil {
		return 0
	}
	return len(h.ies) + 1
}

// ParseUDH parses the User Data Header at the start of p (short_message or
// message_payload of a PDU whose esm_class has UDHI set) and returns it with
// the user data that follows it. Every IE is bounds-checked against UDHL and
// the known ones (concatenation, port addressing) are checked for length and
// values, so iterating a returned UDH cannot fail. h and body are views into
// p, valid while p is. It never allocates.
func ParseUDH(p []byte) (h UDH, body []byte, err error) {
	if len(p) == 0 {
		return UDH{}, nil, ErrUDHEmpty
	}
	udhl := int(p[0])
	if 1+udhl > len(p) {
		return UDH{}, nil, ErrUDHTooLong
	}
	ies := p[1 : 1+udhl : 1+udhl]
	for i := 0; i < len(ies); {
		if i+2 > len(ies) || i+2+int(ies[i+1]) > len(ies) {
			return UDH{}, nil, ErrIEOverflow
		}
		id, d := ies[i], ies[i+2:i+2+int(ies[i+1])]
		i += 2 + len(d)
		switch id {
		case IEIConcat8:
			if len(d) != 3 {
				return UDH{}, nil, ErrIELength
			}
			h.Concat = Segment{Ref: uint16(d[0]), Total: d[1], Seq: d[2]}
			h.HasConcat, h.Ref16 = true, false
		case IEIConcat16:
			if len(d) != 4 {
				return UDH{}, nil, ErrIELength
			}
			h.Concat = Segment{Ref: uint16(d[0])<<8 | uint16(d[1]), Total: d[2], Seq: d[3]}
			h.HasConcat, h.Ref16 = true, true
		case IEIPorts8:
			if len(d) != 2 {
				return UDH{}, nil, ErrIELength
			}
			continue
		case IEIPorts16:
			if len(d) != 4 {
				return UDH{}, nil, ErrIELength
			}
			continue
		default:
			continue
		}
		if err := h.Concat.Validate(); err != nil {
			return UDH{}, nil, err
		}
	}
	h.ies = ies
	return h, p[1+udhl:], nil
}

// IE is one information element: its identifier and a view of its data.
type IE struct {
	ID   byte
	Data []byte
}

// IEIter walks the IEs of a parsed UDH in wire order:
//
//	for it := h.IEs(); ; {
//		ie, ok := it.Next()
//		if !ok { break }
//		...
//	}
type IEIter struct{ rest []byte }

// IEs returns an iterator over every IE of h, concatenation IEs included.
func (h UDH) IEs() IEIter { return IEIter{rest: h.ies} }

// Next returns the next IE, or false at the end. Data is a view into the
// payload h was parsed from.
func (it *IEIter) Next() (IE, bool) {
	r := it.rest
	if len(r) < 2 || 2+int(r[1]) > len(r) {
		it.rest = nil
		return IE{}, false
	}
	n := 2 + int(r[1])
	it.rest = r[n:]
	return IE{ID: r[0], Data: r[2:n:n]}, true
}

// Find returns the data of the last IE with identifier id.
func (h UDH) Find(id byte) (data []byte, ok bool) {
	for it := h.IEs(); ; {
		ie, more := it.Next()
		if !more {
			return data, ok
		}
		if ie.ID == id {
			data, ok = ie.Data, true
		}
	}
}

// Ports returns the application port addressing IE (16-bit preferred over
// 8-bit when both are present), as used by WAP push and other port-routed
// traffic.
func (h UDH) Ports() (dst, src uint16, ok bool) {
	if d, ok := h.Find(IEIPorts16); ok {
		return uint16(d[0])<<8 | uint16(d[1]), uint16(d[2])<<8 | uint16(d[3]), true
	}
	if d, ok := h.Find(IEIPorts8); ok {
		return uint16(d[0]), uint16(d[1]), true
	}
	return 0, 0, false
}

// AppendIE appends one information element (IEI, IEDL, data) to dst, for
// building the extra IEs given to AppendUDH or SplitIEs. Data longer than
// an SMS can carry returns ErrUDHOverflow with dst unchanged.
func AppendIE(dst []byte, id byte, data []byte) ([]byte, error) {
	if len(data) > UserDataOctets-3 {
		return dst, ErrUDHOverflow
	}
	dst = append(dst, id, byte(len(data)))
	return append(dst, data...), nil
}

// AppendUDH appends a complete UDH to dst: UDHL, then the extra IEs (already
// encoded, e.g. by AppendIE; may be nil), then the concatenation IE for s
// with an 8-bit (ref16 false, s.Ref's low octet) or 16-bit reference. Extra
// IEs go first to match common practice (ports, then concat). It fails with dst unchanged if s is invalid, extra is malformed or
// contains a concatenation IE, or the UDH would not fit in one SMS.
func AppendUDH(dst []byte, s Segment, ref16 bool, extra []byte) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return dst, err
	}
	n, err := udhLen(ref16, extra)
	if err != nil {
		return dst, err
	}
	dst = append(dst, byte(n-1))
	dst = append(dst, extra...)
	return appendConcatIE(dst, s, ref16), nil
}

// udhLen is the size of a concat UDH with the extra IEs, UDHL octet
// included, after checking extra is well formed and concat-free.
func udhLen(ref16 bool, extra []byte) (int, error) {
	for i := 0; i < len(extra); {
		if i+2 > len(extra) || i+2+int(extra[i+1]) > len(extra) {
			return 0, ErrBadArgument
		}
		if extra[i] == IEIConcat8 || extra[i] == IEIConcat16 {
			return 0, ErrBadArgument
		}
		i += 2 + int(extra[i+1])
	}
	n := Concat8UDHLen + len(extra)
	if ref16 {
		n = Concat16UDHLen + len(extra)
	}
	if n > UserDataOctets {
		return 0, ErrUDHOverflow
	}
	return n, nil
}

func appendConcatIE(dst []byte, s Segment, ref16 bool) []byte {
	if ref16 {
		return append(dst, IEIConcat16, 4, byte(s.Ref>>8), byte(s.Ref), s.Total, s.Seq)
	}
	return append(dst, IEIConcat8, 3, byte(s.Ref), s.Total, s.Seq)
}
