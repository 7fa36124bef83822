package content

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestValidCoding(t *testing.T) {
	for dc := -1; dc < 300; dc++ {
		want := dc >= 0 && dc <= 10 || dc == 13 || dc == 14
		if ValidCoding(dc) != want {
			t.Errorf("ValidCoding(%d) = %v", dc, !want)
		}
	}
}

func TestEncode(t *testing.T) {
	f := func(dc byte, in string, want []byte, bad int) {
		t.Helper()
		got, n := Encode(nil, dc, in)
		if !bytes.Equal(got, want) || n != bad {
			t.Errorf("Encode(%d, %q) = %x, %d; want %x, %d", dc, in, got, n, want, bad)
		}
	}
	f(0, "Hi@", []byte{'H', 'i', 0x00}, 0)  // '@' is GSM 0x00
	f(0, "é€", []byte{0x05, 0x1B, 0x65}, 0) // basic table, then an extension
	f(0, "中x", []byte{'?', 'x'}, 1)         // not in GSM 03.38: '?' as Jasmin
	f(3, "é", []byte("é"), 0)               // other codings: as given
	f(8, "\x00A", []byte{0x00, 'A'}, 0)
}

// Parts as Jasmin sizes them: 160/153 septets, 140/134 octets, 70/67 UCS2
// units; an 8-bit-reference UDH or the SAR values; beyond max, ErrTooLong.
func TestSplit(t *testing.T) {
	f := func(payload []byte, dc byte, m Method, max, wantN int, sizes ...int) []Part {
		t.Helper()
		parts, _, n, err := Split(nil, nil, payload, dc, m, max)
		if wantN > max {
			if !errors.Is(err, ErrTooLong) || n != wantN {
				t.Errorf("%d octets coding %d: n=%d err=%v, want ErrTooLong with %d", len(payload), dc, n, err, wantN)
			}
			return nil
		}
		if err != nil || n != wantN || len(parts) != n {
			t.Fatalf("%d octets coding %d: %d parts (n=%d) %v, want %d", len(payload), dc, len(parts), n, err, wantN)
		}
		for i, p := range parts {
			if len(p.Body) != sizes[i] {
				t.Errorf("%d octets coding %d part %d: %d octets, want %d", len(payload), dc, i, len(p.Body), sizes[i])
			}
		}
		return parts
	}
	f([]byte(strings.Repeat("a", 160)), 0, UDH, 5, 1, 160)
	parts := f([]byte(strings.Repeat("a", 400)), 0, UDH, 5, 3, 153, 153, 94)
	ref := parts[0].UDH[3]
	for i, p := range parts {
		if want := []byte{5, 0, 3, ref, 3, byte(i + 1)}; !bytes.Equal(p.UDH, want) || p.Total != 3 || int(p.Seq) != i+1 {
			t.Errorf("part %d UDH %x, want %x", i, p.UDH, want)
		}
	}
	for _, p := range f([]byte(strings.Repeat("a", 400)), 0, SAR, 5, 3, 153, 153, 94) {
		if p.UDH != nil || p.Total != 3 {
			t.Errorf("SAR part %+v", p)
		}
	}
	f([]byte(strings.Repeat("a", 766)), 0, UDH, 5, 6)
	f(bytes.Repeat([]byte{0xE9}, 141), 3, UDH, 5, 2, 134, 7)      // Latin-1: 8-bit
	f(bytes.Repeat([]byte{0x00, 0x41}, 71), 8, UDH, 5, 2, 134, 8) // UCS2: 67 units a part
	f(bytes.Repeat([]byte{0x00, 0x41}, 70), 8, UDH, 5, 1, 140)    // 70 units: one SMS
	f(bytes.Repeat([]byte{0xE9}, 161), 0, UDH, 5, 2, 134, 27)     // not septets: cut as 8-bit
	f(bytes.Repeat([]byte{0x41}, 141), 8, UDH, 5, 2, 134, 7)      // odd UCS2: cut as 8-bit
	f([]byte(strings.Repeat("a", 153*255+1)), 0, UDH, 255, 256)   // beyond the counters
	if n, err := Count([]byte(strings.Repeat("a", 161)), 0); n != 2 || err != nil {
		t.Errorf("Count = %d %v", n, err)
	}
	a, _, _, _ := Split(nil, nil, []byte(strings.Repeat("a", 200)), 0, UDH, 5)
	b, _, _, _ := Split(nil, nil, []byte(strings.Repeat("a", 200)), 0, UDH, 5)
	if a[0].UDH[3] == b[0].UDH[3] {
		t.Errorf("two long messages share reference %d", a[0].UDH[3])
	}
	if m, ok := ParseMethod("sar"); !ok || m != SAR {
		t.Error("ParseMethod(sar)")
	}
	if _, ok := ParseMethod("udh16"); ok {
		t.Error("ParseMethod(udh16) accepted")
	}
}
