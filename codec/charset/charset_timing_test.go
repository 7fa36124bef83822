package charset

import (
	"strings"
	"testing"
)

// A 160-septet GSM7 text with extension characters and a 70-unit UCS2 text
// with a surrogate pair: one full SMS each.
var (
	benchGSM7 = (strings.Repeat("Your code is 4711 {valid 5 min} €2 ", 5))[:156] // 156 runes, 160 septets
	benchUCS2 = strings.Repeat("Код доступа ", 5) + "12345678😀"                  // 60 + 8 + 2 units
)

func BenchmarkGSM7Encode(b *testing.B) {
	if n, ok := Septets(benchGSM7); n != 160 || !ok {
		b.Fatalf("bench text is %d septets, %v", n, ok)
	}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchGSM7)))
	for b.Loop() {
		dst, _ = AppendGSM7(dst[:0], benchGSM7)
	}
}

func BenchmarkGSM7Decode(b *testing.B) {
	septets, _ := AppendGSM7(nil, benchGSM7)
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(septets)))
	for b.Loop() {
		dst, _ = AppendUTF8FromGSM7(dst[:0], septets)
	}
}

func BenchmarkGSM7Pack(b *testing.B) {
	septets, _ := AppendGSM7(nil, benchGSM7)
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(septets)))
	for b.Loop() {
		dst, _ = PackSeptets(dst[:0], septets, 0)
	}
}

func BenchmarkGSM7Unpack(b *testing.B) {
	septets, _ := AppendGSM7(nil, benchGSM7)
	packed, _ := PackSeptets(nil, septets, 0)
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(packed)))
	for b.Loop() {
		dst, _ = UnpackSeptets(dst[:0], packed, 0, len(septets))
	}
}

func BenchmarkUCS2Encode(b *testing.B) {
	if n := UTF16Len(benchUCS2); n != 70 {
		b.Fatalf("bench text is %d units", n)
	}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchUCS2)))
	for b.Loop() {
		dst = AppendUCS2(dst[:0], benchUCS2)
	}
}

func BenchmarkUCS2Decode(b *testing.B) {
	enc := AppendUCS2(nil, benchUCS2)
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		dst, _ = AppendUTF8FromUCS2(dst[:0], enc)
	}
}

func BenchmarkSegmentsGSM7(b *testing.B) {
	long := strings.Repeat(benchGSM7, 3)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Segments(long, CodingDefault)
	}
}

func BenchmarkCheapest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Cheapest(benchGSM7)
	}
}
