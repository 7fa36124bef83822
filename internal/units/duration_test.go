package units

import (
	"strings"
	"testing"
	"time"
)

func TestDurationText(t *testing.T) {
	for _, c := range []struct {
		in, err string
		want    time.Duration
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "1m30s", want: 90 * time.Second},
		{in: "0s"},
		{in: "30", err: `a duration needs a unit, e.g. "30s"`},
		{in: "soon", err: `invalid duration "soon"`},
		{in: "-1s", err: "duration must not be negative"},
	} {
		var d Duration
		err := d.UnmarshalText([]byte(c.in))
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: err %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || d.D() != c.want):
			t.Errorf("%q: %v %v, want %v", c.in, d, err, c.want)
		}
	}
	if b, _ := Duration(250 * time.Millisecond).MarshalText(); string(b) != "250ms" {
		t.Errorf("marshal: %s", b)
	}
}
