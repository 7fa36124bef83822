package receipt

import (
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
	dst = append(dst, "id:"...)
	dst = append(dst, r.ID...)
	dst = append(dst, " sub:"...)
	dst = appendCount(dst, r.Sub)
	dst = append(dst, " dlvrd:"...)
	dst = appendCount(dst, r.Dlvrd)
	dst = append(dst, " submit date:"...)
	dst = AppendDate(dst, r.SubmitDate, f.Seconds)
	dst = append(dst, " done date:"...)
	dst = AppendDate(dst, r.DoneDate, f.Seconds)
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
// Format.Append), trimmed of spaces.
func appendText(dst []byte, t []byte) []byte {
	start := len(dst)
	for chars := 0; len(t) > 0 && chars < TextChars; chars++ {
		c := t[0]
		size := 1
		if c >= utf8.RuneSelf {
			_, size = utf8.DecodeRune(t)
			c = '?'
		}
		t = t[size:]
		switch {
		case c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			c = ' '
		case !textSafe(c):
			c = '?'
		}
		if c == ' ' && len(dst) == start {
			continue // leading space
		}
		dst = append(dst, c)
	}
	for len(dst) > start && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

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
