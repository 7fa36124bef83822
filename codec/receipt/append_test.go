package receipt

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestAppendGolden(t *testing.T) {
	sub := time.Date(2025, 6, 30, 12, 15, 7, 0, time.UTC)
	done := time.Date(2025, 6, 30, 12, 16, 42, 0, time.UTC)
	r := Receipt{ID: []byte("0123456789"), Sub: 1, Dlvrd: 1, SubmitDate: sub, DoneDate: done,
		Stat: StatDelivered, Text: []byte("Hello world")}
	f := func(name string, fm Format, r Receipt, want string) {
		t.Helper()
		got := fm.Append([]byte("PRE"), &r)
		if string(got) != "PRE"+want {
			t.Errorf("%s:\n got %q\nwant %q", name, got, "PRE"+want)
		}
	}
	f("canonical", Format{}, r,
		"id:0123456789 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000 text:Hello world")
	f("Title Text", Format{TitleText: true}, r,
		"id:0123456789 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000 Text:Hello world")
	f("seconds", Format{Seconds: true}, r,
		"id:0123456789 sub:001 dlvrd:001 submit date:250630121507 done date:250630121642 stat:DELIVRD err:000 text:Hello world")

	u := r
	u.Dlvrd, u.Stat, u.ErrCode, u.Text = 0, StatUndeliverable, 34, nil
	f("undeliverable, empty text", Format{}, u,
		"id:0123456789 sub:001 dlvrd:000 submit date:2506301215 done date:2506301216 stat:UNDELIV err:034 text:")

	w := r
	w.Sub, w.Dlvrd, w.ErrCode = 1234, -5, 1001
	f("wide and negative counts", Format{}, w,
		"id:0123456789 sub:1234 dlvrd:000 submit date:2506301215 done date:2506301216 stat:DELIVRD err:1001 text:Hello world")

	for _, s := range []Stat{StatNone, StatOther, 9, 200} {
		o := r
		o.Stat, o.StatRaw = s, []byte("FAILED")
		f("stat "+s.String(), Format{}, o,
			"id:0123456789 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:UNKNOWN err:000 text:Hello world")
	}

	z := Receipt{ID: []byte("x"), Stat: StatAccepted}
	f("zero dates", Format{}, z,
		"id:x sub:000 dlvrd:000 submit date:0000000000 done date:0000000000 stat:ACCEPTD err:000 text:")
}

func TestAppendText(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got := appendText([]byte("<"), []byte(in))
		if string(got) != "<"+want {
			t.Errorf("appendText(%q) = %q, want %q", in, got[1:], want)
		}
	}
	f("", "")
	f("Short", "Short")
	f("Exactly twenty chars", "Exactly twenty chars")
	f("Your code is 123456, valid 5 min", "Your code is 123456,")
	f("Line one\nLine two\tend", "Line one Line two en")
	f("   leading and trailing   ", "leading and trail") // first 20 chars, then trimmed
	f("ends with space here x", "ends with space here")
	f("a@b$c_d`e[f\\g]h^i{j|k}l~m", "a?b?c?d?e?f?g?h?i?j?")
	f("Grüße aus Köln", "Gr??e aus K?ln")
	f("Привет мир", "?????? ???")
	f("emoji 😀 ok", "emoji ? ok")
	f("bad \xff\xfe utf8", "bad ?? utf8")
	f("nul\x00inside\x7f", "nul?inside?")
	f("      ", "")
	f("12345678901234567890123", "12345678901234567890")
	f("ponctuation: !\"#%&'()*+,-./;<=>?", "ponctuation: !\"#%&'(")
}

// TestRoundTripGenerated appends random well-formed receipts in every
// Format and checks Parse returns the same fields.
func TestRoundTripGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const idChars = "0123456789abcdefABCDEF-"
	const textChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"#%&'()*+,-./:;<=>?"
	randDate := func() time.Time {
		// Seconds are kept only by Format.Seconds; 1938..2037 is the window.
		return time.Date(1938+rng.IntN(100), time.Month(1+rng.IntN(12)), 1+rng.IntN(28),
			rng.IntN(24), rng.IntN(60), rng.IntN(60), 0, time.UTC)
	}
	buf := make([]byte, 0, 256)
	for i := 0; i < 2000; i++ {
		id := make([]byte, 1+rng.IntN(64))
		for j := range id {
			id[j] = idChars[rng.IntN(len(idChars))]
		}
		text := make([]byte, rng.IntN(30))
		for j := range text {
			text[j] = textChars[rng.IntN(len(textChars))]
		}
		in := Receipt{ID: id, Sub: rng.IntN(1000), Dlvrd: rng.IntN(1000), SubmitDate: randDate(),
			DoneDate: randDate(), Stat: Stat(1 + rng.IntN(8)), ErrCode: rng.IntN(10000), Text: text}
		fm := Format{TitleText: rng.IntN(2) == 0, Seconds: rng.IntN(2) == 0}
		buf = fm.Append(buf[:0], &in)
		out, err := Parse(buf)
		if err != nil {
			t.Fatalf("Parse(%q): %v", buf, err)
		}
		wantSub, wantDone := in.SubmitDate, in.DoneDate
		if !fm.Seconds {
			wantSub, wantDone = wantSub.Truncate(time.Minute), wantDone.Truncate(time.Minute)
		}
		wantText := strings.TrimSpace(string(text[:min(len(text), TextChars)]))
		switch {
		case string(out.ID) != string(in.ID), out.Sub != in.Sub, out.Dlvrd != in.Dlvrd,
			!out.SubmitDate.Equal(wantSub), !out.DoneDate.Equal(wantDone),
			out.Stat != in.Stat, out.ErrCode != in.ErrCode, string(out.Text) != wantText,
			out.Has != allFields, out.Bad != 0:
			t.Fatalf("round trip of %q (%+v)\n got %+v", buf, fm, out)
		}
	}
}
