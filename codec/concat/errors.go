package concat

import "errors"

// ErrorKind classifies what was wrong, so callers can pick an SMPP status
// or a counter with a switch instead of matching messages.
type ErrorKind uint8

const (
	KindNone ErrorKind = iota
	// KindUDHEmpty: UDHI set but the payload has no UDHL octet.
	KindUDHEmpty
	// KindUDHTooLong: UDHL points beyond the end of the payload.
	KindUDHTooLong
	// KindIEOverflow: an IE header or its IEDL runs past the UDHL.
	KindIEOverflow
	// KindIELength: a known IE (concat, ports) has the wrong IEDL.
	KindIELength
	// KindTotalZero: concat total (or sar_total_segments) is 0.
	KindTotalZero
	// KindSeqZero: concat seq (or sar_segment_seqnum) is 0.
	KindSeqZero
	// KindSeqBeyondTotal: seq is larger than total.
	KindSeqBeyondTotal
	// KindSARIncomplete: some but not all of the three sar_* TLVs.
	KindSARIncomplete
	// KindSARLength: a sar_* TLV value has the wrong length.
	KindSARLength
	// KindTooManyParts: the payload needs more than 255 parts.
	KindTooManyParts
	// KindBadPayload: the payload is not valid in its alphabet (a GSM7
	// octet above 0x7F, an odd UCS2 length).
	KindBadPayload
	// KindUDHOverflow: the UDH being built exceeds 255 octets or leaves no
	// room for text.
	KindUDHOverflow
	// KindBadArgument: unknown Alphabet or Method, malformed extra IEs, or
	// extra IEs that contain a concatenation IE.
	KindBadArgument
	// KindDuplicate: the reassembler already holds this seq; first wins.
	KindDuplicate
	// KindTotalMismatch: the reassembler holds this reference with a
	// different total; the part is dropped.
	KindTotalMismatch
	// KindTooLarge: one message is larger than the reassembler's byte bound.
	KindTooLarge
)

var kindNames = [...]string{
	KindNone:           "none",
	KindUDHEmpty:       "udh empty",
	KindUDHTooLong:     "udh too long",
	KindIEOverflow:     "ie overflow",
	KindIELength:       "ie length",
	KindTotalZero:      "total zero",
	KindSeqZero:        "seq zero",
	KindSeqBeyondTotal: "seq beyond total",
	KindSARIncomplete:  "sar incomplete",
	KindSARLength:      "sar length",
	KindTooManyParts:   "too many parts",
	KindBadPayload:     "bad payload",
	KindUDHOverflow:    "udh overflow",
	KindBadArgument:    "bad argument",
	KindDuplicate:      "duplicate",
	KindTotalMismatch:  "total mismatch",
	KindTooLarge:       "too large",
}

// String returns the kind's short name.
func (k ErrorKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Error is the only error type the package returns. The package hands out
// the preallocated values below, so returning an error never allocates;
// compare with errors.Is or read Kind.
type Error struct {
	Kind ErrorKind
	msg  string
}

func (e *Error) Error() string { return e.msg }

// KindOf returns the kind of err, or KindNone if err is not from concat.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindNone
}

var (
	ErrUDHEmpty       = &Error{KindUDHEmpty, "concat: UDHI set but payload is empty"}
	ErrUDHTooLong     = &Error{KindUDHTooLong, "concat: UDHL beyond end of payload"}
	ErrIEOverflow     = &Error{KindIEOverflow, "concat: information element runs past UDHL"}
	ErrIELength       = &Error{KindIELength, "concat: information element has wrong length"}
	ErrTotalZero      = &Error{KindTotalZero, "concat: total segments is 0"}
	ErrSeqZero        = &Error{KindSeqZero, "concat: segment number is 0"}
	ErrSeqBeyondTotal = &Error{KindSeqBeyondTotal, "concat: segment number above total"}
	ErrSARIncomplete  = &Error{KindSARIncomplete, "concat: sar_msg_ref_num, sar_total_segments and sar_segment_seqnum must all be present"}
	ErrSARLength      = &Error{KindSARLength, "concat: sar_* TLV has wrong length"}
	ErrTooManyParts   = &Error{KindTooManyParts, "concat: message needs more than 255 parts"}
	ErrBadPayload     = &Error{KindBadPayload, "concat: payload invalid for its alphabet"}
	ErrUDHOverflow    = &Error{KindUDHOverflow, "concat: user data header too long"}
	ErrBadArgument    = &Error{KindBadArgument, "concat: bad alphabet, method or extra IEs"}
	ErrDuplicate      = &Error{KindDuplicate, "concat: duplicate segment ignored"}
	ErrTotalMismatch  = &Error{KindTotalMismatch, "concat: segment total differs from earlier segments"}
	ErrTooLarge       = &Error{KindTooLarge, "concat: message exceeds reassembly byte bound"}
)
