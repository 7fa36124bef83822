// Package content holds the HTTP API's rules for message content, as
// Jasmin's HTTP API applies them: which data_coding values /send accepts,
// how a UTF-8 content becomes octets of that coding, and how a content too
// long for one SMS is cut into the parts of a concatenated message (an
// 8-bit-reference UDH or the sar_* TLVs), up to a number of parts.
//
// Everything appends to caller-owned buffers and keeps no state but the
// concatenation reference counter; safe for concurrent use.
package content

import (
	"errors"
	"sync/atomic"

	"github.com/smppd/smppd/codec/charset"
	"github.com/smppd/smppd/codec/concat"
)

// Codings lists the data_coding values /send accepts (Jasmin's: SMPP 3.4
// §5.2.19's 0-10, 13 and 14).
var codings = [256]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 9: true,
	10: true, 13: true, 14: true}

// ValidCoding reports whether /send accepts data_coding dc.
func ValidCoding(dc int) bool { return dc >= 0 && dc < len(codings) && codings[dc] }

// Encode appends content (the request's text, UTF-8) to dst as the octets
// sent with data_coding dc: for 0 (the SMSC default alphabet) the GSM
// 03.38 default alphabet with its extension table, unpacked, a character
// it cannot hold written '?' (as Jasmin does); for every other coding the
// octets as given (Jasmin does not re-encode: UCS2 content comes as
// hex-content). It returns how many characters became '?'.
func Encode(dst []byte, dc byte, content string) ([]byte, int) {
	if dc == 0 {
		return charset.AppendGSM7Lossy(dst, content)
	}
	return append(dst, content...), 0
}

// Method ties the parts of a long message together.
type Method uint8

// Methods ([http-api] long_content_split).
const (
	UDH Method = iota // an 8-bit-reference concatenation UDH in each part (esm_class UDHI)
	SAR               // the sar_msg_ref_num, sar_total_segments and sar_segment_seqnum TLVs
)

// ParseMethod reads long_content_split ("udh" or "sar").
func ParseMethod(s string) (Method, bool) {
	switch s {
	case "udh":
		return UDH, true
	case "sar":
		return SAR, true
	}
	return 0, false
}

// Part is one SMS of a message: UDH (nil without one) then Body go in
// short_message; Ref, Total and Seq are the concatenation values (Total 1:
// a single SMS, sent without UDH or sar_* TLVs).
type Part = concat.Part

// MaxShort is the longest short_message a part needs: a single SMS of 160
// unpacked GSM septets (a UDH part holds at most 6 + 153).
const MaxShort = 160

// ErrTooLong: the content needs more parts than allowed (the count is
// returned with it).
var ErrTooLong = errors.New("content: more parts than long_content_max_parts")

// alphabet is how Jasmin sizes parts of data_coding dc: 7-bit (160, 153
// per part) for 0, 1 and codings it does not know; 8-bit (140, 134) for 3,
// 6, 7 and 10; 16-bit (70, 67 two-octet units) for 2, 4, 5, 8, 9, 13 and
// 14. Octets that do not fit the alphabet (above 0x7F in 7-bit, an odd
// length in 16-bit) are cut as 8-bit, which never exceeds an SMS.
func alphabet(dc byte, payload []byte) concat.Alphabet {
	a := concat.GSM7
	switch dc {
	case 3, 6, 7, 10:
		a = concat.Octet
	case 2, 4, 5, 8, 9, 13, 14:
		a = concat.UCS2
	}
	if _, err := concat.Count(payload, a, concat.UDH8); errors.Is(err, concat.ErrBadPayload) {
		return concat.Octet
	}
	return a
}

// Count returns how many parts payload (octets of data_coding dc) needs.
func Count(payload []byte, dc byte) (int, error) {
	n, err := concat.Count(payload, alphabet(dc, payload), concat.UDH8)
	if errors.Is(err, concat.ErrTooManyParts) {
		return concat.MaxParts + 1, nil
	}
	return n, err
}

// ref is the concatenation reference of the next long message: 1..255 in
// turn, as Jasmin's per-process counter (parts of one message share it, so
// a reference comes back only after 255 long messages to the same number).
var ref atomic.Uint32

func nextRef() uint16 { return uint16(ref.Add(1)%255 + 1) }

// Split cuts payload (octets of data_coding dc) into the parts of one
// message tied by m, appending them to dst and their UDHs to buf (pass
// buffers with room for maxParts parts and 6 octets each to split without
// allocating). A payload that fits one SMS is one part. More than maxParts
// parts: ErrTooLong with the count, and nothing appended.
func Split(dst []Part, buf []byte, payload []byte, dc byte, m Method, maxParts int) ([]Part, []byte, int, error) {
	a := alphabet(dc, payload)
	n, err := concat.Count(payload, a, concat.UDH8)
	switch {
	case errors.Is(err, concat.ErrTooManyParts):
		return dst, buf, concat.MaxParts + 1, ErrTooLong
	case err != nil:
		return dst, buf, 0, err
	case n > maxParts:
		return dst, buf, n, ErrTooLong
	}
	cm := concat.UDH8
	if m == SAR {
		cm = concat.SAR
	}
	var r uint16
	if n > 1 {
		r = nextRef()
	}
	dst, buf, err = concat.Split(dst, buf, payload, a, cm, r)
	return dst, buf, n, err
}
