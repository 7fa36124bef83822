package charset

import "unicode/utf8"

// GSM 03.38 default alphabet (3GPP 23.038 §6.2.1).

const (
	// gsmEscape is the septet that announces an extension-table character.
	gsmEscape = 0x1B
	// nbsp is what the escape position shows when it is not followed by an
	// extension code (as the Unicode GSM0338.TXT mapping shows it).
	nbsp = '\u00A0'
)

// gsmBasic maps a septet to its character. 0x1B (escape) is handled by the
// decoder before this table is consulted.
var gsmBasic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', nbsp, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsmExt maps the code after an escape to its character; 0 = not defined.
var gsmExt = [128]rune{
	0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
	0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
}

// Entries of gsmEncLow: a flag plus the 7-bit code.
const (
	encBasic = 0x100
	encExt   = 0x200
)

// gsmEncLow maps runes below U+0100 to encBasic|code or encExt|code;
// 0 means not representable. Built from the decode tables so the two
// directions cannot disagree.
var gsmEncLow = func() (t [256]uint16) {
	for code, r := range gsmBasic {
		if code != gsmEscape && r < 0x100 {
			t[r] = encBasic | uint16(code)
		}
	}
	for code, r := range gsmExt {
		if r != 0 && r < 0x100 {
			t[r] = encExt | uint16(code)
		}
	}
	t['ç'] = encBasic | 0x09 // 0x09 is Ç in 23.038, ç in GSM0338.TXT: encode both
	return t
}()

// gsmEncode returns the septet code of r and whether it needs the escape;
// ok is false when r is not in the default alphabet or its extension.
func gsmEncode(r rune) (code byte, ext, ok bool) {
	if r < 0x100 {
		if r < 0 {
			return 0, false, false
		}
		e := gsmEncLow[r]
		return byte(e & 0x7F), e&encExt != 0, e != 0
	}
	switch r {
	case 'Δ':
		return 0x10, false, true
	case 'Φ':
		return 0x12, false, true
	case 'Γ':
		return 0x13, false, true
	case 'Λ':
		return 0x14, false, true
	case 'Ω':
		return 0x15, false, true
	case 'Π':
		return 0x16, false, true
	case 'Ψ':
		return 0x17, false, true
	case 'Σ':
		return 0x18, false, true
	case 'Θ':
		return 0x19, false, true
	case 'Ξ':
		return 0x1A, false, true
	case '€':
		return 0x65, true, true
	}
	return 0, false, false
}

// Septets reports how many septets s takes in GSM7 (extension characters
// count 2) and whether every character is representable. When ok is false,
// n counts each unrepresentable character as the one '?' the lossy encoder
// would send. Invalid UTF-8 is unrepresentable.
func Septets(s string) (n int, ok bool) {
	ok = true
	for _, r := range s {
		_, ext, rok := gsmEncode(r)
		switch {
		case !rok:
			ok = false
			n++
		case ext:
			n += 2
		default:
			n++
		}
	}
	return n, ok
}

// AppendGSM7 appends s as unpacked GSM7 septets (one per octet, escape
// 0x1B before extension codes) to dst. If any character is not
// representable it returns dst with its original length and false.
func AppendGSM7(dst []byte, s string) ([]byte, bool) {
	n0 := len(dst)
	for _, r := range s {
		code, ext, ok := gsmEncode(r)
		if !ok {
			return dst[:n0], false
		}
		if ext {
			dst = append(dst, gsmEscape)
		}
		dst = append(dst, code)
	}
	return dst, true
}

// AppendGSM7Lossy is AppendGSM7 that writes '?' (0x3F) for each character
// it cannot represent (and for each invalid UTF-8 byte) and returns how
// many it substituted.
func AppendGSM7Lossy(dst []byte, s string) ([]byte, int) {
	bad := 0
	for _, r := range s {
		code, ext, ok := gsmEncode(r)
		switch {
		case !ok:
			bad++
			dst = append(dst, '?')
		case ext:
			dst = append(dst, gsmEscape, code)
		default:
			dst = append(dst, code)
		}
	}
	return dst, bad
}

// AppendUTF8FromGSM7 appends the UTF-8 text of unpacked septets to dst.
// Escape handling (3GPP 23.038 §6.2.1.1):
//   - 0x1B + an extension code: the extension character;
//   - 0x1B + another code: the basic-table character for that code (the
//     escape is dropped, as handsets do);
//   - 0x1B 0x1B (reserved for a further table) and a trailing lone 0x1B:
//     U+00A0 NO-BREAK SPACE, once per pair.
//
// An octet >= 0x80 returns ErrInvalidSeptet and dst with its original
// length.
func AppendUTF8FromGSM7(dst []byte, septets []byte) ([]byte, error) {
	n0 := len(dst)
	for i := 0; i < len(septets); i++ {
		c := septets[i]
		if c >= 0x80 {
			return dst[:n0], ErrInvalidSeptet
		}
		if c != gsmEscape {
			dst = utf8.AppendRune(dst, gsmBasic[c])
			continue
		}
		if i+1 == len(septets) {
			dst = utf8.AppendRune(dst, nbsp)
			break
		}
		i++
		c = septets[i]
		if c >= 0x80 {
			return dst[:n0], ErrInvalidSeptet
		}
		if r := gsmExt[c]; r != 0 {
			dst = utf8.AppendRune(dst, r)
		} else {
			// gsmBasic[0x1B] is nbsp, which covers the ESC ESC case.
			dst = utf8.AppendRune(dst, gsmBasic[c])
		}
	}
	return dst, nil
}
