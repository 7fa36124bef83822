package receipt

import (
	"errors"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	ok := func(in string, want time.Time) {
		t.Helper()
		got, err := ParseDate([]byte(in), nil)
		if err != nil || !got.Equal(want) || got.Location() != want.Location() {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := func(in string, want error) {
		t.Helper()
		got, err := ParseDate([]byte(in), nil)
		if !errors.Is(err, want) || !got.IsZero() {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	utc := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	ok("2506301215", utc(2025, 6, 30, 12, 15, 0))
	ok("250630121559", utc(2025, 6, 30, 12, 15, 59))
	ok("0001010000", utc(2000, 1, 1, 0, 0, 0))
	ok("3712312359", utc(2037, 12, 31, 23, 59, 0)) // last year before the pivot
	ok("3801010000", utc(1938, 1, 1, 0, 0, 0))     // spec Appendix C
	ok("2402291200", utc(2024, 2, 29, 12, 0, 0))
	ok("0002291200", utc(2000, 2, 29, 12, 0, 0)) // 2000 is a leap year
	ok("0000000000", time.Time{})
	ok("000000000000", time.Time{})

	bad("", ErrDateLength)
	bad("250630121", ErrDateLength)
	bad("25063012155", ErrDateLength)
	bad("20250630121559", ErrDateLength)
	bad("25O6301215", ErrDateSyntax)
	bad("2506-01215", ErrDateSyntax)
	bad("2500301215", ErrDateRange)
	bad("2513301215", ErrDateRange)
	bad("2506001215", ErrDateRange)
	bad("2506311215", ErrDateRange)
	bad("2302291200", ErrDateRange)
	bad("2506302400", ErrDateRange)
	bad("2506301260", ErrDateRange)
	bad("250630121560", ErrDateRange)
}

func TestAppendDate(t *testing.T) {
	f := func(tm time.Time, seconds bool, want string) {
		t.Helper()
		prefix := []byte("keep")
		got := AppendDate(prefix, tm, seconds)
		if string(got) != "keep"+want {
			t.Errorf("AppendDate(%v, %v) = %q, want %q", tm, seconds, got, "keep"+want)
		}
	}
	tm := time.Date(2025, 6, 30, 12, 15, 59, 999, time.UTC)
	f(tm, false, "2506301215")
	f(tm, true, "250630121559")
	f(time.Time{}, false, "0000000000")
	f(time.Time{}, true, "000000000000")
	f(time.Date(1999, 12, 31, 23, 59, 0, 0, time.UTC), false, "9912312359")
	f(time.Date(2105, 1, 2, 3, 4, 5, 0, time.UTC), true, "050102030405")
	f(time.Date(-1, 1, 2, 3, 4, 5, 0, time.UTC), false, "9901020304")
	// The wall clock of t's own location is written.
	f(tm.In(time.FixedZone("UTC+2", 2*3600)), false, "2506301415")
}
