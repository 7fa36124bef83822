// Package charset converts SMPP short_message text between UTF-8 and the
// alphabets selected by data_coding (SMPP 3.4 §5.2.19, GSM 03.38 / 3GPP
// 23.038): the GSM 7-bit default alphabet with its extension table, packed
// or unpacked; IA5/ASCII; Latin-1; and UCS-2/UTF-16BE. It also counts
// septets and segments for long-message splitting (3GPP 23.040
// §9.2.3.24).
//
// Every converter appends to a caller-owned dst and, given enough capacity,
// allocates nothing. Inputs are only read; outputs never alias them. On
// failure a strict converter returns dst with its original length (bytes past
// it may have been overwritten), so a caller can retry with another coding.
// All functions are safe for concurrent use: they touch no shared mutable
// state.
package charset

// Coding is a data_coding value this package converts (SMPP 3.4 §5.2.19).
// Any other octet can still be classified with Classify and decoded with
// Decode when its alphabet is GSM7 or UCS2.
type Coding uint8

// The data_coding values used in practice.
const (
	// CodingDefault is the SMSC default alphabet, which this package takes
	// to be the GSM 03.38 default alphabet carried unpacked (one septet per
	// octet). Alphabet GSM7.
	CodingDefault Coding = 0x00
	// CodingIA5 is IA5 (CCITT T.50) / ASCII: one octet per character,
	// 0x00-0x7F. Alphabet 8-bit (counted in octets; see Classify).
	CodingIA5 Coding = 0x01
	// CodingOctet is "octet unspecified" (8-bit binary). Alphabet 8-bit.
	CodingOctet Coding = 0x02
	// CodingLatin1 is ISO-8859-1: one octet per character. Alphabet 8-bit.
	CodingLatin1 Coding = 0x03
	// CodingBinary is the GSM 8-bit data value (WAP push, binary SMS).
	// Alphabet 8-bit.
	CodingBinary Coding = 0x04
	// CodingUCS2 is UCS-2, in practice UTF-16BE with surrogate pairs.
	// Alphabet UCS2.
	CodingUCS2 Coding = 0x08
)

// CodingGSM7 is CodingDefault under the name of its alphabet.
const CodingGSM7 = CodingDefault

// String returns the SMPP name of c, or "data_coding(0xNN)".
func (c Coding) String() string {
	switch c {
	case CodingDefault:
		return "SMSC default (GSM 03.38)"
	case CodingIA5:
		return "IA5/ASCII"
	case CodingOctet:
		return "octet unspecified (0x02)"
	case CodingLatin1:
		return "Latin-1"
	case CodingBinary:
		return "octet unspecified (0x04)"
	case CodingUCS2:
		return "UCS2"
	}
	return "data_coding(0x" + string(hexDigit(byte(c)>>4)) + string(hexDigit(byte(c)&0xF)) + ")"
}

func hexDigit(b byte) byte { return "0123456789ABCDEF"[b&0xF] }

// Alphabet returns how payloads in c are counted; see Classify.
func (c Coding) Alphabet() Alphabet { return Classify(byte(c)).Alphabet }

// Alphabet is the unit a payload is counted in on the air interface.
type Alphabet uint8

const (
	// AlphabetGSM7 counts septets: 160 per SMS, 153 per segment with a
	// 6-octet UDH.
	AlphabetGSM7 Alphabet = iota
	// Alphabet8Bit counts octets: 140 per SMS, 134 per segment.
	Alphabet8Bit
	// AlphabetUCS2 counts UTF-16 code units: 70 per SMS, 67 per segment.
	AlphabetUCS2
	// AlphabetReserved marks data_coding values reserved in both SMPP 3.4
	// and 3GPP 23.038. 23.038 §4 tells receivers to assume GSM7 for them;
	// whether to do so or to refuse is the caller's policy.
	AlphabetReserved
)

// String returns a short name for a.
func (a Alphabet) String() string {
	switch a {
	case AlphabetGSM7:
		return "GSM7"
	case Alphabet8Bit:
		return "8bit"
	case AlphabetUCS2:
		return "UCS2"
	}
	return "reserved"
}

// MessageClass is the GSM message class carried in some data_coding values.
type MessageClass int8

const (
	ClassNone MessageClass = -1 // no class given
	Class0    MessageClass = 0  // flash / immediate display
	Class1    MessageClass = 1  // ME-specific
	Class2    MessageClass = 2  // SIM-specific
	Class3    MessageClass = 3  // TE-specific
)

// Scheme is the classification of one data_coding octet.
type Scheme struct {
	Alphabet Alphabet
	Class    MessageClass
	// Compressed is set for 23.038 general-group values with bit 5 set
	// (compressed text, which nobody implements); Decode refuses them.
	Compressed bool
}

// Classify maps any data_coding octet to its alphabet and message class.
//
//   - 0x00 GSM7; 0x08 UCS2.
//   - 0x01 IA5, 0x02/0x04 binary, 0x03 Latin-1 and the other SMPP charsets
//     0x05-0x07, 0x09, 0x0A, 0x0D, 0x0E: 8-bit. IA5 is counted in octets
//     because SMPP leaves its air mapping to the SMSC; octets never
//     overfill a segment.
//   - 0x0B, 0x0C, 0x0F, 0x80-0xBF: reserved.
//   - 0x10-0x3F (23.038 general data coding) and 0x40-0x7F (the same
//     layout, "marked for automatic deletion"): bit 5 compressed, bit 4
//     class present in bits 1-0, bits 3-2 alphabet 00 GSM7, 01 8-bit,
//     10 UCS2, 11 reserved.
//   - 0xC0-0xDF (MWI discard/store): GSM7; 0xE0-0xEF (MWI store, UCS2):
//     UCS2. SMPP 3.4 calls 0xE0-0xEF reserved; peers follow 23.038.
//   - 0xF0-0xFF (data coding / message class): bit 2 = 0 GSM7, 1 8-bit;
//     bits 1-0 class.
func Classify(dc byte) Scheme {
	switch {
	case dc == 0x00:
		return Scheme{Alphabet: AlphabetGSM7, Class: ClassNone}
	case dc == 0x08:
		return Scheme{Alphabet: AlphabetUCS2, Class: ClassNone}
	case dc == 0x0B || dc == 0x0C || dc == 0x0F:
		return Scheme{Alphabet: AlphabetReserved, Class: ClassNone}
	case dc < 0x10:
		return Scheme{Alphabet: Alphabet8Bit, Class: ClassNone}
	case dc < 0x80:
		s := Scheme{Class: ClassNone, Compressed: dc&0x20 != 0}
		if dc&0x10 != 0 {
			s.Class = MessageClass(dc & 0x03)
		}
		s.Alphabet = [4]Alphabet{AlphabetGSM7, Alphabet8Bit, AlphabetUCS2, AlphabetReserved}[(dc>>2)&0x03]
		return s
	case dc < 0xC0:
		return Scheme{Alphabet: AlphabetReserved, Class: ClassNone}
	case dc < 0xE0:
		return Scheme{Alphabet: AlphabetGSM7, Class: ClassNone}
	case dc < 0xF0:
		return Scheme{Alphabet: AlphabetUCS2, Class: ClassNone}
	}
	s := Scheme{Alphabet: AlphabetGSM7, Class: MessageClass(dc & 0x03)}
	if dc&0x04 != 0 {
		s.Alphabet = Alphabet8Bit
	}
	return s
}

// Decode appends the UTF-8 text of payload b, sent with data_coding dc, to
// dst. GSM7 payloads are taken unpacked (one septet per octet); use
// UnpackSeptets first for packed links. Binary codings return ErrBinary,
// compressed, reserved and other SMPP charsets (JIS, ISO-8859-5, ...)
// ErrUnsupported; malformed input returns the converter's error. On error
// dst is returned with its original length.
func Decode(dst []byte, dc byte, b []byte) ([]byte, error) {
	switch dc {
	case byte(CodingIA5):
		return AppendUTF8FromIA5(dst, b)
	case byte(CodingLatin1):
		return AppendUTF8FromLatin1(dst, b), nil
	case byte(CodingOctet), byte(CodingBinary):
		return dst, ErrBinary
	}
	s := Classify(dc)
	if s.Compressed {
		return dst, ErrUnsupported
	}
	switch s.Alphabet {
	case AlphabetGSM7:
		return AppendUTF8FromGSM7(dst, b)
	case AlphabetUCS2:
		return AppendUTF8FromUCS2(dst, b)
	case Alphabet8Bit:
		if dc >= 0x10 { // 23.038 8-bit data groups
			return dst, ErrBinary
		}
	}
	return dst, ErrUnsupported
}

// Encode appends s encoded for coding c to dst: GSM7 unpacked, IA5,
// Latin-1 or UTF-16BE. A character c cannot represent returns
// ErrUnmappable (UCS2 represents everything; invalid UTF-8 becomes U+FFFD).
// Binary codings return ErrBinary, any other value ErrUnsupported. On error
// dst is returned with its original length.
func Encode(dst []byte, c Coding, s string) ([]byte, error) {
	var ok bool
	switch c {
	case CodingDefault:
		dst, ok = AppendGSM7(dst, s)
	case CodingIA5:
		dst, ok = AppendIA5(dst, s)
	case CodingLatin1:
		dst, ok = AppendLatin1(dst, s)
	case CodingUCS2:
		return AppendUCS2(dst, s), nil
	case CodingOctet, CodingBinary:
		return dst, ErrBinary
	default:
		return dst, ErrUnsupported
	}
	if !ok {
		return dst, ErrUnmappable
	}
	return dst, nil
}
