package receipt

// Message id matching (as Jasmin's dlr_msgid handling does it):
// a carrier may return "1A2B" (hex) in submit_sm_resp and echo "6699"
// (decimal) in the receipt, or the reverse, with or without leading zeros
// and in either letter case. An all-digit id is ambiguous on its own, so
// there are two tools:
//
//   - NormalizeID, when the connector's bases are configured: both sides
//     become the same key, usable in a map.
//   - IDEqual, when they are not: it converts only when one side is
//     recognisably hex.

// IDBase says how NormalizeID reads an id.
type IDBase uint8

const (
	// IDText: an opaque id (UUID, alphanumeric). Key: ASCII upper case,
	// leading '0's dropped.
	IDText IDBase = iota
	// IDHex: hexadecimal digits with an optional 0x/0X prefix. Key: upper
	// case, prefix and leading zeros dropped (any length).
	IDHex
	// IDDecimal: decimal digits. Key: the value as upper-case hex without
	// leading zeros, so it equals the IDHex key of the same number.
	IDDecimal
)

// NormalizeID appends the matching key of id read in base and returns the
// extended slice. An id that is not valid in its base (or, for IDDecimal,
// does not fit in 64 bits) falls back to the IDText key. An id of only
// zeros gives "0"; an empty id an empty key. The key is never longer than
// max(len(id), 16) bytes, so NormalizeID allocates nothing when dst has that
// capacity.
func NormalizeID(dst, id []byte, base IDBase) []byte {
	switch base {
	case IDHex:
		if h, ok := hexDigits(id); ok {
			return appendUpper(dst, stripZeros(h))
		}
	case IDDecimal:
		if v, ok := decValue(id); ok {
			return appendHex(dst, v)
		}
	}
	return appendUpper(dst, stripZeros(id))
}

// IDEqual reports whether ids a and b name the same message: equal ignoring
// ASCII case, leading zeros and a 0x prefix; or one side is recognisably hex
// (a 0x prefix or a letter a-f, all hex digits), the other all decimal
// digits, and both have the same 64-bit value ("0x1A", "1a" and "26" are
// all equal). Two all-digit ids are compared as written ("10" and "16" are
// different even though 0x10 is 16): use NormalizeID with configured bases
// for carriers whose hex ids may lack letters. Empty ids equal nothing. It
// does not allocate.
func IDEqual(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	ka, kb := idKind(a), idKind(b)
	ta, tb := a, b
	if ka == kindHex {
		ta, _ = hexDigits(a)
	}
	if kb == kindHex {
		tb, _ = hexDigits(b)
	}
	if equalFoldBytes(stripZeros(ta), stripZeros(tb)) {
		return true
	}
	switch {
	case ka == kindHex && kb == kindDecimal:
		return hexEqualsDec(ta, b)
	case ka == kindDecimal && kb == kindHex:
		return hexEqualsDec(tb, a)
	}
	return false
}

type kind uint8

const (
	kindOpaque  kind = iota
	kindDecimal      // only 0-9
	kindHex          // hex digits with a 0x prefix or at least one a-f
)

func idKind(id []byte) kind {
	if len(id) > 2 && id[0] == '0' && id[1]|0x20 == 'x' {
		if _, ok := hexDigits(id); ok {
			return kindHex
		}
		return kindOpaque
	}
	dec := true
	for _, c := range id {
		switch {
		case c >= '0' && c <= '9':
		case (c|0x20) >= 'a' && (c|0x20) <= 'f':
			dec = false
		default:
			return kindOpaque
		}
	}
	if dec {
		return kindDecimal
	}
	return kindHex
}

// hexDigits returns id without a 0x prefix if the rest is one or more hex
// digits.
func hexDigits(id []byte) ([]byte, bool) {
	if len(id) > 2 && id[0] == '0' && id[1]|0x20 == 'x' {
		id = id[2:]
	}
	if len(id) == 0 {
		return nil, false
	}
	for _, c := range id {
		if hexVal(c) < 0 {
			return nil, false
		}
	}
	return id, true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case (c|0x20) >= 'a' && (c|0x20) <= 'f':
		return int(c|0x20-'a') + 10
	}
	return -1
}

// hexEqualsDec compares hex digits h with decimal digits d by value.
func hexEqualsDec(h, d []byte) bool {
	h = stripZeros(h)
	if len(h) > 16 {
		return false
	}
	var hv uint64
	for _, c := range h {
		hv = hv<<4 | uint64(hexVal(c))
	}
	dv, ok := decValue(d)
	return ok && hv == dv
}

// decValue reads one or more decimal digits that fit in a uint64.
func decValue(d []byte) (uint64, bool) {
	if len(d) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		x := uint64(c - '0')
		if v > (^uint64(0)-x)/10 {
			return 0, false
		}
		v = v*10 + x
	}
	return v, true
}

// stripZeros drops leading '0's, keeping one of an all-zero id.
func stripZeros(id []byte) []byte {
	i := 0
	for i < len(id)-1 && id[i] == '0' {
		i++
	}
	return id[i:]
}

func appendUpper(dst, id []byte) []byte {
	for _, c := range id {
		dst = append(dst, upper(c))
	}
	return dst
}

func appendHex(dst []byte, v uint64) []byte {
	const digits = "0123456789ABCDEF"
	var buf [16]byte
	i := len(buf)
	for {
		i--
		buf[i] = digits[v&0xF]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

func equalFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if upper(a[i]) != upper(b[i]) {
			return false
		}
	}
	return true
}
