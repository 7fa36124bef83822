package routing

import (
	"errors"
	"testing"
	"time"
)

func mustCompile(t testing.TB, cfg Config) *Table {
	t.Helper()
	tb, err := Compile(cfg)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return tb
}

// states is a ConnectorState over a fixed set of ids; ids not listed are up.
type states struct{ down map[int]bool }

func (s *states) Up(id int) bool { return !s.down[id] }

func downIDs(t testing.TB, tb *Table, names ...string) *states {
	t.Helper()
	s := &states{down: map[int]bool{}}
	for _, n := range names {
		id, ok := tb.ConnectorID(n)
		if !ok {
			t.Fatalf("unknown connector %q", n)
		}
		s.down[id] = true
	}
	return s
}

func connName(tb *Table, d Decision) string { return tb.ConnectorNames()[d.Connector] }

func names(tb *Table, ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = tb.ConnectorNames()[id]
	}
	return out
}

// at returns a time in zone (loaded, or the test fails).
func at(t testing.TB, zone string, y int, mo time.Month, d, h, mi int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", zone, err)
	}
	return time.Date(y, mo, d, h, mi, 0, 0, loc)
}

// configErrors unpacks Compile's joined error.
func configErrors(t testing.TB, err error) []*ConfigError {
	t.Helper()
	if err == nil {
		t.Fatal("Compile succeeded, want an error")
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T is not a join", err)
	}
	var out []*ConfigError
	for _, e := range j.Unwrap() {
		var ce *ConfigError
		if !errors.As(e, &ce) {
			t.Fatalf("error %v is not a *ConfigError", e)
		}
		out = append(out, ce)
	}
	return out
}

func eqStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
