package concat

import (
	"encoding/binary"
	"slices"
)

// Part is one SMS of a split message. UDH and Body are views: UDH into the
// buf returned by Split, Body into the payload given to Split; they stay
// valid while neither is modified. The PDU for a part carries UDH followed
// by Body in short_message and sets esm_class UDHI when UDH is non-nil; with
// Method SAR it carries Body and the TLVs from AppendSAR(dst, p.Segment).
// A message that fits one SMS is one part with Total 1 and no UDH: send it
// plainly, without UDHI or sar_* TLVs.
type Part struct {
	UDH  []byte
	Body []byte
	Segment
}

// Capacity returns how many payload octets fit in one SMS next to a UDH of
// udhOctets octets (UDHL included; 0 = no UDH), for a payload in alphabet a
// (3GPP 23.040 §9.2.3.24):
//
//	GSM7   ⌊(140−udh)·8/7⌋ septets (one octet each, unpacked): 160, 153 (6), 152 (7)
//	Octet  140−udh octets: 140, 134, 133
//	UCS2   ⌊(140−udh)/2⌋ units, as octets: 140, 134, 132 (70, 67, 66 units)
//
// GSM7 counts the fill bits the air interface inserts to start the text on a
// septet boundary (3GPP 23.040 §9.2.3.24). It returns 0 for an unknown alphabet or
// a UDH that leaves no room.
func Capacity(a Alphabet, udhOctets int) int {
	if udhOctets < 0 || udhOctets >= UserDataOctets {
		return 0
	}
	room := UserDataOctets - udhOctets
	switch a {
	case GSM7:
		return room * 8 / 7
	case Octet:
		return room
	case UCS2:
		return room &^ 1
	}
	return 0
}

// minUnit is the largest indivisible unit an alphabet has (ESC pair,
// surrogate pair): a part must hold at least that much.
func minUnit(a Alphabet) int {
	switch a {
	case GSM7:
		return 2
	case UCS2:
		return 4
	}
	return 1
}

// Split cuts payload (encoded in alphabet a) into the parts of one long
// message tied together by method m and reference ref (UDH8 uses ref's low
// octet; every Part.Ref reports the reference actually sent).
//
// Per-part sizes are Capacity(a, udh) with udh = 6 for UDH8, 7 for UDH16,
// and 6 for SAR too: the SMSC builds an 8-bit-reference UDH from the TLVs
// before the radio, and each segment still has to fit next to it, so SAR
// parts are 153 septets, 134 octets
// or 67 UCS2 units, not 160/140/70. A payload that fits one SMS (160
// septets, 140 octets, 70 units) is returned as a single part without UDH.
// No part ends inside a GSM7 escape pair or a UTF-16 surrogate pair; such a
// part is one unit shorter.
//
// The parts are appended to dst and the UDHs to buf; both are grown at most
// once, so pass slices with spare capacity (255 parts, 255·7 octets covers
// everything) to split without allocating. Errors: ErrBadArgument,
// ErrBadPayload (GSM7 octet above 0x7F, odd UCS2 length), ErrTooManyParts;
// on error dst and buf are returned unchanged.
func Split(dst []Part, buf []byte, payload []byte, a Alphabet, m Method, ref uint16) ([]Part, []byte, error) {
	return SplitIEs(dst, buf, payload, a, m, ref, nil)
}

// SplitIEs is Split with extra IEs (encoded, e.g. by AppendIE: port
// addressing for WAP push) repeated in every part's UDH ahead of the
// concatenation IE; their size shrinks each part. A payload that fits one
// SMS next to the extra IEs becomes one part whose UDH holds only them.
// Method SAR cannot carry IEs: extra must be empty with SAR.
func SplitIEs(dst []Part, buf []byte, payload []byte, a Alphabet, m Method, ref uint16, extra []byte) ([]Part, []byte, error) {
	if a > UCS2 || m > SAR || (m == SAR && len(extra) > 0) {
		return dst, buf, ErrBadArgument
	}
	if err := checkPayload(payload, a); err != nil {
		return dst, buf, err
	}
	ref16 := m == UDH16
	udh, err := udhLen(ref16, extra)
	if err != nil {
		return dst, buf, err
	}
	single := 0
	if len(extra) > 0 {
		single = 1 + len(extra)
	}
	if len(payload) <= Capacity(a, single) {
		p := Part{Body: payload[:len(payload):len(payload)], Segment: Segment{Ref: ref, Total: 1, Seq: 1}}
		if m == UDH8 {
			p.Ref &= 0xFF
		}
		if single > 0 {
			start := len(buf)
			buf = append(buf, byte(len(extra)))
			buf = append(buf, extra...)
			p.UDH = buf[start:len(buf):len(buf)]
		}
		return append(dst, p), buf, nil
	}
	if m == SAR {
		udh = Concat8UDHLen
	}
	capacity := Capacity(a, udh)
	if capacity < minUnit(a) {
		return dst, buf, ErrUDHOverflow
	}
	n := 0
	for start := 0; start < len(payload); start = cut(payload, start, capacity, a) {
		if n++; n > MaxParts {
			return dst, buf, ErrTooManyParts
		}
	}
	dst = slices.Grow(dst, n)
	if m != SAR {
		buf = slices.Grow(buf, n*udh)
	}
	if m == UDH8 {
		ref &= 0xFF
	}
	seq := 0
	for start := 0; start < len(payload); {
		end := cut(payload, start, capacity, a)
		seq++
		p := Part{Body: payload[start:end:end], Segment: Segment{Ref: ref, Total: uint8(n), Seq: uint8(seq)}}
		if m != SAR {
			off := len(buf)
			buf = append(buf, byte(udh-1))
			buf = append(buf, extra...)
			buf = appendConcatIE(buf, p.Segment, ref16)
			p.UDH = buf[off:len(buf):len(buf)]
		}
		dst = append(dst, p)
		start = end
	}
	return dst, buf, nil
}

// Count returns how many parts Split would produce, for pricing and
// admission before any encoding work. It never allocates.
func Count(payload []byte, a Alphabet, m Method) (int, error) {
	if a > UCS2 || m > SAR {
		return 0, ErrBadArgument
	}
	if err := checkPayload(payload, a); err != nil {
		return 0, err
	}
	if len(payload) <= Capacity(a, 0) {
		return 1, nil
	}
	udh := Concat8UDHLen
	if m == UDH16 {
		udh = Concat16UDHLen
	}
	capacity, n := Capacity(a, udh), 0
	for start := 0; start < len(payload); start = cut(payload, start, capacity, a) {
		if n++; n > MaxParts {
			return 0, ErrTooManyParts
		}
	}
	return n, nil
}

func checkPayload(p []byte, a Alphabet) error {
	switch a {
	case GSM7:
		// Any octet with bit 7 set is not a septet; test 8 at a time.
		var acc uint64
		for len(p) >= 8 {
			acc |= binary.LittleEndian.Uint64(p)
			p = p[8:]
		}
		for _, b := range p {
			acc |= uint64(b)
		}
		if acc&0x8080808080808080 != 0 {
			return ErrBadPayload
		}
	case UCS2:
		if len(p)%2 != 0 {
			return ErrBadPayload
		}
	}
	return nil
}

// cut returns the end of the part starting at start (a unit boundary):
// start+capacity or the payload end, pulled back one unit if that would
// separate a GSM7 escape pair or a UTF-16 surrogate pair.
func cut(p []byte, start, capacity int, a Alphabet) int {
	end := start + capacity
	if end >= len(p) {
		return len(p)
	}
	switch a {
	case GSM7:
		// Pairs form left to right from start, and 0x1B 0x1B is itself a
		// pair, so the octet before end opens a pair exactly when the run
		// of ESCs ending there has odd length.
		run := 0
		for i := end - 1; i >= start && p[i] == 0x1B; i-- {
			run++
		}
		if run%2 == 1 {
			end--
		}
	case UCS2:
		// A high surrogate always opens a unit, so checking the last unit
		// against the first one of the next part is enough.
		if isHigh(p[end-2]) && isLow(p[end]) {
			end -= 2
		}
	}
	return end
}

func isHigh(b byte) bool { return b&0xFC == 0xD8 } // first octet of U+D800-U+DBFF
func isLow(b byte) bool  { return b&0xFC == 0xDC } // first octet of U+DC00-U+DFFF
