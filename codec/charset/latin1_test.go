package charset

import (
	"bytes"
	"errors"
	"testing"
)

func TestLatin1AllOctets(t *testing.T) {
	var all [256]byte
	for i := range all {
		all[i] = byte(i)
	}
	s, _ := Decode(nil, byte(CodingLatin1), all[:])
	for i, r := range []rune(string(s)) {
		if r != rune(i) {
			t.Fatalf("octet %02X decoded to %U", i, r)
		}
	}
	back, ok := AppendLatin1(nil, string(s))
	if !ok || !bytes.Equal(back, all[:]) {
		t.Fatalf("round trip = % X, %v", back, ok)
	}
}

func TestLatin1(t *testing.T) {
	f := func(s string, want []byte) {
		t.Helper()
		got, ok := AppendLatin1([]byte{1}, s)
		if !ok || !bytes.Equal(got, append([]byte{1}, want...)) {
			t.Errorf("AppendLatin1(%q) = % X, %v", s, got, ok)
		}
	}
	f("", nil)
	f("café", []byte{'c', 'a', 'f', 0xE9})
	f("ÿ£§", []byte{0xFF, 0xA3, 0xA7})

	g := func(s, lossy string, bad int) {
		t.Helper()
		if got, ok := AppendLatin1([]byte("k"), s); ok || string(got) != "k" {
			t.Errorf("AppendLatin1(%q) = %q, %v; want failure", s, got, ok)
		}
		got, n := AppendLatin1Lossy(nil, s)
		want, _ := AppendLatin1(nil, lossy)
		if n != bad || !bytes.Equal(got, want) {
			t.Errorf("AppendLatin1Lossy(%q) = % X, %d; want % X, %d", s, got, n, want, bad)
		}
	}
	g("5€", "5?", 1)
	g("é😀\xff", "é??", 2)
}

func TestIA5(t *testing.T) {
	got, ok := AppendIA5(nil, "Hello {world} ~`")
	if !ok || string(got) != "Hello {world} ~`" {
		t.Errorf("AppendIA5 = %q, %v", got, ok)
	}
	if got, ok := AppendIA5([]byte("k"), "café"); ok || string(got) != "k" {
		t.Errorf("AppendIA5(café) = %q, %v", got, ok)
	}
	if got, n := AppendIA5Lossy(nil, "café€"); n != 2 || string(got) != "caf??" {
		t.Errorf("AppendIA5Lossy = %q, %d", got, n)
	}
	if got, err := AppendUTF8FromIA5([]byte(">"), []byte("a\x00~")); err != nil || string(got) != ">a\x00~" {
		t.Errorf("AppendUTF8FromIA5 = %q, %v", got, err)
	}
	if got, err := AppendUTF8FromIA5([]byte("k"), []byte{'a', 0xE9}); !errors.Is(err, ErrInvalidIA5) || string(got) != "k" {
		t.Errorf("AppendUTF8FromIA5(0xE9) = %q, %v", got, err)
	}
}
