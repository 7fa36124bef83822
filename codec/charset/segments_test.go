package charset

import (
	"strings"
	"testing"
)

// splitParts splits encoded text with SegmentLen the way a sender would and
// returns the part count, for comparison with SegmentsUDH.
func splitParts(t testing.TB, enc []byte, c Coding, udhLen int) int {
	t.Helper()
	single, per := Capacity(c.Alphabet(), 0), Capacity(c.Alphabet(), udhLen)
	if SegmentLen(enc, c, single) == len(enc) {
		return 1
	}
	parts := 0
	for len(enc) > 0 {
		n := SegmentLen(enc, c, per)
		if n == 0 {
			t.Fatalf("SegmentLen made no progress on % X", enc[:min(len(enc), 8)])
		}
		enc = enc[n:]
		parts++
	}
	return parts
}

func TestSegments(t *testing.T) {
	r := strings.Repeat
	f := func(s string, c Coding, udh, wantParts, wantPer int) {
		t.Helper()
		parts, per := SegmentsUDH(s, c, udh)
		if parts != wantParts || per != wantPer {
			t.Errorf("SegmentsUDH(%d runes, %v, %d) = %d, %d; want %d, %d",
				len([]rune(s)), c, udh, parts, per, wantParts, wantPer)
		}
		if udh == UDHConcat8 {
			if p2, per2 := Segments(s, c); p2 != parts || per2 != per {
				t.Errorf("Segments disagrees with SegmentsUDH(6)")
			}
		}
		if enc, err := Encode(nil, c, s); err == nil && parts > 0 {
			if got := splitParts(t, enc, c, udh); got != parts {
				t.Errorf("SegmentLen splits %d runes into %d parts; Segments says %d", len([]rune(s)), got, parts)
			}
		}
	}
	const G, U, L = CodingDefault, CodingUCS2, CodingLatin1
	f("", G, 6, 1, 160)
	f(r("a", 160), G, 6, 1, 160)
	f(r("a", 161), G, 6, 2, 153)
	f(r("a", 306), G, 6, 2, 153) // 153*2
	f(r("a", 307), G, 6, 3, 153)
	f(r("a", 161), G, 7, 2, 152)
	f(r("a", 304), G, 7, 2, 152)
	f(r("a", 305), G, 7, 3, 152)
	f(r("a", 161), G, 0, 2, 160) // SAR-less split without UDH
	// Extension characters cost 2 and never straddle a boundary.
	f(r("a", 158)+"€", G, 6, 1, 160)
	f(r("a", 159)+"€", G, 6, 2, 153)
	f(r("a", 151)+"€"+r("a", 153), G, 6, 2, 153) // 306 septets, escape ends part 1
	f(r("a", 152)+"€"+r("a", 152), G, 6, 3, 153) // 306 septets, but € moves to part 2
	f(r("{", 80), G, 6, 1, 160)
	f(r("{", 81), G, 6, 2, 153)  // 162 septets: 76 pairs + 5 pairs
	f(r("{", 153), G, 6, 3, 153) // 76 + 76 + 1 pairs
	// Unrepresentable characters count as the '?' the lossy encoder sends.
	f(r("😀", 160), G, 6, 1, 160)
	f(r("😀", 161), G, 6, 2, 153)
	// UCS2 counts UTF-16 units; a surrogate pair stays in one part.
	f(r("П", 70), U, 6, 1, 70)
	f(r("П", 71), U, 6, 2, 67)
	f(r("П", 134), U, 6, 2, 67)
	f(r("П", 135), U, 6, 3, 67)
	f(r("П", 71), U, 7, 2, 66)
	f(r("П", 68)+"😀", U, 6, 1, 70)
	f(r("П", 69)+"😀", U, 6, 2, 67)
	f(r("П", 65)+"😀"+r("П", 67), U, 6, 2, 67) // pair ends part 1
	f(r("П", 66)+"😀"+r("П", 66), U, 6, 3, 67) // 134 units, pair moves
	f(r("😀", 35), U, 6, 1, 70)
	f(r("😀", 36), U, 6, 2, 67) // 33 pairs + 3
	f(r("😀", 67), U, 6, 3, 67) // 134 units, but 33 pairs per part
	// 8-bit counts octets: one per Latin-1 character, one per byte for binary.
	f(r("é", 140), L, 6, 1, 140)
	f(r("é", 141), L, 6, 2, 134)
	f(r("é", 268), L, 6, 2, 134)
	f(r("é", 269), L, 6, 3, 134)
	f(r("é", 141), L, 7, 2, 133)
	f(r("x", 141), CodingIA5, 6, 2, 134)
	f(r("\x00", 140), CodingBinary, 6, 1, 140)
	f(r("\x00", 141), CodingOctet, 6, 2, 134)
	f(r("é", 70), CodingOctet, 6, 1, 140) // UTF-8 bytes as given
	// Unusable parameters.
	f("a", G, -1, 0, 0)
	f("a", G, 137, 0, 0)
	f("a", Coding(0x0B), 6, 0, 0)
}

func TestCapacity(t *testing.T) {
	f := func(a Alphabet, udh, want int) {
		t.Helper()
		if got := Capacity(a, udh); got != want {
			t.Errorf("Capacity(%v, %d) = %d; want %d", a, udh, got, want)
		}
	}
	f(AlphabetGSM7, 0, 160)
	f(AlphabetGSM7, 6, 153)
	f(AlphabetGSM7, 7, 152)
	f(AlphabetGSM7, 12, 146)
	f(Alphabet8Bit, 0, 140)
	f(Alphabet8Bit, 6, 134)
	f(Alphabet8Bit, 7, 133)
	f(AlphabetUCS2, 0, 70)
	f(AlphabetUCS2, 6, 67)
	f(AlphabetUCS2, 7, 66)
	f(AlphabetReserved, 0, 0)
	f(AlphabetGSM7, 136, 4)
	f(AlphabetGSM7, 137, 0)
}

func TestSegmentLen(t *testing.T) {
	f := func(enc []byte, c Coding, max, want int) {
		t.Helper()
		if got := SegmentLen(enc, c, max); got != want {
			t.Errorf("SegmentLen(% X, %v, %d) = %d; want %d", enc, c, max, got, want)
		}
	}
	f([]byte{'a', 'b', 0x1B, 0x65}, CodingDefault, 3, 2) // escape pair kept whole
	f([]byte{'a', 'b', 0x1B, 0x65}, CodingDefault, 4, 4)
	f([]byte{'a', 0x1B}, CodingDefault, 2, 2) // trailing lone escape: 1 unit
	f([]byte{0x1B, 0x1B, 0x1B, 0x65}, CodingDefault, 3, 2)
	f([]byte{0x1B, 0x65}, CodingDefault, 1, 0)
	f([]byte{0x00, 0x41, 0xD8, 0x3D, 0xDE, 0x00}, CodingUCS2, 2, 2)
	f([]byte{0x00, 0x41, 0xD8, 0x3D, 0xDE, 0x00}, CodingUCS2, 3, 6)
	f([]byte{0x00, 0x41, 0xD8, 0x3D, 0x00, 0x42}, CodingUCS2, 2, 4) // lone high may end a part
	f([]byte{0x00, 0x41, 0x00}, CodingUCS2, 5, 2)
	f([]byte{1, 2, 3}, CodingBinary, 2, 2)
	f([]byte{1, 2, 3}, CodingBinary, 0, 0)
	f([]byte{1}, Coding(0x0B), 5, 0)
}

func TestCheapest(t *testing.T) {
	f := func(s string, want, wantLatin Coding) {
		t.Helper()
		if got := Cheapest(s); got != want {
			t.Errorf("Cheapest(%q) = %v; want %v", s, got, want)
		}
		if got := (Preference{AllowLatin1: true}).Cheapest(s); got != wantLatin {
			t.Errorf("Cheapest(%q) with Latin-1 = %v; want %v", s, got, wantLatin)
		}
	}
	const G, U, L = CodingDefault, CodingUCS2, CodingLatin1
	f("", G, G)
	f("Hello @ 5€ {ok}", G, G)
	f("ΔΣΩ Ç ç", G, G)
	f("naïve café", U, L) // ï is not GSM7
	f("back`tick", U, L)
	f("ÿ and 😀", U, U)
	f("Привет", U, U)
	f("a\xffb", U, U)
}
