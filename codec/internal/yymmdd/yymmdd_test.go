package yymmdd

import (
	"testing"
	"time"
)

func TestYear(t *testing.T) {
	for _, c := range []struct{ yy, want int }{{0, 2000}, {25, 2025}, {37, 2037}, {38, 1938}, {99, 1999}} {
		if got := Year(c.yy); got != c.want {
			t.Errorf("Year(%d) = %d, want %d", c.yy, got, c.want)
		}
	}
}

func TestValid(t *testing.T) {
	for _, c := range []struct {
		year, mo, dd, hh, mi, ss int
		want                     bool
	}{
		{2025, 6, 30, 12, 15, 59, true},
		{2024, 2, 29, 0, 0, 0, true},
		{2000, 2, 29, 0, 0, 0, true}, // divisible by 400
		{1900, 2, 29, 0, 0, 0, false},
		{2025, 2, 29, 0, 0, 0, false},
		{2025, 4, 31, 0, 0, 0, false},
		{2025, 12, 31, 23, 59, 59, true},
		{2025, 0, 1, 0, 0, 0, false},
		{2025, 13, 1, 0, 0, 0, false},
		{2025, 1, 0, 0, 0, 0, false},
		{2025, 1, 1, 24, 0, 0, false},
		{2025, 1, 1, 0, 60, 0, false},
		{2025, 1, 1, 0, 0, 60, false},
	} {
		if got := Valid(c.year, c.mo, c.dd, c.hh, c.mi, c.ss); got != c.want {
			t.Errorf("Valid(%d-%02d-%02d %02d:%02d:%02d) = %v", c.year, c.mo, c.dd, c.hh, c.mi, c.ss, got)
		}
	}
}

func TestDigits(t *testing.T) {
	for v := 0; v < 100; v++ {
		if got := Digits(AppendDigits(nil, v)); got != v {
			t.Fatalf("Digits(AppendDigits(%d)) = %d", v, got)
		}
	}
}

func TestAppendDateTime(t *testing.T) {
	at := time.Date(2025, 6, 30, 12, 15, 59, 0, time.UTC)
	if got := string(AppendDateTime([]byte("x"), at, false)); got != "x2506301215" {
		t.Errorf("without seconds: %q", got)
	}
	if got := string(AppendDateTime(nil, at, true)); got != "250630121559" {
		t.Errorf("with seconds: %q", got)
	}
	// A year before 0 keeps a two-digit year in 00-99.
	if got := string(AppendDateTime(nil, time.Date(-1, 1, 2, 3, 4, 5, 0, time.UTC), true)); got != "990102030405" {
		t.Errorf("year -1: %q", got)
	}
	buf := make([]byte, 0, 12)
	if a := testing.AllocsPerRun(100, func() { buf = AppendDateTime(buf[:0], at, true) }); a != 0 {
		t.Errorf("AppendDateTime allocates %.0f times", a)
	}
}
