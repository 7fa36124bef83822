package cdr

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

func TestAppendStringIsJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote\back`, "tab\tnl\ncr\r", "\x00\x01\x1f", "ünï €", "bad \xff\xfe utf8", "\u2028"} {
		out := appendString([]byte{'"'}, s, utf8.DecodeRuneInString) // the key opens the string
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q -> %s: not JSON: %v", s, out, err)
		}
		want := string([]rune(s)) // invalid UTF-8 becomes U+FFFD, as json does
		if back != want {
			t.Fatalf("%q -> %s -> %q, want %q", s, out, back, want)
		}
	}
}

func TestAppendAmountIsExact(t *testing.T) {
	cases := map[int64]string{0: "0", 1: "0.000001", 50_000: "0.05", 1_000_000: "1", 12_345_678: "12.345678", -1_500_000: "-1.5"}
	for micros, want := range cases {
		if got := string(appendAmount(nil, micros)); got != want {
			t.Errorf("appendAmount(%d) = %s, want %s", micros, got, want)
		}
	}
}

func TestTextHexForBinaryCodings(t *testing.T) {
	rec := storage.Record{ID: 1, DataCoding: 4, State: msg.StateEnroute}
	rec.SetAddrs([]byte("a"), []byte("b"), []byte{0x00, 0xff, 0x10})
	var enc encoder
	out := enc.appendView(nil, &view{rec: &rec, state: rec.State})
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m["text_hex"] != "00ff10" || m["text"] != nil {
		t.Fatalf("binary text: %s", out)
	}
	rec.DataCoding = 8 // UCS2
	rec.SetAddrs([]byte("a"), []byte("b"), []byte{0x04, 0x1f, 0x04, 0x40})
	out = enc.appendView(nil, &view{rec: &rec, state: rec.State})
	if err := json.Unmarshal(out, &m); err != nil || m["text"] != "Пр" {
		t.Fatalf("UCS2 text: %s", out)
	}
}

func TestEncodeDoesNotAllocateWhenWarm(t *testing.T) {
	rec := storage.Record{ID: 1, SystemID: "alice", State: msg.StateDelivered, Submitted: 1, Done: 2, Connector: 0}
	rec.SetAddrs([]byte("ACME"), []byte("4917000001"), []byte("hello"))
	enc := encoder{connectors: []string{"sim"}}
	buf := make([]byte, 0, 1024)
	v := view{rec: &rec, state: rec.State, done: 2, cdr: true}
	buf = enc.appendView(buf[:0], &v)
	if n := testing.AllocsPerRun(100, func() { buf = enc.appendView(buf[:0], &v) }); n != 0 {
		t.Fatalf("appendView allocates %v times", n)
	}
}

// appendUTCMilli writes what time.AppendFormat with timeLayout writes:
// around the epoch, leap days and centuries, the ends of the years it
// formats itself, and random instants.
func TestAppendUTCMilli(t *testing.T) {
	day := int64(24 * time.Hour)
	ns := []int64{0, 1, -1, 999_999, 1_000_000, -1_000_000, day - 1, day, -day, -day - 1,
		time.Date(2000, 2, 29, 23, 59, 59, 999_999_999, time.UTC).UnixNano(),
		time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano(),
		time.Date(1900, 2, 28, 12, 0, 0, 0, time.UTC).UnixNano(),
		time.Date(2026, 12, 31, 23, 59, 59, 999_000_000, time.UTC).UnixNano(),
		math.MinInt64, math.MaxInt64}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		ns = append(ns, rng.Int64())
	}
	for _, v := range ns {
		want := time.Unix(0, v).UTC().AppendFormat(nil, timeLayout)
		if got := appendUTCMilli(nil, v); string(got) != string(want) {
			t.Fatalf("%d: %s, want %s", v, got, want)
		}
	}
}

// A field's cached millisecond and second write what appendUTCMilli
// writes, whether the next time is in the same millisecond, the same
// second, the next one, earlier or before the epoch (not cached).
func TestAppendTimeCached(t *testing.T) {
	base := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).UnixNano()
	ns := []int64{base, base + 1, base + 999_999_999, base + int64(time.Second), base + 123_456_789,
		base - 1, 0, 999_999_999, -1, -int64(time.Second), base, math.MinInt64, math.MaxInt64, base + 7,
		5, -5, 5, 999_999, -999_999, 1_000_000, base + 999_999, base + 1_000_000, base + 1_000_001}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100_000 {
		near := base + rng.Int64N(int64(3*time.Millisecond)) // and the next: most often the same millisecond
		ns = append(ns, base+rng.Int64N(int64(3*time.Second)), rng.Int64(), near, near+rng.Int64N(200_000),
			-rng.Int64N(int64(3*time.Millisecond)))
	}
	var c timeText
	for _, v := range ns {
		want := `,"t":"` + string(appendUTCMilli(nil, v)) + `"`
		if got := appendTime(nil, `,"t":"`, v, &c); string(got) != want {
			t.Fatalf("%d: %s, want %s", v, got, want)
		}
	}
}
