package charset

import (
	"errors"
	"testing"
)

func TestClassify(t *testing.T) {
	f := func(dc byte, a Alphabet, class MessageClass, compressed bool) {
		t.Helper()
		got := Classify(dc)
		want := Scheme{Alphabet: a, Class: class, Compressed: compressed}
		if got != want {
			t.Errorf("Classify(0x%02X) = %+v; want %+v", dc, got, want)
		}
	}
	f(0x00, AlphabetGSM7, ClassNone, false)
	f(0x01, Alphabet8Bit, ClassNone, false) // IA5
	f(0x02, Alphabet8Bit, ClassNone, false)
	f(0x03, Alphabet8Bit, ClassNone, false) // Latin-1
	f(0x04, Alphabet8Bit, ClassNone, false)
	f(0x06, Alphabet8Bit, ClassNone, false) // ISO-8859-5
	f(0x08, AlphabetUCS2, ClassNone, false)
	f(0x0B, AlphabetReserved, ClassNone, false)
	f(0x0C, AlphabetReserved, ClassNone, false)
	f(0x0E, Alphabet8Bit, ClassNone, false) // KS C 5601
	f(0x0F, AlphabetReserved, ClassNone, false)
	// 23.038 general data coding: bit 4 class present, bits 3-2 alphabet.
	f(0x10, AlphabetGSM7, Class0, false)
	f(0x11, AlphabetGSM7, Class1, false)
	f(0x16, Alphabet8Bit, Class2, false)
	f(0x18, AlphabetUCS2, Class0, false)
	f(0x1B, AlphabetUCS2, Class3, false)
	f(0x1C, AlphabetReserved, Class0, false)
	f(0x20, AlphabetGSM7, ClassNone, true)
	f(0x38, AlphabetUCS2, Class0, true)
	f(0x48, AlphabetUCS2, ClassNone, false) // automatic-deletion group
	f(0x80, AlphabetReserved, ClassNone, false)
	f(0xBF, AlphabetReserved, ClassNone, false)
	f(0xC0, AlphabetGSM7, ClassNone, false) // MWI discard
	f(0xD8, AlphabetGSM7, ClassNone, false) // MWI store
	f(0xE0, AlphabetUCS2, ClassNone, false) // MWI store, UCS2
	// 0xF0-0xFF: bit 2 selects 8-bit, bits 1-0 class.
	f(0xF0, AlphabetGSM7, Class0, false) // flash
	f(0xF1, AlphabetGSM7, Class1, false)
	f(0xF3, AlphabetGSM7, Class3, false)
	f(0xF4, Alphabet8Bit, Class0, false)
	f(0xF5, Alphabet8Bit, Class1, false)
	f(0xF6, Alphabet8Bit, Class2, false)
	f(0xFB, AlphabetGSM7, Class3, false) // bit 3 reserved, ignored
	f(0xFF, Alphabet8Bit, Class3, false)

	for c, want := range map[Coding]Alphabet{
		CodingGSM7: AlphabetGSM7, CodingIA5: Alphabet8Bit, CodingOctet: Alphabet8Bit,
		CodingLatin1: Alphabet8Bit, CodingBinary: Alphabet8Bit, CodingUCS2: AlphabetUCS2,
	} {
		if got := c.Alphabet(); got != want {
			t.Errorf("%v.Alphabet() = %v; want %v", c, got, want)
		}
	}
}

func TestDecode(t *testing.T) {
	f := func(dc byte, in []byte, want string, wantErr error) {
		t.Helper()
		got, err := Decode([]byte(">"), dc, in)
		if !errors.Is(err, wantErr) || string(got) != ">"+want {
			t.Errorf("Decode(0x%02X, % X) = %q, %v; want %q, %v", dc, in, got, err, ">"+want, wantErr)
		}
	}
	f(0x00, []byte{0x48, 0x00, 0x1B, 0x65}, "H@€", nil)
	f(0x00, []byte{0xE9}, "", ErrInvalidSeptet)
	f(0x01, []byte("plain"), "plain", nil)
	f(0x01, []byte{0xE9}, "", ErrInvalidIA5)
	f(0x03, []byte{'c', 'a', 'f', 0xE9}, "café", nil)
	f(0x08, []byte{0x04, 0x1F, 0xD8, 0x3D, 0xDE, 0x00}, "П😀", nil)
	f(0x08, []byte{0x04}, "", ErrOddLength)
	f(0x02, []byte{1, 2}, "", ErrBinary)
	f(0x04, []byte{1, 2}, "", ErrBinary)
	f(0xF5, []byte{1, 2}, "", ErrBinary)
	f(0x15, []byte{1, 2}, "", ErrBinary)
	f(0xF0, []byte{0x48, 0x69}, "Hi", nil)          // flash GSM7
	f(0x18, []byte{0x00, 0x48}, "H", nil)           // UCS2 class 0
	f(0xE0, []byte{0x00, 0x48}, "H", nil)           // MWI UCS2
	f(0xC8, []byte{0x48, 0x69}, "Hi", nil)          // MWI GSM7
	f(0x05, []byte{0x30, 0x21}, "", ErrUnsupported) // JIS
	f(0x06, []byte{0xB0}, "", ErrUnsupported)
	f(0x0B, nil, "", ErrUnsupported)
	f(0x90, nil, "", ErrUnsupported)
	f(0x20, []byte{0x41}, "", ErrUnsupported) // compressed
}

func TestEncode(t *testing.T) {
	f := func(c Coding, s string, want string, wantErr error) {
		t.Helper()
		got, err := Encode([]byte{0xAA}, c, s)
		if !errors.Is(err, wantErr) || string(got) != "\xAA"+want {
			t.Errorf("Encode(%v, %q) = % X, %v; want AA % X, %v", c, s, got, err, want, wantErr)
		}
	}
	f(CodingDefault, "@€", "\x00\x1B\x65", nil)
	f(CodingDefault, "😀", "", ErrUnmappable)
	f(CodingIA5, "abc", "abc", nil)
	f(CodingIA5, "é", "", ErrUnmappable)
	f(CodingLatin1, "é", "\xE9", nil)
	f(CodingLatin1, "€", "", ErrUnmappable)
	f(CodingUCS2, "é😀", "\x00\xE9\xD8\x3D\xDE\x00", nil)
	f(CodingOctet, "x", "", ErrBinary)
	f(CodingBinary, "x", "", ErrBinary)
	f(Coding(0x06), "x", "", ErrUnsupported)
}

func TestStrings(t *testing.T) {
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("got %q; want %q", got, want)
		}
	}
	f(CodingDefault.String(), "SMSC default (GSM 03.38)")
	f(CodingUCS2.String(), "UCS2")
	f(Coding(0xF5).String(), "data_coding(0xF5)")
	f(AlphabetGSM7.String(), "GSM7")
	f(Alphabet8Bit.String(), "8bit")
	f(AlphabetUCS2.String(), "UCS2")
	f(AlphabetReserved.String(), "reserved")
}
