package charset

import "unicode/utf8"

// ISO-8859-1 (data_coding 0x03) and IA5/ASCII (0x01): one octet per
// character, the octet value being the Unicode code point.

// AppendLatin1 appends s as ISO-8859-1 to dst. A character above U+00FF
// (or invalid UTF-8) returns dst with its original length and false.
func AppendLatin1(dst []byte, s string) ([]byte, bool) {
	return appendOctets(dst, s, 0xFF)
}

// AppendLatin1Lossy is AppendLatin1 that writes '?' for each character it
// cannot represent and returns how many it substituted.
func AppendLatin1Lossy(dst []byte, s string) ([]byte, int) {
	return appendOctetsLossy(dst, s, 0xFF)
}

// AppendUTF8FromLatin1 appends the UTF-8 text of ISO-8859-1 octets to dst.
// Every octet is a character, so it cannot fail.
func AppendUTF8FromLatin1(dst []byte, b []byte) []byte {
	for _, c := range b {
		if c < utf8.RuneSelf {
			dst = append(dst, c)
		} else {
			dst = append(dst, 0xC0|c>>6, 0x80|c&0x3F)
		}
	}
	return dst
}

// AppendIA5 appends s as IA5/ASCII to dst. A character above U+007F (or
// invalid UTF-8) returns dst with its original length and false.
func AppendIA5(dst []byte, s string) ([]byte, bool) {
	return appendOctets(dst, s, 0x7F)
}

// AppendIA5Lossy is AppendIA5 that writes '?' for each character it
// cannot represent and returns how many it substituted.
func AppendIA5Lossy(dst []byte, s string) ([]byte, int) {
	return appendOctetsLossy(dst, s, 0x7F)
}

// AppendUTF8FromIA5 appends the text of IA5 octets to dst. An octet >= 0x80
// returns ErrInvalidIA5 and dst with its original length; peers that send
// Latin-1 under data_coding 1 can be decoded with AppendUTF8FromLatin1.
func AppendUTF8FromIA5(dst []byte, b []byte) ([]byte, error) {
	for _, c := range b {
		if c >= 0x80 {
			return dst, ErrInvalidIA5
		}
	}
	return append(dst, b...), nil
}

// appendOctets and appendOctetsLossy rely on invalid UTF-8 decoding to
// U+FFFD, which is above every maxRune used here.
func appendOctets(dst []byte, s string, maxRune rune) ([]byte, bool) {
	n0 := len(dst)
	for _, r := range s {
		if r > maxRune {
			return dst[:n0], false
		}
		dst = append(dst, byte(r))
	}
	return dst, true
}

func appendOctetsLossy(dst []byte, s string, maxRune rune) ([]byte, int) {
	bad := 0
	for _, r := range s {
		if r > maxRune {
			bad++
			r = '?'
		}
		dst = append(dst, byte(r))
	}
	return dst, bad
}
