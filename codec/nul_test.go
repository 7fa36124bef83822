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
