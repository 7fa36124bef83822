package codec

import (
	"bytes"
	"testing"
)

// nulIndex must agree with bytes.IndexByte for every length and position.
func TestNulIndex(t *testing.T) {
	for n := 0; n <= 40; n++ {
		s := bytes.Repeat([]byte{0xFF}, n)
		if nulIndex(s) != -1 {
			t.Fatalf("len %d without NUL: %d", n, nulIndex(s))
		}
		for p := 0; p < n; p++ {
			for q := p; q < n; q++ {
				c := append([]byte(nil), s...)
				c[p], c[q] = 0, 0
				if got, want := nulIndex(c), bytes.IndexByte(c, 0); got != want {
					t.Fatalf("len %d NULs at %d,%d: %d want %d", n, p, q, got, want)
				}
			}
		}
		// 0x01 and 0x80 octets around a NUL are the trick's classic traps.
		for p := 0; p < n; p++ {
			c := bytes.Repeat([]byte{0x01, 0x80}, n)[:n]
			c[p] = 0
			if got := nulIndex(c); got != p {
				t.Fatalf("len %d trap NUL at %d: %d", n, p, got)
			}
		}
	}
}

// cstr must agree with the plain rule (the first NUL within max octets)
// for every field, offset, length and NUL position, whether its one-word
// look or nulIndex decides.
func TestCstr(t *testing.T) {
	fields := []*cfield{fSystemID, fPassword, fServiceType, fSourceAddr, fDestAddr, fSourceAddr65,
		fScheduleTime, fValidityPeriod, fMessageID, fAddressRange}
	for _, f := range fields {
		for n := 0; n <= f.max+10; n++ {
			for p := -1; p < n; p++ {
				for _, fill := range []byte{0xFF, 0x01, 0x80} {
					for _, off := range []int{0, 3} {
						b := bytes.Repeat([]byte{fill}, off+n)
						if p >= 0 {
							b[off+p] = 0
						}
						v, next, err := cstr(b, off, f)
						wv, wnext, werr := cstrRule(b, off, f)
						if !bytes.Equal(v, wv) || cap(v) != len(v) || next != wnext || err != werr {
							t.Fatalf("max %d, %d octets, NUL at %d, at %d: %q %d %v, want %q %d %v",
								f.max, n, p, off, v, next, err, wv, wnext, werr)
						}
					}
				}
			}
		}
	}
}

func cstrRule(b []byte, i int, f *cfield) ([]byte, int, *DecodeError) {
	rest := b[i:]
	j := bytes.IndexByte(rest[:min(len(rest), f.max)], 0)
	switch {
	case j >= 0 && f.time && j != 0 && j != 16:
		return nil, i, f.badLen
	case j >= 0:
		return rest[:j:j], i + j + 1, nil
	case len(rest) >= f.max:
		return nil, i, f.tooLong
	}
	return nil, i, f.noNUL
}
