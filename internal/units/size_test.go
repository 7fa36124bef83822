package units

import (
	"strings"
	"testing"
)

func TestSizeText(t *testing.T) {
	for _, c := range []struct {
		in, err string
		want    Size
	}{
		{in: "98304", want: 98304},
		{in: "0", want: 0},
		{in: "512B", want: 512},
		{in: "96KiB", want: 96 << 10},
		{in: "96 KiB", want: 96 << 10},
		{in: "4MB", want: 4 << 20},
		{in: "4m", want: 4 << 20},
		{in: "8GiB", want: 8 << 30},
		{in: "8G", want: 8 << 30},
		{in: "2TiB", want: 2 << 40},
		{in: "2tb", want: 2 << 40},
		{in: "4194304TiB", want: 1 << 62},
		{in: "4194305TiB", err: `size "4194305TiB" is too large`},
		{in: "99999999999999999999", err: "must be a whole, non-negative number"},
		{in: "1.5GiB", err: `invalid size "1.5GiB" (must be a whole, non-negative number`},
		{in: "8PiB", err: `invalid size unit "PiB" (use B, KiB, MiB, GiB or TiB)`},
		{in: "GiB", err: `invalid size "GiB"`},
		{in: "-1", err: `invalid size "-1"`},
		{in: "", err: `invalid size ""`},
	} {
		var s Size
		err := s.UnmarshalText([]byte(c.in))
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: err %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || s != c.want):
			t.Errorf("%q: %d %v, want %d", c.in, s, err, c.want)
		}
	}
}

func TestSizeFormats(t *testing.T) {
	for _, c := range []struct {
		s    Size
		want string
	}{{0, "0B"}, {1000, "1000B"}, {1536, "1536B"}, {96 << 10, "96KiB"},
		{8 << 30, "8GiB"}, {3 << 40, "3TiB"}, {1<<30 + 1<<20, "1025MiB"}} {
		if got := c.s.String(); got != c.want {
			t.Errorf("%d: String %q, want %q", int64(c.s), got, c.want)
		}
	}
	if b, _ := Size(8 << 30).MarshalText(); string(b) != "8589934592" {
		t.Errorf("marshal: %s", b)
	}
	if Size(4096).Int() != 4096 {
		t.Error("Int")
	}
}
