package charset

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

// basicTable is the 23.038 §6.2.1 basic table in septet order, typed
// independently of gsmBasic; position 0x1B (escape) holds U+00A0, what a
// bare escape shows.
const basicTable = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞ\u00a0ÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNO" +
	"PQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmno" +
	"pqrstuvwxyzäöñüà"

func TestGSM7BasicTableRoundTrip(t *testing.T) {
	if n := utf8.RuneCountInString(basicTable); n != 128 {
		t.Fatalf("basicTable has %d runes", n)
	}
	code := 0
	for _, r := range basicTable {
		c := byte(code)
		code++
		got, err := AppendUTF8FromGSM7(nil, []byte{c})
		if c == gsmEscape {
			if err != nil || string(got) != "\u00a0" {
				t.Errorf("lone escape decoded to %q, %v", got, err)
			}
			if _, ok := AppendGSM7(nil, string(r)); ok {
				t.Errorf("NBSP must not be encodable")
			}
			continue
		}
		if err != nil || string(got) != string(r) {
			t.Errorf("decode 0x%02X = %q, %v; want %q", c, got, err, r)
		}
		enc, ok := AppendGSM7(nil, string(r))
		if !ok || !bytes.Equal(enc, []byte{c}) {
			t.Errorf("encode %q = % X, %v; want %02X", r, enc, ok, c)
		}
		if n, ok := Septets(string(r)); n != 1 || !ok {
			t.Errorf("Septets(%q) = %d, %v", r, n, ok)
		}
	}
}

func TestGSM7Extension(t *testing.T) {
	f := func(s string, code byte) {
		t.Helper()
		want := []byte{0x1B, code}
		enc, ok := AppendGSM7(nil, s)
		if !ok || !bytes.Equal(enc, want) {
			t.Errorf("encode %q = % X, %v; want % X", s, enc, ok, want)
		}
		dec, err := AppendUTF8FromGSM7(nil, want)
		if err != nil || string(dec) != s {
			t.Errorf("decode % X = %q, %v; want %q", want, dec, err, s)
		}
		if n, ok := Septets(s); n != 2 || !ok {
			t.Errorf("Septets(%q) = %d, %v; want 2", s, n, ok)
		}
	}
	f("\f", 0x0A)
	f("^", 0x14)
	f("{", 0x28)
	f("}", 0x29)
	f("\\", 0x2F)
	f("[", 0x3C)
	f("~", 0x3D)
	f("]", 0x3E)
	f("|", 0x40)
	f("€", 0x65)
}

func TestGSM7Encode(t *testing.T) {
	f := func(s string, want []byte) {
		t.Helper()
		got, ok := AppendGSM7(nil, s)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("AppendGSM7(%q) = % X, %v; want % X", s, got, ok, want)
		}
	}
	// '@' is septet 0x00: a NUL on the wire that is text, not a terminator.
	f("@", []byte{0x00})
	f("@@", []byte{0x00, 0x00})
	f("a@b", []byte{0x61, 0x00, 0x62})
	f("", nil)
	f("Hello, World!", []byte("Hello, World!"))
	// $ is 0x02 and ¤ is 0x24 where ASCII has $: not an identity mapping.
	f("$5", []byte{0x02, 0x35})
	f("¤", []byte{0x24})
	f("_", []byte{0x11})
	// Greek capitals that look Latin (Α, Β) are not in the table; the ten
	// distinct ones are.
	f("ΔΦΓΛΩΠΨΣΘΞ", []byte{0x10, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A})
	f("ç", []byte{0x09}) // ç encodes as Ç (GSM0338.TXT has ç at 0x09)
	f("Price: 5€ {x}", []byte{'P', 'r', 'i', 'c', 'e', ':', ' ', '5', 0x1B, 0x65, ' ', 0x1B, 0x28, 'x', 0x1B, 0x29})
	f("line1\r\nline2", []byte("line1\r\nline2"))
}

func TestGSM7EncodeUnmappable(t *testing.T) {
	f := func(s string, lossy string, bad int) {
		t.Helper()
		prefix := []byte("keep")
		got, ok := AppendGSM7(prefix, s)
		if ok || string(got) != "keep" {
			t.Errorf("AppendGSM7(%q) = %q, %v; want prefix only, false", s, got, ok)
		}
		l, n := AppendGSM7Lossy([]byte("keep"), s)
		want, _ := AppendGSM7([]byte("keep"), lossy)
		if n != bad || !bytes.Equal(l, want) {
			t.Errorf("AppendGSM7Lossy(%q) = % X, %d; want % X, %d", s, l, n, want, bad)
		}
		if _, ok := Septets(s); ok {
			t.Errorf("Septets(%q) ok", s)
		}
	}
	f("`", "?", 1)
	f("\x00", "?", 1) // U+0000 is not '@'
	f("Αθήνα", "?????", 5)
	f("hi 😀", "hi ?", 1)
	f("a\xffb", "a?b", 1)
	f("€ and ₹", "€ and ?", 1)
	f("çà ÿ", "Çà ?", 1)
}

func TestGSM7Decode(t *testing.T) {
	f := func(in []byte, want string) {
		t.Helper()
		got, err := AppendUTF8FromGSM7([]byte(">"), in)
		if err != nil || string(got) != ">"+want {
			t.Errorf("decode % X = %q, %v; want %q", in, got, err, ">"+want)
		}
	}
	f(nil, "")
	f([]byte{0x00}, "@")
	f([]byte{0x00, 0x00, 0x00}, "@@@")
	f([]byte{0x48, 0x69, 0x00}, "Hi@")
	f([]byte{0x1B, 0x65, 0x31}, "€1")
	// Escape + a code without an extension character shows the basic one
	// (23.038 §6.2.1.1).
	f([]byte{0x1B, 0x41}, "A")
	f([]byte{0x1B, 0x00}, "@")
	f([]byte{0x1B, 0x0D}, "\r") // CR2, reserved
	// ESC ESC (reserved second table) and a trailing ESC show U+00A0.
	f([]byte{0x1B, 0x1B, 0x41}, "\u00a0A")
	f([]byte{0x41, 0x1B}, "A\u00a0")
	f([]byte{0x1B, 0x1B, 0x1B, 0x28}, "\u00a0{")
	f([]byte{0x1B, 0x1B, 0x1B}, "\u00a0\u00a0")
}

func TestGSM7DecodeInvalid(t *testing.T) {
	f := func(in []byte) {
		t.Helper()
		got, err := AppendUTF8FromGSM7([]byte("keep"), in)
		if !errors.Is(err, ErrInvalidSeptet) || string(got) != "keep" {
			t.Errorf("decode % X = %q, %v; want ErrInvalidSeptet", in, got, err)
		}
	}
	f([]byte{0x80})
	f([]byte{'a', 'b', 0xE9}) // Latin-1 é sent as data_coding 0
	f([]byte{0x1B, 0x80})
	f([]byte{0x1B, 0xFF, 'a'})
}

func TestGSM7MixedRoundTrip(t *testing.T) {
	for _, s := range []string{
		"Ünïcödé? Nö: Ünicöde ÄÖÜäöüß",
		"Ζ is not GSM but Σ is",
		"{[~|\\^€]}\f",
		"@£$¥èéùìòÇ\nØø\rÅå",
		"Your code is 1234. Reply STOP to opt out.",
	} {
		enc, ok := AppendGSM7(nil, s)
		n, sok := Septets(s)
		if !ok {
			if sok {
				t.Errorf("%q: Septets ok but encode failed", s)
			}
			continue
		}
		if n != len(enc) || !sok {
			t.Errorf("%q: Septets = %d, %v; encoded %d", s, n, sok, len(enc))
		}
		dec, err := AppendUTF8FromGSM7(nil, enc)
		if err != nil || string(dec) != s {
			t.Errorf("%q: round trip %q, %v", s, dec, err)
		}
	}
}
