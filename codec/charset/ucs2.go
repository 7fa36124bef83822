package charset

import (
	"unicode/utf16"
	"unicode/utf8"
)

// UCS2 (data_coding 0x08) as sent in practice: UTF-16 big-endian, with
// characters above U+FFFF as surrogate pairs.

// UTF16Len returns the UTF-16 code units of s (2 per character above
// U+FFFF, 1 otherwise; invalid UTF-8 bytes count 1 each, as U+FFFD).
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// AppendUCS2 appends s as UTF-16BE to dst. Characters above U+FFFF become
// surrogate pairs; invalid UTF-8 bytes become U+FFFD. It cannot fail.
func AppendUCS2(dst []byte, s string) []byte {
	for _, r := range s {
		if r > 0xFFFF {
			hi, lo := utf16.EncodeRune(r)
			dst = append(dst, byte(hi>>8), byte(hi), byte(lo>>8), byte(lo))
			continue
		}
		dst = append(dst, byte(r>>8), byte(r))
	}
	return dst
}

// AppendUTF8FromUCS2 appends the UTF-8 text of UTF-16BE octets to dst.
// Surrogate pairs decode to one character; a lone or reversed surrogate
// becomes U+FFFD. An odd length returns ErrOddLength and dst unchanged.
func AppendUTF8FromUCS2(dst []byte, b []byte) ([]byte, error) {
	if len(b)%2 != 0 {
		return dst, ErrOddLength
	}
	for i := 0; i < len(b); i += 2 {
		r := rune(b[i])<<8 | rune(b[i+1])
		switch {
		case r < 0xD800 || r > 0xDFFF:
		case r < 0xDC00 && i+3 < len(b):
			lo := rune(b[i+2])<<8 | rune(b[i+3])
			if lo >= 0xDC00 && lo <= 0xDFFF {
				r = utf16.DecodeRune(r, lo)
				i += 2
			} else {
				r = utf8.RuneError
			}
		default:
			r = utf8.RuneError
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst, nil
}
