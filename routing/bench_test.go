package routing

import (
	"fmt"
	"testing"
	"time"
)

// benchConfig is 100 MT routes holding 5,000 destination prefixes (50 each,
// "00000".."04999"), a mix of user, data-coding, time and content filters,
// balancing kinds, and a default route; plus 100 MO routes the same way.
func benchConfig() Config {
	var cfg Config
	kinds := []string{"static", "roundrobin", "weighted", "failover"}
	for i := range 100 {
		rc := MTRouteConfig{Name: fmt.Sprintf("r%03d", i), Kind: kinds[i%4], Rate: 0.01}
		switch rc.Kind {
		case "static":
			rc.Connectors = []string{fmt.Sprintf("c%d", i%10)}
		case "weighted":
			rc.Connectors = []string{fmt.Sprintf("c%d", i%10), fmt.Sprintf("c%d", (i+1)%10)}
			rc.Weights = []int{3, 1}
		default:
			rc.Connectors = []string{fmt.Sprintf("c%d", i%10), fmt.Sprintf("c%d", (i+1)%10), fmt.Sprintf("c%d", (i+2)%10)}
		}
		for k := range 50 {
			rc.DestPrefixes = append(rc.DestPrefixes, fmt.Sprintf("%05d", i*50+k))
		}
		switch i % 5 {
		case 1:
			rc.Users = []string{"alice", "bob"}
		case 2:
			rc.DataCodings = []int{0, 8}
		case 3:
			rc.TimeWindow, rc.TimeZone = "00:00-24:00", "Europe/Paris"
		case 4:
			rc.ContentRegex = `(?i)\bcode\b`
		}
		cfg.MT = append(cfg.MT, rc)
		cfg.MO = append(cfg.MO, MORouteConfig{Name: rc.Name, User: "u" + rc.Name, FilterConfig: rc.FilterConfig})
		cfg.MO[i].Users = nil
	}
	cfg.MT = append(cfg.MT, MTRouteConfig{Name: "default", Kind: "default", Connectors: []string{"c0"}})
	cfg.MO = append(cfg.MO, MORouteConfig{Name: "rest", User: "ops"})
	return cfg
}

type benchUp struct{ down [16]bool }

func (b *benchUp) Up(id int) bool { return !b.down[id] }

func BenchmarkRouteMT(b *testing.B) {
	tb := mustCompile(b, benchConfig())
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	up := &benchUp{}
	cases := []struct {
		name string
		m    MT
	}{
		// Route 50 (static, no other filter) after 49 routes rejected by the trie.
		{"prefix-hit-mid", MT{User: "carol", Dest: []byte("02512345678"), Source: []byte("ACME"), Content: []byte("hello"), Now: now}},
		// Route 99 (weighted, content regex) at the end of the table.
		{"prefix-hit-last-regex", MT{User: "carol", Dest: []byte("04999123456"), Content: []byte("your code is 1"), Now: now}},
		// Route 93 (roundrobin, time window in Paris).
		{"prefix-hit-time-window", MT{User: "carol", Dest: []byte("04650123456"), Now: now}},
		// No prefix matches: falls through 100 routes to the default.
		{"miss-to-default", MT{User: "carol", Dest: []byte("99912345678"), Now: now}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			m := tc.m
			if _, ok := tb.RouteMT(&m, up); !ok {
				b.Fatal("no route")
			}
			b.ReportAllocs()
			for b.Loop() {
				tb.RouteMT(&m, up)
			}
		})
	}
}

func BenchmarkRouteMO(b *testing.B) {
	tb := mustCompile(b, benchConfig())
	m := MO{Connector: "c1", Dest: []byte("02512345678"), Source: []byte("447700900123"), Content: []byte("STOP"), Now: time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)}
	if u, _, ok := tb.RouteMO(&m); !ok || u != "ur050" {
		b.Fatalf("routed to %q", u)
	}
	b.ReportAllocs()
	for b.Loop() {
		tb.RouteMO(&m)
	}
}

func BenchmarkCompile(b *testing.B) {
	cfg := benchConfig()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
