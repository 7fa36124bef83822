package receipt

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
	"unicode/utf8"
)

// appendTextByByte is appendText as it was written before the indexed
// version: one append per character. The receipt text is parsed by ESMEs
// (Kannel, Net::SMPP, jasmin), so the new one must write the same bytes.
func appendTextByByte(dst []byte, t []byte) []byte {
	start := len(dst)
	for chars := 0; len(t) > 0 && chars < TextChars; chars++ {
		c := t[0]
		size := 1
		if c >= utf8.RuneSelf {
			_, size = utf8.DecodeRune(t)
			c = '?'
		}
		t = t[size:]
		switch {
		case c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			c = ' '
		case !textSafe(c):
			c = '?'
		}
		if c == ' ' && len(dst) == start {
			continue
		}
		dst = append(dst, c)
	}
	for len(dst) > start && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// randomText mixes spaces, controls, GSM-unsafe ASCII, multi-byte UTF-8
// and invalid bytes.
func randomText(r *rand.Rand) []byte {
	pieces := []string{" ", "\t", "\r\n", "a", "Z", "9", "@", "$", "_", "{", "~", "\x00", "\x7f", "é", "€", "日本", "\xff", "\xc3", "hello", "  "}
	var b []byte
	for range r.IntN(40) {
		b = append(b, pieces[r.IntN(len(pieces))]...)
	}
	return b
}

// TestAppendTextSameBytes: the indexed appendText writes what the
// per-character one did, after any prefix, over random texts.
func TestAppendTextSameBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		text := randomText(r)
		prefix := []byte("id:1 text:")[:r.IntN(11)]
		want := appendTextByByte(bytes.Clone(prefix), text)
		got := appendText(bytes.Clone(prefix), text)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d: text %q: got %q, want %q", i, text, got, want)
		}
	}
}

// TestAppendCachedSameBytes: receipts written through one DateCache, in
// any order of seconds, zones and formats, are byte for byte what Append
// writes without it.
func TestAppendCachedSameBytes(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("x", 5*3600+1800), time.FixedZone("odd", -(3*3600 + 17))}
	if l, err := time.LoadLocation("Europe/Berlin"); err == nil {
		zones = append(zones, l) // across DST changes
	}
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 3, 29, 0, 59, 58, 0, time.UTC).Unix()
	var c DateCache
	for i := range 20000 {
		date := func() time.Time {
			switch r.IntN(8) {
			case 0:
				return time.Time{}
			case 1:
				return time.Unix(r.Int64N(4<<30)-1<<30, r.Int64N(1e9)) // 1936..2072
			}
			return time.Unix(base+r.Int64N(5), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
		}
		rc := Receipt{ID: []byte("0a1b2c"), Sub: 1, Dlvrd: r.IntN(2), Stat: Stat(r.IntN(10)), ErrCode: r.IntN(1200),
			SubmitDate: date(), DoneDate: date(), Text: randomText(r)}
		f := Format{Seconds: r.IntN(2) == 0, TitleText: r.IntN(4) == 0}
		want := f.Append(nil, &rc)
		if got := f.AppendCached(nil, &rc, &c); !bytes.Equal(got, want) {
			t.Fatalf("case %d: got %q, want %q", i, got, want)
		}
	}
}

// TestAppendCachedAllocs: a warm cache writes a receipt without
// allocating.
func TestAppendCachedAllocs(t *testing.T) {
	now := time.Now()
	rc := Receipt{ID: []byte("0a1b2c"), Sub: 1, Dlvrd: 1, Stat: StatDelivered, SubmitDate: now, DoneDate: now, Text: []byte("hello")}
	var c DateCache
	dst := Format{}.AppendCached(make([]byte, 0, 256), &rc, &c)
	if n := testing.AllocsPerRun(100, func() { dst = Format{}.AppendCached(dst[:0], &rc, &c) }); n != 0 {
		t.Fatalf("AppendCached allocates %.1f times", n)
	}
}
