package charset

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzGSM7 checks the GSM 03.38 converters: UTF-8 → GSM7 → UTF-8 gives the
// input back whenever it is encodable; arbitrary septets decode without
// panicking; packing round-trips for every fill count and matches the
// bit-by-bit reference packer.
func FuzzGSM7(f *testing.F) {
	for _, s := range []string{"", "hello", "@", "€{}[]~|\\^\f", "ΔΦΓΛΩΠΨΣΘΞ", "çÇ", "😀", "1234567", "\x1b\x1b\x1b", "\x1b\x65\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		n, ok := Septets(s)
		enc, eok := AppendGSM7(nil, s)
		if ok != eok {
			t.Fatalf("Septets ok=%v, AppendGSM7 ok=%v", ok, eok)
		}
		lossy, bad := AppendGSM7Lossy(nil, s)
		if len(lossy) != n || (bad == 0) != ok {
			t.Fatalf("lossy len %d bad %d; Septets %d, %v", len(lossy), bad, n, ok)
		}
		if ok {
			if !bytes.Equal(enc, lossy) {
				t.Fatalf("strict % X != lossy % X", enc, lossy)
			}
			dec, err := AppendUTF8FromGSM7(nil, enc)
			if want := strings.ReplaceAll(s, "ç", "Ç"); err != nil || string(dec) != want {
				t.Fatalf("round trip %q → % X → %q, %v", s, enc, dec, err)
			}
		}
		if parts, _ := Segments(s, CodingDefault); parts != splitParts(t, lossy, CodingDefault, UDHConcat8) {
			t.Fatalf("Segments = %d, split gives a different count", parts)
		}

		// Arbitrary septets: decode succeeds iff every octet is < 0x80.
		dec, err := AppendUTF8FromGSM7(nil, data)
		valid := true
		for _, c := range data {
			if c >= 0x80 {
				valid = false
			}
		}
		if valid != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidSeptet)) {
			t.Fatalf("decode % X: %v", data, err)
		}
		if !utf8.Valid(dec) {
			t.Fatalf("decode produced invalid UTF-8 %q", dec)
		}

		septets := make([]byte, len(data))
		for i, c := range data {
			septets[i] = c & 0x7F
		}
		for fill := 0; fill <= 6; fill++ {
			packed, err := PackSeptets(nil, septets, fill)
			if err != nil || !bytes.Equal(packed, refPack(septets, fill)) || len(packed) != PackedLen(len(septets), fill) {
				t.Fatalf("fill %d: pack % X, %v; ref % X", fill, packed, err, refPack(septets, fill))
			}
			got, err := UnpackSeptets(nil, packed, fill, len(septets))
			if err != nil || !bytes.Equal(got, septets) {
				t.Fatalf("fill %d: unpack % X, %v", fill, got, err)
			}
			got, err = UnpackSeptets(nil, packed, fill, -1)
			k := len(septets)
			ambiguous := k > 0 && (fill+7*k)%8 == 0 && septets[k-1] == 0
			if err != nil || !(bytes.Equal(got, septets) || ambiguous && bytes.Equal(got, septets[:k-1])) {
				t.Fatalf("fill %d: unpack without count % X, %v", fill, got, err)
			}
			// Unpacking arbitrary octets never panics.
			_, _ = UnpackSeptets(nil, data, fill, -1)
			_, _ = UnpackSeptets(nil, data, fill, len(data))
		}
	})
}

// FuzzUCS2 checks UTF-16BE: valid UTF-8 round-trips; arbitrary octets
// decode to valid UTF-8 (or ErrOddLength) and decoding is stable under
// re-encoding.
func FuzzUCS2(f *testing.F) {
	for _, s := range []string{"", "Hi", "Привет", "😀", "a😀b", "\xd8\x3d", "\xde\x00\xd8\x3d", "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if utf8.Valid(data) {
			enc := AppendUCS2(nil, string(data))
			if len(enc) != 2*UTF16Len(string(data)) {
				t.Fatalf("encoded %d octets, UTF16Len %d", len(enc), UTF16Len(string(data)))
			}
			dec, err := AppendUTF8FromUCS2(nil, enc)
			if err != nil || !bytes.Equal(dec, data) {
				t.Fatalf("round trip %q → % X → %q, %v", data, enc, dec, err)
			}
			if parts, _ := Segments(string(data), CodingUCS2); parts != splitParts(t, enc, CodingUCS2, UDHConcat8) {
				t.Fatalf("Segments = %d, split gives a different count", parts)
			}
		}
		dec, err := AppendUTF8FromUCS2(nil, data)
		if len(data)%2 != 0 {
			if !errors.Is(err, ErrOddLength) || len(dec) != 0 {
				t.Fatalf("odd length: %q, %v", dec, err)
			}
			return
		}
		if err != nil || !utf8.Valid(dec) {
			t.Fatalf("decode % X = %q, %v", data, dec, err)
		}
		again, err := AppendUTF8FromUCS2(nil, AppendUCS2(nil, string(dec)))
		if err != nil || !bytes.Equal(again, dec) {
			t.Fatalf("re-decode %q = %q, %v", dec, again, err)
		}
	})
}

// FuzzLatin1 checks ISO-8859-1: every octet string round-trips through
// UTF-8, and UTF-8 that encodes decodes back to itself.
func FuzzLatin1(f *testing.F) {
	for _, s := range []string{"", "café", "\xff\x00\x80", "€", "ÿ"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := AppendUTF8FromLatin1(nil, data)
		if !utf8.Valid(dec) || utf8.RuneCount(dec) != len(data) {
			t.Fatalf("decode % X = %q", data, dec)
		}
		back, ok := AppendLatin1(nil, string(dec))
		if !ok || !bytes.Equal(back, data) {
			t.Fatalf("round trip % X → %q → % X, %v", data, dec, back, ok)
		}
		enc, ok := AppendLatin1(nil, string(data))
		lossy, bad := AppendLatin1Lossy(nil, string(data))
		if ok != (bad == 0) || (ok && !bytes.Equal(enc, lossy)) {
			t.Fatalf("strict % X, %v; lossy % X, %d", enc, ok, lossy, bad)
		}
		if ok {
			if again := AppendUTF8FromLatin1(nil, enc); !bytes.Equal(again, data) {
				t.Fatalf("%q → % X → %q", data, enc, again)
			}
		}
	})
}
