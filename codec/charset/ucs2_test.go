package charset

import (
	"bytes"
	"errors"
	"testing"
)

func TestUCS2RoundTrip(t *testing.T) {
	f := func(s string, want []byte) {
		t.Helper()
		got := AppendUCS2([]byte{0xEE}, s)
		if !bytes.Equal(got, append([]byte{0xEE}, want...)) {
			t.Errorf("AppendUCS2(%q) = % X; want EE % X", s, got, want)
		}
		dec, err := AppendUTF8FromUCS2([]byte("x"), want)
		if err != nil || string(dec) != "x"+s {
			t.Errorf("decode % X = %q, %v; want %q", want, dec, err, s)
		}
		if n := UTF16Len(s); n != len(want)/2 {
			t.Errorf("UTF16Len(%q) = %d; want %d", s, n, len(want)/2)
		}
	}
	f("", nil)
	f("Hi", []byte{0x00, 0x48, 0x00, 0x69})
	f("Привет", []byte{0x04, 0x1F, 0x04, 0x40, 0x04, 0x38, 0x04, 0x32, 0x04, 0x35, 0x04, 0x42})
	f("€", []byte{0x20, 0xAC})
	f("\uFFFF", []byte{0xFF, 0xFF})
	// U+1F600: 0x1F600-0x10000 = 0xF600 → high D800+(0xF600>>10)=D83D,
	// low DC00+(0xF600&0x3FF)=DE00.
	f("😀", []byte{0xD8, 0x3D, 0xDE, 0x00})
	f("a😀b", []byte{0x00, 0x61, 0xD8, 0x3D, 0xDE, 0x00, 0x00, 0x62})
	// U+10000 → D800 DC00; U+10FFFF → DBFF DFFF.
	f("\U00010000\U0010FFFF", []byte{0xD8, 0x00, 0xDC, 0x00, 0xDB, 0xFF, 0xDF, 0xFF})
	f("👍🏽", []byte{0xD8, 0x3D, 0xDC, 0x4D, 0xD8, 0x3C, 0xDF, 0xFD})
}

func TestUCS2Invalid(t *testing.T) {
	f := func(in []byte, want string) {
		t.Helper()
		got, err := AppendUTF8FromUCS2(nil, in)
		if err != nil || string(got) != want {
			t.Errorf("decode % X = %q, %v; want %q", in, got, err, want)
		}
	}
	f([]byte{0xD8, 0x3D}, "\uFFFD")                          // lone high at end
	f([]byte{0xD8, 0x3D, 0x00, 0x41}, "\uFFFDA")             // high + non-surrogate
	f([]byte{0xDE, 0x00, 0x00, 0x41}, "\uFFFDA")             // lone low
	f([]byte{0xDE, 0x00, 0xD8, 0x3D}, "\uFFFD\uFFFD")        // reversed pair
	f([]byte{0xD8, 0x3D, 0xD8, 0x3D, 0xDE, 0x00}, "\uFFFD😀") // high high low
	f([]byte{0x00, 0x00}, "\x00")

	for _, in := range [][]byte{{0x00}, {0x00, 0x41, 0x00}} {
		got, err := AppendUTF8FromUCS2([]byte("keep"), in)
		if !errors.Is(err, ErrOddLength) || string(got) != "keep" {
			t.Errorf("decode % X = %q, %v; want ErrOddLength", in, got, err)
		}
	}
	// Invalid UTF-8 encodes as U+FFFD, one unit per bad byte.
	if got := AppendUCS2(nil, "a\xffb"); !bytes.Equal(got, []byte{0x00, 0x61, 0xFF, 0xFD, 0x00, 0x62}) {
		t.Errorf("AppendUCS2 invalid UTF-8 = % X", got)
	}
}
