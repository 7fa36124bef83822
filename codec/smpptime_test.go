package codec

import (
	"errors"
	"testing"
	"time"
)

func TestParseTimeAbsolute(t *testing.T) {
	f := func(in string, want time.Time) {
		t.Helper()
		got, err := ParseTime([]byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got.Kind != TimeAbsolute || !got.At.Equal(want) {
			t.Fatalf("%q: got %v %v, want %v", in, got.Kind, got.At, want)
		}
		if got.Resolve(time.Unix(0, 0)) != got.At {
			t.Fatalf("%q: Resolve changed an absolute time", in)
		}
	}
	// nn = 04 and p = '+' (SMPP 3.4 §7.1.1): 23:59:59 local at UTC+01:00
	// is 22:59:59 UTC.
	f("251231235959004+", time.Date(2025, 12, 31, 22, 59, 59, 0, time.UTC))
	f("251231235959004-", time.Date(2026, 1, 1, 0, 59, 59, 0, time.UTC))
	f("250102030405600+", time.Date(2025, 1, 2, 3, 4, 5, 600_000_000, time.UTC))
	f("250630121500048+", time.Date(2025, 6, 30, 0, 15, 0, 0, time.UTC)) // +12:00
	f("380101000000000+", time.Date(1938, 1, 1, 0, 0, 0, 0, time.UTC))   // Appendix C pivot
	f("371231235959900+", time.Date(2037, 12, 31, 23, 59, 59, 9e8, time.UTC))
	f("240229000000000+", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) // leap day
	f("000229000000000+", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)) // 2000 is a leap year
	f("250630121500", time.Date(2025, 6, 30, 12, 15, 0, 0, time.UTC))   // 12-character final_date form
}

func TestParseTimeRelative(t *testing.T) {
	got, err := ParseTime([]byte("020610233429000R"))
	if err != nil {
		t.Fatal(err)
	}
	want := Time{Kind: TimeRelative, Years: 2, Months: 6, Days: 10, Hours: 23, Minutes: 34, Secs: 29}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	now := time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC)
	if r := got.Resolve(now); !r.Equal(time.Date(2027, 8, 11, 11, 34, 29, 0, time.UTC)) {
		t.Fatalf("resolve: %v", r)
	}
	day, _ := ParseTime([]byte("000001000000000R"))
	if r := day.Resolve(now); !r.Equal(now.Add(24 * time.Hour)) {
		t.Fatalf("one day: %v", r)
	}
	// Counts beyond calendar ranges are fine for an offset; t and nn are ignored.
	odd, err := ParseTime([]byte("009999999999912R"))
	if err != nil || odd.Months != 99 || odd.Days != 99 || odd.Hours != 99 || odd.Secs != 99 {
		t.Fatalf("odd relative: %+v %v", odd, err)
	}
}

func TestParseTimeNotSet(t *testing.T) {
	got, err := ParseTime(nil)
	if err != nil || got.Kind != TimeNotSet {
		t.Fatalf("empty: %+v %v", got, err)
	}
	if !got.Resolve(time.Now()).IsZero() {
		t.Fatal("not-set resolves to a time")
	}
}

func TestParseTimeErrors(t *testing.T) {
	f := func(in string, want error) {
		t.Helper()
		if _, err := ParseTime([]byte(in)); !errors.Is(err, want) {
			t.Fatalf("%q: got %v, want %v", in, err, want)
		}
	}
	f("2512312359590", ErrTimeSyntax)     // 13 characters
	f("25123123595900+", ErrTimeSyntax)   // 15 characters
	f("2512312359590040+", ErrTimeSyntax) // 17 characters
	f("25123123595900x+", ErrTimeSyntax)  // nn not a digit
	f("2512312359a9004+", ErrTimeSyntax)  // ss not a digit
	f("251231235959004X", ErrTimeSyntax)  // bad p
	f("251231235959004 ", ErrTimeSyntax)
	f("25123123595900R ", ErrTimeSyntax)
	f("251331235959004+", ErrTimeRange) // month 13
	f("250001000000000+", ErrTimeRange) // month 0
	f("250100000000000+", ErrTimeRange) // day 0
	f("250230000000000+", ErrTimeRange) // 30 February
	f("250229000000000+", ErrTimeRange) // 2025 is not a leap year
	f("250431000000000+", ErrTimeRange) // 31 April
	f("250101240000000+", ErrTimeRange) // hour 24
	f("250101006000000+", ErrTimeRange) // minute 60
	f("250101000060000+", ErrTimeRange) // second 60
	f("250101000000049+", ErrTimeRange) // offset beyond 12 hours
	f("251301000000", ErrTimeRange)     // short form, month 13
}

func TestAppendAbsoluteTime(t *testing.T) {
	f := func(in time.Time, want string) {
		t.Helper()
		prefix := []byte("x")
		got := AppendAbsoluteTime(prefix, in)
		if string(got) != "x"+want {
			t.Fatalf("%v: got %q, want %q", in, got[1:], want)
		}
		back, err := ParseTime(got[1:])
		if err != nil || !back.At.Equal(in.Truncate(100*time.Millisecond)) {
			t.Fatalf("%v: round trip %v %v", in, back.At, err)
		}
	}
	f(time.Date(2025, 6, 30, 12, 15, 7, 340_000_000, time.UTC), "250630121507300+")
	f(time.Date(2025, 12, 31, 23, 59, 59, 0, time.FixedZone("CET", 3600)), "251231235959004+")
	f(time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("NST", -(3*3600+30*60))), "250101000000014-")
	// An offset that is not whole quarter hours is written in UTC.
	f(time.Date(2025, 1, 1, 0, 10, 0, 0, time.FixedZone("odd", 10*60)), "250101000000000+")
	f(time.Date(1999, 3, 4, 5, 6, 7, 0, time.UTC), "990304050607000+")
}

func TestAppendRelativeTime(t *testing.T) {
	f := func(d time.Duration, want string) {
		t.Helper()
		got := AppendRelativeTime(nil, d)
		if string(got) != want {
			t.Fatalf("%v: got %q, want %q", d, got, want)
		}
		back, err := ParseTime(got)
		if err != nil || back.Kind != TimeRelative {
			t.Fatalf("%v: parse back: %+v %v", d, back, err)
		}
	}
	f(48*time.Hour, "000002000000000R")
	f(90*time.Minute+5*time.Second, "000000013005000R")
	f(-time.Second, "000000000000000R")
	f(1000*24*time.Hour, "000099235959000R")
}

func TestTimeAllocs(t *testing.T) {
	if codecRace {
		t.Skip("allocation counts differ under -race")
	}
	in := []byte("251231235959004+")
	buf := make([]byte, 0, 32)
	now := time.Now()
	n := testing.AllocsPerRun(100, func() {
		tm, _ := ParseTime(in)
		_ = tm.Resolve(now)
		buf = AppendAbsoluteTime(buf[:0], tm.At)
		buf = AppendRelativeTime(buf[:0], time.Hour)
	})
	if n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"", "251231235959004+", "020610233429000R", "250630121500", "251331235959004+"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, err := ParseTime(b)
		if err != nil {
			return
		}
		if tm.Kind == TimeAbsolute {
			out := AppendAbsoluteTime(nil, tm.At)
			back, err := ParseTime(out)
			if err != nil || !back.At.Equal(tm.At.Truncate(100*time.Millisecond)) {
				t.Fatalf("%q -> %q -> %v %v", b, out, back.At, err)
			}
		}
	})
}
