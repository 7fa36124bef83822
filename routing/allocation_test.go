//go:build !race

package routing

import (
	"testing"
	"time"
)

func TestRouteAllocs(t *testing.T) {
	tb := mustCompile(t, benchConfig())
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	up := &benchUp{}
	up.down[1] = true // exercise the skip paths too
	mts := []MT{
		{User: "alice", Dest: []byte("02512345678"), Source: []byte("ACME"), Now: now},
		{User: "alice", Dest: []byte("+04999123456"), Content: []byte("your CODE is 1"), Now: now},
		{Dest: []byte("04650123456"), Now: now},
		{Dest: []byte("00100123456"), Now: now},
		{Dest: []byte("00250123456"), DataCoding: 8, Now: now},
		{Dest: []byte("99912345678"), Now: now},
	}
	for i := range mts {
		m := &mts[i]
		if _, ok := tb.RouteMT(m, up); !ok {
			t.Fatalf("MT %d: no route", i)
		}
		if n := testing.AllocsPerRun(1000, func() { tb.RouteMT(m, up) }); n != 0 {
			t.Errorf("RouteMT %q: %v allocs", m.Dest, n)
		}
		if n := testing.AllocsPerRun(1000, func() { tb.RouteMT(m, nil) }); n != 0 {
			t.Errorf("RouteMT %q with nil state: %v allocs", m.Dest, n)
		}
	}
	mo := &MO{Connector: "c1", Dest: []byte("04999123456"), Source: []byte("447700900123"), Content: []byte("code"), Now: now}
	if _, _, ok := tb.RouteMO(mo); !ok {
		t.Fatal("MO: no route")
	}
	if n := testing.AllocsPerRun(1000, func() { tb.RouteMO(mo) }); n != 0 {
		t.Errorf("RouteMO: %v allocs", n)
	}
	// Source sets and regexes, which the bench table lacks.
	tb = mustCompile(t, Config{MT: []MTRouteConfig{
		st("src", "c", FilterConfig{SourceAddrs: []string{"ACME", `re:^44\d+$`}, DestRegex: `^44`}),
		st("days", "c", FilterConfig{Days: "mon-fri", DateWindow: "2026-01-01/2026-12-31", TimeWindow: "22:00-06:00", TimeZone: "America/New_York"}),
	}})
	for _, m := range []*MT{
		{Source: []byte("4477"), Dest: []byte("4478"), Now: now},
		{Source: []byte("ACME"), Dest: []byte("4478"), Now: now},
		{Source: []byte("ZZZ"), Dest: []byte("4478"), Now: now.Add(-5 * time.Hour)},
	} {
		if n := testing.AllocsPerRun(1000, func() { tb.RouteMT(m, nil) }); n != 0 {
			t.Errorf("RouteMT %q: %v allocs", m.Source, n)
		}
	}
}
