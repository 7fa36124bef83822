package receipt

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// TextChars is how many characters of the original message a receipt
// carries (spec Appendix B: the first 20).
const TextChars = 20

// Append appends r as receipt text in format f (field order, widths and
// keys in the package doc) and returns the extended slice; bytes already
// in dst are untouched. Stat is written as its 7-letter word; StatNone and
// StatOther become UNKNOWN, so map an odd StatRaw to a Stat first. ErrCode
// is written, not Err. The text is the first TextChars characters of
// r.Text (UTF-8 runes; an invalid byte counts as one) with every character
// outside the GSM 03.38 / ASCII common set turned into '?' (tab, CR, LF
// into a space), then trimmed of spaces at both ends, so data_coding 0
// reads the same whether the client takes it as GSM or ASCII. Append never
// fails, and allocates nothing when dst has the capacity.
func (f Format) Append(dst []byte, r *Receipt) []byte {
	return f.AppendCached(dst, r, nil)
}

// AppendCached is Append writing the dates through c (nil: none), which
// keeps the last ones it formatted: a server writing receipts by the
// thousand a second formats each second's dates once.
func (f Format) AppendCached(dst []byte, r *Receipt, c *DateCache) []byte {
	dst = append(dst, "id:"...)
	dst = append(dst, r.ID...)
	dst = append(dst, " sub:"...)
	dst = appendCount(dst, r.Sub)
	dst = append(dst, " dlvrd:"...)
	dst = appendCount(dst, r.Dlvrd)
	dst = append(dst, " submit date:"...)
	dst = c.append(dst, 0, r.SubmitDate, f.Seconds)
	dst = append(dst, " done date:"...)
	dst = c.append(dst, 1, r.DoneDate, f.Seconds)
	dst = append(dst, " stat:"...)
	s := r.Stat
	if s < StatEnroute || s > StatRejected {
		s = StatUnknown
	}
	dst = append(dst, words[s].word...)
	dst = append(dst, " err:"...)
	dst = appendCount(dst, r.ErrCode)
	if f.TitleText {
		dst = append(dst, " Text:"...)
	} else {
		dst = append(dst, " text:"...)
	}
	return appendText(dst, r.Text)
}

// appendCount writes v zero-padded to 3 digits; negatives as 000.
func appendCount(dst []byte, v int) []byte {
	switch {
	case v < 0:
		v = 0
	case v > 999:
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return append(dst, byte('0'+v/100), byte('0'+v/10%10), byte('0'+v%10))
}

// appendText writes the first TextChars characters of t made safe (see
// Format.Append), trimmed of spaces. The room is grown once and written by
// index: one append per character cost a capacity check each.
func appendText(dst []byte, t []byte) []byte {
	start := len(dst)
	dst = slices.Grow(dst, TextChars)[:start+TextChars]
	n := start
	for chars := 0; len(t) > 0 && chars < TextChars; chars++ {
		c := t[0]
		if c < utf8.RuneSelf {
			t = t[1:]
			c = safeByte[c]
		} else {
			_, size := utf8.DecodeRune(t)
			t = t[size:]
			c = '?'
		}
		if c == ' ' && n == start {
			continue // leading space
		}
		dst[n] = c
		n++
	}
	for n > start && dst[n-1] == ' ' {
		n--
	}
	return dst[:n]
}

// safeByte maps an ASCII byte to what the receipt text carries: itself
// when textSafe, a space for tab, CR, LF, VT and FF, '?' otherwise.
var safeByte = func() (m [utf8.RuneSelf]byte) {
	for c := range m {
		switch b := byte(c); {
		case b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f':
			m[c] = ' '
		case textSafe(b):
			m[c] = b
		default:
			m[c] = '?'
		}
	}
	return m
}()

// textSafe reports whether ASCII byte c means the same character in the GSM
// 03.38 default alphabet (unpacked): printable ASCII except @ $ _ ` [ \ ] ^
// { | } ~, which GSM puts elsewhere or behind an escape.
func textSafe(c byte) bool {
	if c < ' ' || c > 'z' {
		return false
	}
	switch c {
	case '@', '$', '_', '`', '[', '\\', ']', '^':
		return false
	}
	return true
}
