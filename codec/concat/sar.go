package concat

// sar_* TLV tags (SMPP 3.4 §5.3.2.22-24).
const (
	TagSARMsgRefNum      = 0x020C // Int 2: reference shared by all segments
	TagSARTotalSegments  = 0x020E // Int 1: 1..255
	TagSARSegmentSeqnum  = 0x020F // Int 1: 1..Total
	SARTLVsLen           = 16     // the three TLVs AppendSAR writes
	sarRefLen, sarIntLen = 2, 1
)

// ParseSAR builds a Segment from the values of the three sar_* TLVs; pass
// nil for a TLV the PDU did not carry. present is false (and err nil) when
// none of them is there. Some but not all → ErrSARIncomplete (SMPP 3.4
// §5.3.2.22: all three must be present); a value of the wrong size →
// ErrSARLength; then the Segment.Validate checks apply. Never allocates.
func ParseSAR(ref, total, seq []byte) (s Segment, present bool, err error) {
	if ref == nil && total == nil && seq == nil {
		return Segment{}, false, nil
	}
	if ref == nil || total == nil || seq == nil {
		return Segment{}, true, ErrSARIncomplete
	}
	if len(ref) != sarRefLen || len(total) != sarIntLen || len(seq) != sarIntLen {
		return Segment{}, true, ErrSARLength
	}
	s = Segment{Ref: uint16(ref[0])<<8 | uint16(ref[1]), Total: total[0], Seq: seq[0]}
	return s, true, s.Validate()
}

// presentEmpty is a non-nil empty value: ParseSAR treats nil as absent.
var presentEmpty = []byte{}

// SARCollector gathers the sar_* TLVs while a caller walks a PDU's TLVs in
// wire order, so it needs no second pass. The zero value is ready; reuse it
// per PDU with Reset. A repeated sar_* tag keeps the last value, like any
// other repeated TLV.
type SARCollector struct {
	ref, total, seq []byte
}

// Reset forgets everything collected.
func (c *SARCollector) Reset() { *c = SARCollector{} }

// Observe records tag/value if tag is a sar_* tag and reports whether it
// was one. value is kept as a view until Result.
func (c *SARCollector) Observe(tag uint16, value []byte) bool {
	if value == nil {
		value = presentEmpty // a zero-length TLV is present, not absent
	}
	switch tag {
	case TagSARMsgRefNum:
		c.ref = value
	case TagSARTotalSegments:
		c.total = value
	case TagSARSegmentSeqnum:
		c.seq = value
	default:
		return false
	}
	return true
}

// Result is ParseSAR over what Observe collected.
func (c *SARCollector) Result() (Segment, bool, error) {
	return ParseSAR(c.ref, c.total, c.seq)
}

// AppendSAR appends the three sar_* TLVs for s to dst (tag u16, length u16,
// value, all big-endian: SARTLVsLen octets) in tag order. s must satisfy
// Validate; otherwise dst is returned unchanged with the error.
func AppendSAR(dst []byte, s Segment) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return dst, err
	}
	return append(dst,
		byte(TagSARMsgRefNum>>8), byte(TagSARMsgRefNum&0xFF), 0, sarRefLen, byte(s.Ref>>8), byte(s.Ref),
		byte(TagSARTotalSegments>>8), byte(TagSARTotalSegments&0xFF), 0, sarIntLen, s.Total,
		byte(TagSARSegmentSeqnum>>8), byte(TagSARSegmentSeqnum&0xFF), 0, sarIntLen, s.Seq,
	), nil
}
