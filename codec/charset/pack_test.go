package charset

import (
	"bytes"
	"errors"
	"testing"
)

// refPack is the slow, obviously correct packer: write each septet's bits
// one at a time, LSB first, starting at bit fill+7i (3GPP 23.038 §6.1.2.1).
func refPack(septets []byte, fill int) []byte {
	if len(septets) == 0 {
		return nil
	}
	bits := fill + 7*len(septets)
	out := make([]byte, (bits+7)/8)
	for i, s := range septets {
		for j := range 7 {
			if s>>j&1 != 0 {
				pos := fill + 7*i + j
				out[pos/8] |= 1 << (pos % 8)
			}
		}
	}
	return out
}

func TestPackSeptetsVectors(t *testing.T) {
	f := func(text string, fill int, want []byte) {
		t.Helper()
		septets, ok := AppendGSM7(nil, text)
		if !ok {
			t.Fatalf("%q not GSM7", text)
		}
		got, err := PackSeptets([]byte{0xAA}, septets, fill)
		if err != nil || !bytes.Equal(got, append([]byte{0xAA}, want...)) {
			t.Errorf("pack %q fill %d = % X, %v; want AA % X", text, fill, got, err, want)
		}
		if n := PackedLen(len(septets), fill); n != len(want) {
			t.Errorf("PackedLen(%d, %d) = %d; want %d", len(septets), fill, n, len(want))
		}
		back, err := UnpackSeptets(nil, want, fill, len(septets))
		if err != nil || !bytes.Equal(back, septets) {
			t.Errorf("unpack % X fill %d = % X, %v; want % X", want, fill, back, err, septets)
		}
	}
	// "hello" = 68 65 6C 6C 6F. Octet k takes the septets' bits LSB first:
	//   o0 = h           | (e&0x01)<<7 = 68 | 80 = E8
	//   o1 = e>>1        | (l&0x03)<<6 = 32 | 00 = 32
	//   o2 = l>>2        | (l&0x07)<<5 = 1B | 80 = 9B
	//   o3 = l>>3        | (o&0x0F)<<4 = 0D | F0 = FD
	//   o4 = o>>4                      = 06
	// The stream is the little-endian number V = 0x06FD9B32E8; f fill bits
	// shift it left by f, giving ceil((f+35)/8) octets:
	//   f=1 0x0DFB3665D0, f=2 0x1BF66CCBA0, f=3 0x37ECD99740,
	//   f=4 0x6FD9B32E80, f=5 0xDFB3665D00, f=6 0x01BF66CCBA00.
	f("hello", 0, []byte{0xE8, 0x32, 0x9B, 0xFD, 0x06})
	f("hello", 1, []byte{0xD0, 0x65, 0x36, 0xFB, 0x0D})
	f("hello", 2, []byte{0xA0, 0xCB, 0x6C, 0xF6, 0x1B})
	f("hello", 3, []byte{0x40, 0x97, 0xD9, 0xEC, 0x37})
	f("hello", 4, []byte{0x80, 0x2E, 0xB3, 0xD9, 0x6F})
	f("hello", 5, []byte{0x00, 0x5D, 0x66, 0xB3, 0xDF})
	f("hello", 6, []byte{0x00, 0xBA, 0xCC, 0x66, 0xBF, 0x01})
	// "hellohello": 70 bits in 9 octets; o0-o3 as above, then the second
	// word's septets start at bits 35 (h), 42 (e), 49 (l), 56 (l), 63 (o):
	//   o4 = o>>4        | (h&0x1F)<<3 = 06 | 40 = 46
	//   o5 = h>>5        | (e&0x3F)<<2 = 03 | 94 = 97
	//   o6 = e>>6        | l<<1        = 01 | D8 = D9
	//   o7 = l           | (o&0x01)<<7 = 6C | 80 = EC
	//   o8 = o>>1                      = 37
	f("hellohello", 0, []byte{0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37})
	// "12345678" (31..38): 8 septets fill exactly 7 octets, no spare bits.
	//   o0 = 31 | (32&01)<<7 = 31     o4 = 35>>4 | (36&1F)<<3 = 03 | B0 = B3
	//   o1 = 19 | (33&03)<<6 = D9     o5 = 36>>5 | (37&3F)<<2 = 01 | DC = DD
	//   o2 = 0C | (34&07)<<5 = 8C     o6 = 37>>6 | 38<<1      = 00 | 70 = 70
	//   o3 = 06 | (35&0F)<<4 = 56
	f("12345678", 0, []byte{0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x70})
	f("", 3, nil)
	f("@", 0, []byte{0x00})
}

// TestUnpackSpareBits covers a text of 8n−1 septets: its last octet has 7
// zero spare bits, which read as one more septet 0x00 ('@').
func TestUnpackSpareBits(t *testing.T) {
	// "1234567" packs to 31 D9 8C 56 B3 DD 00 (the "12345678" vector above
	// without the last septet: o6 = 37>>6 = 00).
	packed := []byte{0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x00}
	if got, _ := PackSeptets(nil, []byte("1234567"), 0); !bytes.Equal(got, packed) {
		t.Fatalf("pack 1234567 = % X", got)
	}
	f := func(count int, want string) {
		t.Helper()
		got, err := UnpackSeptets(nil, packed, 0, count)
		if err != nil || string(got) != want {
			t.Errorf("unpack count %d = %q, %v; want %q", count, got, err, want)
		}
	}
	f(7, "1234567")
	f(-1, "1234567") // unknown count: the spare bits are not an '@'
	f(8, "1234567\x00")
	f(3, "123")
	f(0, "")
	// A real trailing '@' in a 7-septet text is kept with or without count.
	at, _ := PackSeptets(nil, []byte("123456\x00"), 0)
	if got, _ := UnpackSeptets(nil, at, 0, -1); string(got) != "123456\x00" {
		t.Errorf("unpack 123456@ = %q", got)
	}
	// With one fill bit the 8n−1 case moves: 1+7*7 = 50 bits leave 6 spare
	// bits, too few for a septet.
	p1, _ := PackSeptets(nil, []byte("1234567"), 1)
	if got, _ := UnpackSeptets(nil, p1, 1, -1); string(got) != "1234567" {
		t.Errorf("unpack fill 1 = %q", got)
	}
}

// TestPackAfterUDH checks fill bits against the whole TP-UD: after a
// 6-octet UDH and FillBits(6) = 1 fill bit, the text starts at septet 7 of
// the user data.
func TestPackAfterUDH(t *testing.T) {
	for _, tc := range []struct{ udh []byte }{
		{[]byte{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01}},       // 48 bits + 1 fill
		{[]byte{0x06, 0x08, 0x04, 0x01, 0x2A, 0x02, 0x01}}, // 56 bits + 0 fill
		{[]byte{0x02, 0x70, 0x00}},                         // 24 bits + 4 fill
	} {
		fill := FillBits(len(tc.udh))
		text := []byte("hellohello{}")
		ud, err := PackSeptets(append([]byte(nil), tc.udh...), text, fill)
		if err != nil {
			t.Fatal(err)
		}
		all, err := UnpackSeptets(nil, ud, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		skip := (len(tc.udh)*8 + fill) / 7
		if (len(tc.udh)*8+fill)%7 != 0 || !bytes.Equal(all[skip:skip+len(text)], text) {
			t.Errorf("udh %d octets, fill %d: septets % X", len(tc.udh), fill, all)
		}
	}
	f := func(udh, want int) {
		t.Helper()
		if got := FillBits(udh); got != want {
			t.Errorf("FillBits(%d) = %d; want %d", udh, got, want)
		}
	}
	f(0, 0)
	f(6, 1)
	f(7, 0)
	f(3, 4)
	f(12, 2) // concat + 16-bit ports: 96 bits, 96+2 = 98 = 14*7
}

func TestPackAgainstReference(t *testing.T) {
	text := []byte("The quick brown fox jumps over the lazy dog 0123456789 @@@")
	for n := 0; n <= len(text); n++ {
		for fill := 0; fill <= 6; fill++ {
			got, err := PackSeptets(nil, text[:n], fill)
			want := refPack(text[:n], fill)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("n=%d fill=%d: % X; ref % X", n, fill, got, want)
			}
			back, err := UnpackSeptets(nil, got, fill, n)
			if err != nil || !bytes.Equal(back, text[:n]) {
				t.Fatalf("n=%d fill=%d: unpack % X, %v", n, fill, back, err)
			}
		}
	}
}

func TestPackErrors(t *testing.T) {
	if got, err := PackSeptets([]byte("k"), []byte{0x41, 0x80}, 0); !errors.Is(err, ErrInvalidSeptet) || string(got) != "k" {
		t.Errorf("septet 0x80: %q, %v", got, err)
	}
	for _, fill := range []int{-1, 7, 100} {
		if _, err := PackSeptets(nil, []byte{1}, fill); !errors.Is(err, ErrFillBits) {
			t.Errorf("pack fill %d: %v", fill, err)
		}
		if _, err := UnpackSeptets(nil, []byte{1}, fill, -1); !errors.Is(err, ErrFillBits) {
			t.Errorf("unpack fill %d: %v", fill, err)
		}
	}
	f := func(packed []byte, fill, count int) {
		t.Helper()
		got, err := UnpackSeptets([]byte("k"), packed, fill, count)
		if !errors.Is(err, ErrShortPacked) || string(got) != "k" {
			t.Errorf("unpack % X fill %d count %d: %q, %v", packed, fill, count, got, err)
		}
	}
	f(nil, 0, 1)
	f([]byte{0xFF}, 2, 1) // 6 bits after the fill
	f([]byte{0xE8, 0x32, 0x9B, 0xFD, 0x06}, 6, 5)
	f([]byte{0x01}, 0, 1<<62)
}
