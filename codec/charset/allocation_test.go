//go:build !race

package charset

import (
	"strings"
	"testing"
)

// TestAllocations asserts that every converter, given a dst with enough
// capacity, allocates nothing, on success and on failure.
func TestAllocations(t *testing.T) {
	buf := make([]byte, 0, 2048)
	text := strings.Repeat("Hello @ {world} 5€ ÄÖÜ ", 7)[:150]
	septets, _ := AppendGSM7(nil, text)
	packed, _ := PackSeptets(nil, septets, 1)
	uni := strings.Repeat("Привет 😀 ", 7)
	ucs2 := AppendUCS2(nil, uni)
	latin, _ := AppendLatin1(nil, "café crème ÿ")
	long := text + text

	cases := []struct {
		name string
		fn   func()
	}{
		{"AppendGSM7", func() { buf, _ = AppendGSM7(buf[:0], text) }},
		{"AppendGSM7/unmappable", func() { buf, _ = AppendGSM7(buf[:0], uni) }},
		{"AppendGSM7Lossy", func() { buf, _ = AppendGSM7Lossy(buf[:0], uni) }},
		{"AppendUTF8FromGSM7", func() { buf, _ = AppendUTF8FromGSM7(buf[:0], septets) }},
		{"AppendUTF8FromGSM7/invalid", func() { buf, _ = AppendUTF8FromGSM7(buf[:0], latin) }},
		{"PackSeptets", func() { buf, _ = PackSeptets(buf[:0], septets, 1) }},
		{"UnpackSeptets", func() { buf, _ = UnpackSeptets(buf[:0], packed, 1, len(septets)) }},
		{"UnpackSeptets/short", func() { buf, _ = UnpackSeptets(buf[:0], packed, 1, 1000) }},
		{"AppendUCS2", func() { buf = AppendUCS2(buf[:0], uni) }},
		{"AppendUTF8FromUCS2", func() { buf, _ = AppendUTF8FromUCS2(buf[:0], ucs2) }},
		{"AppendUTF8FromUCS2/odd", func() { buf, _ = AppendUTF8FromUCS2(buf[:0], ucs2[1:]) }},
		{"AppendLatin1", func() { buf, _ = AppendLatin1(buf[:0], "café crème") }},
		{"AppendLatin1Lossy", func() { buf, _ = AppendLatin1Lossy(buf[:0], uni) }},
		{"AppendUTF8FromLatin1", func() { buf = AppendUTF8FromLatin1(buf[:0], latin) }},
		{"AppendIA5", func() { buf, _ = AppendIA5(buf[:0], "plain text") }},
		{"AppendIA5Lossy", func() { buf, _ = AppendIA5Lossy(buf[:0], uni) }},
		{"AppendUTF8FromIA5", func() { buf, _ = AppendUTF8FromIA5(buf[:0], []byte("plain")) }},
		{"Decode/GSM7", func() { buf, _ = Decode(buf[:0], 0x00, septets) }},
		{"Decode/UCS2", func() { buf, _ = Decode(buf[:0], 0x08, ucs2) }},
		{"Decode/flash", func() { buf, _ = Decode(buf[:0], 0xF0, septets) }},
		{"Decode/binary", func() { buf, _ = Decode(buf[:0], 0x04, latin) }},
		{"Encode/GSM7", func() { buf, _ = Encode(buf[:0], CodingDefault, text) }},
		{"Encode/unmappable", func() { buf, _ = Encode(buf[:0], CodingDefault, uni) }},
		{"Encode/UCS2", func() { buf, _ = Encode(buf[:0], CodingUCS2, uni) }},
		{"Encode/Latin1", func() { buf, _ = Encode(buf[:0], CodingLatin1, "café") }},
		{"Septets", func() { _, _ = Septets(text) }},
		{"Segments", func() { _, _ = Segments(long, CodingDefault) }},
		{"SegmentLen", func() { _ = SegmentLen(septets, CodingDefault, 153) }},
		{"Cheapest", func() { _ = Cheapest(uni) }},
		{"Classify", func() { _ = Classify(0xF5) }},
	}
	for _, tc := range cases {
		if n := testing.AllocsPerRun(100, tc.fn); n != 0 {
			t.Errorf("%s: %v allocs per run; want 0", tc.name, n)
		}
	}
}
