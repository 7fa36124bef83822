//go:build !race

package receipt

import (
	"testing"
	"time"
)

// allocInputs covers the canonical form and the tolerant paths.
var allocInputs = []string{
	benchCanonical,
	benchMessy,
	"id:8f14e45f-ceea-467f-a0e6-3f0bd4a9c1b2 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000",
	"ID:42 SUBMIT_DATE:250630121530 DONE DATE:2513011200 STAT:failed ERR:null TEXT:x",
	"Hello, how are you?", // ErrNotReceipt path
}

func TestParseAllocs(t *testing.T) {
	for _, in := range allocInputs {
		b := []byte(in)
		var sink Receipt
		if n := testing.AllocsPerRun(200, func() { sink, _ = Parse(b) }); n != 0 {
			t.Errorf("Parse(%q): %v allocs, want 0", in, n)
		}
		_ = sink
		loc := time.FixedZone("X", 3600)
		if n := testing.AllocsPerRun(200, func() { sink, _ = ParseIn(b, loc) }); n != 0 {
			t.Errorf("ParseIn(%q): %v allocs, want 0", in, n)
		}
	}
}

func TestAppendAllocs(t *testing.T) {
	r, err := Parse([]byte(benchCanonical))
	if err != nil {
		t.Fatal(err)
	}
	r.Text = []byte("Grüße aus Köln, long enough to be cut")
	r.Sub = 12345
	dst := make([]byte, 0, 256)
	for _, fm := range []Format{{}, {TitleText: true, Seconds: true}} {
		if n := testing.AllocsPerRun(200, func() { dst = fm.Append(dst[:0], &r) }); n != 0 {
			t.Errorf("Append(%+v): %v allocs, want 0", fm, n)
		}
	}
	if n := testing.AllocsPerRun(200, func() { dst = AppendDate(dst[:0], r.DoneDate, true) }); n != 0 {
		t.Errorf("AppendDate: %v allocs, want 0", n)
	}
}

func TestIDAllocs(t *testing.T) {
	a, b := []byte("0x33E95179"), []byte("870928761")
	dst := make([]byte, 0, 64)
	var eq bool
	if n := testing.AllocsPerRun(200, func() { eq = IDEqual(a, b) }); n != 0 || !eq {
		t.Errorf("IDEqual: %v allocs (equal %v), want 0", n, eq)
	}
	for _, base := range []IDBase{IDText, IDHex, IDDecimal} {
		if n := testing.AllocsPerRun(200, func() { dst = NormalizeID(dst[:0], b, base) }); n != 0 {
			t.Errorf("NormalizeID(base %d): %v allocs, want 0", base, n)
		}
	}
}
