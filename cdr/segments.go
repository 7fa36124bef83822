package cdr

import (
	"unicode/utf8"

	"github.com/smppd/smppd/storage"
)

// segments keep the text of the runs of a line whose values repeat from
// line to line (a user's name, its addresses' TON and NPI, the route and
// connector, the charge and flags): a run whose values equal those kept
// is one copy instead of several keys, numbers and string scans. Each run
// has segWays entries picked by a hash of its values, so that a few users
// interleaved line by line keep theirs; an entry holds one set of values,
// so a warm encoder allocates nothing. The text is what appendView wrote
// field by field before (TestEncoderMatchesReference).
type segments struct {
	user         [segWays]userSeg
	source, dest [segWays]addrSeg
	tail         [segWays]tailSeg
	end          [segWays]endSeg
}

// segWays: entries per run (a power of two).
const segWays = 8

// strWay picks a string's entry from its length and end octets (names
// differ there: "acct1", "acct2").
func strWay(s string) int {
	if len(s) == 0 {
		return 0
	}
	return len(s) + int(s[0])*3 + int(s[len(s)-1])*5
}

// userSeg: `","user":"<name>","source":"` (after the id's hex digits).
type userSeg struct {
	name string
	ok   bool
	text []byte
}

func (s *userSeg) append(dst []byte, name string) []byte {
	if !s.ok || s.name != name {
		t := append(s.text[:0], `","user":"`...)
		t = appendString(t, name, utf8.DecodeRuneInString)
		s.text = append(t, `,"source":"`...)
		s.name, s.ok = name, true
	}
	return append(dst, s.text...)
}

// addrSeg: an address's TON and NPI with the key after them:
// `,"source_ton":1,"source_npi":1,"destination":"` or
// `,"destination_ton":1,"destination_npi":1`.
type addrSeg struct {
	ton, npi byte
	ok       bool
	text     []byte
}

func (s *addrSeg) append(dst []byte, ton, npi byte, tonKey, npiKey, next string) []byte {
	if !s.ok || s.ton != ton || s.npi != npi {
		t := appendSmall(append(s.text[:0], tonKey...), uint64(ton))
		t = appendSmall(append(t, npiKey...), uint64(npi))
		s.text = append(t, next...)
		s.ton, s.npi, s.ok = ton, npi, true
	}
	return append(dst, s.text...)
}

// tailSeg: `,"parts":1,"route":"<route>","connector":"<name>","upstream_id":"`.
type tailSeg struct {
	parts       uint8
	route, conn string
	ok          bool
	text        []byte
}

func (s *tailSeg) append(dst []byte, parts uint8, route, conn string) []byte {
	if !s.ok || s.parts != parts || s.route != route || s.conn != conn {
		t := appendSmall(append(s.text[:0], `,"parts":`...), uint64(parts))
		t = appendString(append(t, `,"route":"`...), route, utf8.DecodeRuneInString)
		t = appendString(append(t, `,"connector":"`...), conn, utf8.DecodeRuneInString)
		s.text = append(t, `,"upstream_id":"`...)
		s.parts, s.route, s.conn, s.ok = parts, route, conn, true
	}
	return append(dst, s.text...)
}

// endSeg: from the charge to the data coding, of a line with its record:
// `,"charge":0.05,"quota_parts":0[,"refunded":false],"registered_delivery":0,"data_coding":0`.
type endSeg struct {
	charge     int64
	quotaParts uint16
	rd, dc     byte
	refunded   bool
	cdr        bool
	ok         bool
	text       []byte
}

func (s *endSeg) append(dst []byte, r *storage.Record, cdr, refunded bool) []byte {
	if !s.ok || s.charge != r.Charge || s.quotaParts != r.ChargeParts || s.rd != r.RegisteredDelivery ||
		s.dc != r.DataCoding || s.refunded != refunded || s.cdr != cdr {
		t := appendAmount(append(s.text[:0], `,"charge":`...), r.Charge)
		t = appendSmall(append(t, `,"quota_parts":`...), uint64(r.ChargeParts))
		t = appendRefunded(t, cdr, refunded)
		t = appendSmall(append(t, `,"registered_delivery":`...), uint64(r.RegisteredDelivery))
		s.text = appendSmall(append(t, `,"data_coding":`...), uint64(r.DataCoding))
		s.charge, s.quotaParts, s.rd, s.dc, s.refunded, s.cdr, s.ok =
			r.Charge, r.ChargeParts, r.RegisteredDelivery, r.DataCoding, refunded, cdr, true
	}
	return append(dst, s.text...)
}

// appendRefunded writes a CDR line's refunded flag (a lookup has none).
func appendRefunded(dst []byte, cdr, refunded bool) []byte {
	switch {
	case !cdr:
		return dst
	case refunded:
		return append(dst, `,"refunded":true`...)
	}
	return append(dst, `,"refunded":false`...)
}
