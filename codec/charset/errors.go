package charset

import "errors"

// Errors returned by the converters. They are preallocated so failing
// conversions do not allocate; match them with errors.Is.
var (
	// ErrUnmappable: the text has a character the target alphabet lacks.
	ErrUnmappable = errors.New("charset: character not representable in the coding")
	// ErrInvalidSeptet: an octet >= 0x80 in unpacked GSM7 data (typically a
	// Latin-1 client sending data_coding 0, which SMPP 3.4 §5.2.19 leaves
	// to the SMSC's default alphabet).
	ErrInvalidSeptet = errors.New("charset: octet >= 0x80 in GSM 7-bit data")
	// ErrInvalidIA5: an octet >= 0x80 in IA5/ASCII data.
	ErrInvalidIA5 = errors.New("charset: octet >= 0x80 in IA5 data")
	// ErrOddLength: UCS2 data with an odd number of octets.
	ErrOddLength = errors.New("charset: UCS2 data has odd length")
	// ErrBinary: the data_coding is 8-bit binary, which has no text form.
	ErrBinary = errors.New("charset: data_coding is binary, not text")
	// ErrUnsupported: a data_coding this package does not convert.
	ErrUnsupported = errors.New("charset: unsupported data_coding")
	// ErrFillBits: a fill-bit count outside 0..6.
	ErrFillBits = errors.New("charset: fill bits outside 0..6")
	// ErrShortPacked: packed data holds fewer septets than the stated count.
	ErrShortPacked = errors.New("charset: packed data shorter than septet count")
)
