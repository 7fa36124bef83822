package routing

import "testing"

// routeName routes m and returns the matched route's name ("" = none).
func routeName(tb *Table, m *MT) string {
	d, ok := tb.RouteMT(m, nil)
	if !ok {
		return ""
	}
	return d.Route.Name
}

func TestFilters(t *testing.T) {
	noon := at(t, "UTC", 2026, 3, 4, 12, 0) // a Wednesday
	cases := []struct {
		name string
		f    FilterConfig
		m    MT
		want bool
	}{
		{"users hit", FilterConfig{Users: []string{"alice", "bob"}}, MT{User: "bob"}, true},
		{"users miss", FilterConfig{Users: []string{"alice"}}, MT{User: "bob"}, false},
		{"groups hit", FilterConfig{Groups: []string{"gold"}}, MT{User: "x", Group: "gold"}, true},
		{"groups miss", FilterConfig{Groups: []string{"gold"}}, MT{User: "x", Group: ""}, false},
		{"source exact", FilterConfig{SourceAddrs: []string{"ACME", "12345"}}, MT{Source: []byte("12345")}, true},
		{"source exact is whole", FilterConfig{SourceAddrs: []string{"ACME"}}, MT{Source: []byte("ACMEX")}, false},
		{"source regex", FilterConfig{SourceAddrs: []string{"ACME", `re:^44\d{10}$`}}, MT{Source: []byte("447700900123")}, true},
		{"source regex miss", FilterConfig{SourceAddrs: []string{`re:^44\d{10}$`}}, MT{Source: []byte("4477009001234")}, false},
		{"source regex unanchored", FilterConfig{SourceAddrs: []string{`re:BANK`}}, MT{Source: []byte("MYBANK")}, true},
		{"prefix hit", FilterConfig{DestPrefixes: []string{"336", "337"}}, MT{Dest: []byte("33612345678")}, true},
		{"prefix miss", FilterConfig{DestPrefixes: []string{"336", "337"}}, MT{Dest: []byte("33512345678")}, false},
		{"prefix plus on address", FilterConfig{DestPrefixes: []string{"336"}}, MT{Dest: []byte("+33612345678")}, true},
		{"prefix plus on prefix", FilterConfig{DestPrefixes: []string{"+336"}}, MT{Dest: []byte("33612345678")}, true},
		{"prefix longer than address", FilterConfig{DestPrefixes: []string{"3361234"}}, MT{Dest: []byte("336")}, false},
		{"prefix equals address", FilterConfig{DestPrefixes: []string{"336"}}, MT{Dest: []byte("336")}, true},
		{"prefix empty address", FilterConfig{DestPrefixes: []string{"336"}}, MT{Dest: nil}, false},
		{"prefix alphanumeric", FilterConfig{DestPrefixes: []string{"SHORT#"}}, MT{Dest: []byte("SHORT#1")}, true},
		{"dest regex", FilterConfig{DestRegex: `^49(15|16|17)`}, MT{Dest: []byte("491701234567")}, true},
		{"dest regex miss", FilterConfig{DestRegex: `^49(15|16|17)`}, MT{Dest: []byte("491801234567")}, false},
		{"prefix and regex both needed", FilterConfig{DestPrefixes: []string{"49"}, DestRegex: `7$`}, MT{Dest: []byte("491701234566")}, false},
		{"content regex", FilterConfig{ContentRegex: `(?i)your code is \d+`}, MT{Content: []byte("Your code is 1234")}, true},
		{"content regex miss", FilterConfig{ContentRegex: `^PROMO`}, MT{Content: []byte("hello")}, false},
		{"data coding hit", FilterConfig{DataCodings: []int{0, 8}}, MT{DataCoding: 8}, true},
		{"data coding high bit", FilterConfig{DataCodings: []int{0xF5}}, MT{DataCoding: 0xF5}, true},
		{"data coding miss", FilterConfig{DataCodings: []int{0, 8}}, MT{DataCoding: 3}, false},
		{"time window hit", FilterConfig{TimeWindow: "08:00-20:00", TimeZone: "UTC"}, MT{Now: noon}, true},
		{"time window miss", FilterConfig{TimeWindow: "13:00-20:00", TimeZone: "UTC"}, MT{Now: noon}, false},
		{"days hit", FilterConfig{Days: "mon-fri", TimeZone: "UTC"}, MT{Now: noon}, true},
		{"days miss", FilterConfig{Days: "sat,sun", TimeZone: "UTC"}, MT{Now: noon}, false},
		{"date hit", FilterConfig{DateWindow: "2026-03-01/2026-03-31", TimeZone: "UTC"}, MT{Now: noon}, true},
		{"date miss", FilterConfig{DateWindow: "2026-04-01/2026-04-30", TimeZone: "UTC"}, MT{Now: noon}, false},
		{"all ANDed hit", FilterConfig{Users: []string{"u"}, DestPrefixes: []string{"1"}, DataCodings: []int{0}, ContentRegex: "x"},
			MT{User: "u", Dest: []byte("100"), Content: []byte("x")}, true},
		{"all ANDed one miss", FilterConfig{Users: []string{"u"}, DestPrefixes: []string{"1"}, DataCodings: []int{0}, ContentRegex: "x"},
			MT{User: "u", Dest: []byte("100"), Content: []byte("y")}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tb := mustCompile(t, Config{MT: []MTRouteConfig{st("r", "c", tc.f)}})
			if got := routeName(tb, &tc.m) == "r"; got != tc.want {
				t.Errorf("matched %v, want %v (explain %+v)", got, tc.want, tb.ExplainMT(&tc.m))
			}
		})
	}
}

func TestFirstMatchWins(t *testing.T) {
	tb := mustCompile(t, Config{MT: []MTRouteConfig{
		st("vip-fr", "premium", FilterConfig{Users: []string{"vip"}, DestPrefixes: []string{"33"}}),
		st("fr-mobile", "orange", FilterConfig{DestPrefixes: []string{"336", "337"}}),
		st("fr", "sfr", FilterConfig{DestPrefixes: []string{"33"}}),
		st("otp", "fast", FilterConfig{ContentRegex: "code"}),
		def("cheap"),
	}})
	cases := []struct {
		m         MT
		route     string
		connector string
	}{
		{MT{User: "vip", Dest: []byte("33612")}, "vip-fr", "premium"},
		{MT{User: "joe", Dest: []byte("33612")}, "fr-mobile", "orange"},
		{MT{User: "joe", Dest: []byte("33112")}, "fr", "sfr"},
		{MT{User: "joe", Dest: []byte("44112"), Content: []byte("your code")}, "otp", "fast"},
		{MT{User: "joe", Dest: []byte("33612"), Content: []byte("your code")}, "fr-mobile", "orange"},
		{MT{User: "joe", Dest: []byte("44112")}, "default", "cheap"},
	}
	for _, tc := range cases {
		d, ok := tb.RouteMT(&tc.m, nil)
		if !ok || d.Route.Name != tc.route || connName(tb, d) != tc.connector || d.Reason != ReasonRouted {
			t.Errorf("%s/%s: got ok=%v %+v, want %s via %s", tc.m.User, tc.m.Dest, ok, d, tc.route, tc.connector)
		}
	}
}

func TestNoMatch(t *testing.T) {
	tb := mustCompile(t, Config{MT: []MTRouteConfig{st("fr", "c", fr)}})
	d, ok := tb.RouteMT(&MT{Dest: []byte("44")}, nil)
	if ok || d.Reason != ReasonNoMatch || d.Route != nil {
		t.Errorf("got %+v, %v", d, ok)
	}
}

// TestPrefixManyRoutes checks the shared trie against a brute-force scan on
// overlapping prefixes spread over many routes.
func TestPrefixManyRoutes(t *testing.T) {
	var routes []MTRouteConfig
	prefixes := [][]string{
		{"1", "44"}, {"447"}, {"4477", "33"}, {"9"}, {"44"}, {"4478", "336", "1"}, {"A"}, {"+49"}, {"49151"},
	}
	for i, p := range prefixes {
		routes = append(routes, st("r"+string(rune('a'+i)), "c", FilterConfig{DestPrefixes: p, DataCodings: []int{i}}))
	}
	tb := mustCompile(t, Config{MT: routes})
	dests := []string{"", "1", "12", "4", "44", "447", "4477", "44771", "4478", "3361", "33", "3", "A1", "+4915", "491512", "9", "0"}
	for _, d := range dests {
		for i := range prefixes {
			want := false
			for _, p := range prefixes[i] {
				dd, pp := trimPlus(d), trimPlus(p)
				if len(dd) >= len(pp) && dd[:len(pp)] == pp {
					want = true
				}
			}
			m := MT{Dest: []byte(d), DataCoding: byte(i)} // data coding selects route i alone
			got := routeName(tb, &m) == routes[i].Name
			if got != want {
				t.Errorf("dest %q route %d %v: got %v want %v", d, i, prefixes[i], got, want)
			}
		}
	}
}

func trimPlus(s string) string {
	if len(s) > 0 && s[0] == '+' {
		return s[1:]
	}
	return s
}

func TestExplain(t *testing.T) {
	tb := mustCompile(t, Config{MT: []MTRouteConfig{
		st("a", "c", FilterConfig{Users: []string{"alice"}}),
		st("b", "c", FilterConfig{DestPrefixes: []string{"33"}, ContentRegex: "^x"}),
		st("c", "c", FilterConfig{DestPrefixes: []string{"33"}}),
		def("c"),
	}})
	got := tb.ExplainMT(&MT{User: "bob", Dest: []byte("331"), Content: []byte("y")})
	want := []Verdict{{"a", 0, FieldUsers}, {"b", 1, FieldContentRegex}, {"c", 2, FieldNone}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("verdict %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRouteMO(t *testing.T) {
	tb := mustCompile(t, Config{MO: []MORouteConfig{
		{Name: "keyword", User: "promo", FilterConfig: FilterConfig{ContentRegex: `(?i)^stop\b`}},
		{Name: "from-orange", User: "orange-app", FilterConfig: FilterConfig{FromConnectors: []string{"orange1"}, DestPrefixes: []string{"3620"}}},
		{Name: "short", User: "shortcode", FilterConfig: FilterConfig{DestPrefixes: []string{"3620", "3621"}, DataCodings: []int{0}}},
		{Name: "src", User: "bank", FilterConfig: FilterConfig{SourceAddrs: []string{"re:^44"}, DestRegex: "^99"}},
		{Name: "night", User: "night", FilterConfig: FilterConfig{TimeWindow: "22:00-06:00", TimeZone: "UTC"}},
		{Name: "catch-all", User: "ops"},
	}})
	day := at(t, "UTC", 2026, 3, 4, 12, 0)
	night := at(t, "UTC", 2026, 3, 4, 23, 0)
	cases := []struct {
		m    MO
		want string
	}{
		{MO{Content: []byte("STOP all"), Now: day}, "promo"},
		{MO{Connector: "orange1", Dest: []byte("36201"), DataCoding: 0, Now: day}, "orange-app"},
		{MO{Connector: "sfr", Dest: []byte("36201"), DataCoding: 0, Now: day}, "shortcode"},
		{MO{Connector: "sfr", Dest: []byte("36211"), DataCoding: 8, Now: day}, "ops"},
		{MO{Source: []byte("4477"), Dest: []byte("9912"), Now: day}, "bank"},
		{MO{Source: []byte("3377"), Dest: []byte("9912"), Now: night}, "night"},
		{MO{Source: []byte("3377"), Dest: []byte("9912"), Now: day}, "ops"},
	}
	for _, tc := range cases {
		user, r, ok := tb.RouteMO(&tc.m)
		if !ok || user != tc.want || r.User != user {
			t.Errorf("%+v: got %q %v, want %q (explain %+v)", tc.m, user, ok, tc.want, tb.ExplainMO(&tc.m))
		}
	}
	tb = mustCompile(t, Config{MO: []MORouteConfig{{Name: "x", User: "u", FilterConfig: fr}}})
	if u, r, ok := tb.RouteMO(&MO{Dest: []byte("44")}); ok || u != "" || r != nil {
		t.Errorf("unmatched MO routed to %q", u)
	}
	if v := tb.ExplainMO(&MO{Dest: []byte("44")}); len(v) != 1 || v[0].Failed != FieldDestPrefixes {
		t.Errorf("ExplainMO %+v", v)
	}
}
