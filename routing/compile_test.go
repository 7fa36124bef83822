package routing

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func st(name, conn string, f FilterConfig) MTRouteConfig {
	return MTRouteConfig{Name: name, Kind: "static", Connectors: []string{conn}, FilterConfig: f}
}

func def(conn string) MTRouteConfig {
	return MTRouteConfig{Name: "default", Kind: "default", Connectors: []string{conn}}
}

var fr = FilterConfig{DestPrefixes: []string{"33"}}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		key  string
		err  error
		text string // substring of the message
	}{
		{"unknown kind", Config{MT: []MTRouteConfig{{Name: "a", Kind: "random", Connectors: []string{"c"}, FilterConfig: fr}}},
			"mt_route[0].kind", ErrUnknownKind, `got "random"`},
		{"default not last", Config{MT: []MTRouteConfig{def("c"), st("b", "c", fr)}},
			"mt_route[0].kind", ErrDefaultNotLast, "mt_route[0] of 2"},
		{"default with filters", Config{MT: []MTRouteConfig{{Name: "d", Kind: "default", Connectors: []string{"c"}, FilterConfig: fr}}},
			"mt_route[0].kind", ErrDefaultFilters, ""},
		{"filterless route not last", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{}), st("b", "c", fr)}},
			"mt_route[0]", ErrUnreachable, ""},
		{"empty connectors", Config{MT: []MTRouteConfig{{Name: "a", Kind: "failover", FilterConfig: fr}}},
			"mt_route[0].connectors", ErrConnectorCount, "at least one"},
		{"static with two", Config{MT: []MTRouteConfig{{Name: "a", Kind: "static", Connectors: []string{"x", "y"}, FilterConfig: fr}}},
			"mt_route[0].connectors", ErrConnectorCount, "exactly one"},
		{"duplicate connector", Config{MT: []MTRouteConfig{{Name: "a", Kind: "roundrobin", Connectors: []string{"x", "x"}, FilterConfig: fr}}},
			"mt_route[0].connectors", ErrConnectorName, "listed twice"},
		{"unknown connector", Config{Connectors: []string{"x"}, MT: []MTRouteConfig{st("a", "y", fr)}},
			"mt_route[0].connectors", ErrUnknownConnector, `"y"`},
		{"bad dest regex", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{DestRegex: "^(33"})}},
			"mt_route[0].dest_regex", ErrRegex, "missing closing )"},
		{"bad content regex", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{ContentRegex: "[a-"})}},
			"mt_route[0].content_regex", ErrRegex, ""},
		{"bad source regex", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{SourceAddrs: []string{"re:*x"}})}},
			"mt_route[0].source_addrs", ErrRegex, ""},
		{"weights length mismatch", Config{MT: []MTRouteConfig{{Name: "a", Kind: "weighted", Connectors: []string{"x", "y"}, Weights: []int{1}, FilterConfig: fr}}},
			"mt_route[0].weights", ErrWeights, "2 connectors, 1 weights"},
		{"weights missing", Config{MT: []MTRouteConfig{{Name: "a", Kind: "weighted", Connectors: []string{"x", "y"}, FilterConfig: fr}}},
			"mt_route[0].weights", ErrWeights, ""},
		{"zero weight", Config{MT: []MTRouteConfig{{Name: "a", Kind: "weighted", Connectors: []string{"x", "y"}, Weights: []int{0, 1}, FilterConfig: fr}}},
			"mt_route[0].weights", ErrWeights, "1..10000"},
		{"weights on failover", Config{MT: []MTRouteConfig{{Name: "a", Kind: "failover", Connectors: []string{"x", "y"}, Weights: []int{1, 1}, FilterConfig: fr}}},
			"mt_route[0].weights", ErrWeights, "only for kind"},
		{"negative rate", Config{MT: []MTRouteConfig{{Name: "a", Kind: "static", Connectors: []string{"x"}, Rate: -1, FilterConfig: fr}}},
			"mt_route[0].rate", ErrRate, ""},
		{"NaN rate", Config{MT: []MTRouteConfig{{Name: "a", Kind: "static", Connectors: []string{"x"}, Rate: math.NaN(), FilterConfig: fr}}},
			"mt_route[0].rate", ErrRate, ""},
		{"missing name", Config{MT: []MTRouteConfig{st("", "c", fr)}},
			"mt_route[0].name", ErrName, ""},
		{"bad name", Config{MT: []MTRouteConfig{st("a b", "c", fr)}},
			"mt_route[0].name", ErrName, ""},
		{"duplicate name", Config{MT: []MTRouteConfig{st("a", "c", fr), st("a", "c", FilterConfig{Users: []string{"u"}})}},
			"mt_route[1].name", ErrDuplicateName, "mt_route[0]"},
		{"data coding range", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{DataCodings: []int{256}})}},
			"mt_route[0].data_codings", ErrDataCoding, "256"},
		{"empty prefix", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{DestPrefixes: []string{"+"}})}},
			"mt_route[0].dest_prefixes", ErrAddress, ""},
		{"prefix with space", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{DestPrefixes: []string{"33 6"}})}},
			"mt_route[0].dest_prefixes", ErrAddress, ""},
		{"empty exact source", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{SourceAddrs: []string{""}})}},
			"mt_route[0].source_addrs", ErrAddress, ""},
		{"from_connectors on MT", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{FromConnectors: []string{"x"}})}},
			"mt_route[0].from_connectors", ErrNotForMT, ""},
		{"unknown user in users", Config{Users: []string{"alice"}, MT: []MTRouteConfig{st("a", "c", FilterConfig{Users: []string{"bob"}})}},
			"mt_route[0].users", ErrUser, `"bob"`},
		{"unknown group", Config{Groups: []string{"g1"}, MT: []MTRouteConfig{st("a", "c", FilterConfig{Groups: []string{"g2"}})}},
			"mt_route[0].groups", ErrGroup, ""},
		{"bad time window", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{TimeWindow: "8-20"})}},
			"mt_route[0].time_window", ErrTimeWindow, "HH:MM"},
		{"empty time window", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{TimeWindow: "08:00-08:00"})}},
			"mt_route[0].time_window", ErrTimeWindow, "empty"},
		{"24:00 as start", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{TimeWindow: "24:00-08:00"})}},
			"mt_route[0].time_window", ErrTimeWindow, "only allowed as the end"},
		{"bad hour", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{TimeWindow: "08:00-25:00"})}},
			"mt_route[0].time_window", ErrTimeWindow, ""},
		{"bad days", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{Days: "mon-fry"})}},
			"mt_route[0].days", ErrDays, "mon-fry"},
		{"bad date", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{DateWindow: "2026-02-30"})}},
			"mt_route[0].date_window", ErrDateWindow, ""},
		{"reversed dates", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{DateWindow: "2026-12-26/2026-12-24"})}},
			"mt_route[0].date_window", ErrDateWindow, "ends before"},
		{"bad zone", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{TimeWindow: "08:00-20:00", TimeZone: "Mars/Olympus"})}},
			"mt_route[0].time_zone", ErrTimeZone, ""},
		{"zone alone", Config{MT: []MTRouteConfig{st("a", "c", FilterConfig{DestPrefixes: []string{"1"}, TimeZone: "UTC"})}},
			"mt_route[0].time_zone", ErrTimeZone, "no time_window"},
		{"MO without user", Config{MO: []MORouteConfig{{Name: "m", FilterConfig: fr}}},
			"mo_route[0].user", ErrUser, ""},
		{"MO unknown user", Config{Users: []string{"alice"}, MO: []MORouteConfig{{Name: "m", User: "bob", FilterConfig: fr}}},
			"mo_route[0].user", ErrUser, `"bob"`},
		{"MO with users filter", Config{MO: []MORouteConfig{{Name: "m", User: "a", FilterConfig: FilterConfig{Users: []string{"a"}}}}},
			"mo_route[0].users", ErrNotForMO, ""},
		{"MO with groups filter", Config{MO: []MORouteConfig{{Name: "m", User: "a", FilterConfig: FilterConfig{Groups: []string{"g"}}}}},
			"mo_route[0].groups", ErrNotForMO, ""},
		{"MO filterless not last", Config{MO: []MORouteConfig{{Name: "m", User: "a"}, {Name: "n", User: "b", FilterConfig: fr}}},
			"mo_route[0]", ErrUnreachable, ""},
		{"MO duplicate name", Config{MO: []MORouteConfig{{Name: "m", User: "a", FilterConfig: fr}, {Name: "m", User: "b"}}},
			"mo_route[1].name", ErrDuplicateName, ""},
		{"known connectors list with duplicate", Config{Connectors: []string{"x", "x"}, MT: []MTRouteConfig{def("x")}},
			"connectors[1]", ErrConnectorName, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.cfg)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			errs := configErrors(t, err)
			var found *ConfigError
			for _, e := range errs {
				if errors.Is(e, tc.err) {
					found = e
				}
			}
			if found.Key != tc.key {
				t.Errorf("key %q, want %q (%v)", found.Key, tc.key, found)
			}
			if !strings.Contains(found.Error(), tc.text) {
				t.Errorf("message %q does not contain %q", found.Error(), tc.text)
			}
		})
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	_, err := Compile(Config{MT: []MTRouteConfig{
		{Name: "fr", Kind: "bogus", Connectors: []string{"c"}, FilterConfig: fr},
		{Name: "de", Kind: "static", Connectors: []string{"c"}, FilterConfig: FilterConfig{DestRegex: "("}},
		def("c"),
	}})
	errs := configErrors(t, err)
	if len(errs) != 2 {
		t.Fatalf("got %d errors (%v), want 2", len(errs), err)
	}
	want := `routing: mt_route[0].kind ("fr"): unknown route kind`
	if got := errs[0].Error(); !strings.HasPrefix(got, want) {
		t.Errorf("first error %q, want it to start like %q", got, want)
	}
	if errs[1].Route != "de" || errs[1].Key != "mt_route[1].dest_regex" {
		t.Errorf("second error %+v", errs[1])
	}
}

func TestCompileConnectorIDs(t *testing.T) {
	// Interned in order of first appearance.
	tb := mustCompile(t, Config{MT: []MTRouteConfig{
		{Name: "a", Kind: "failover", Connectors: []string{"b", "a"}, FilterConfig: fr},
		{Name: "d", Kind: "default", Connectors: []string{"c"}},
	}})
	if got := tb.ConnectorNames(); !eqStrings(got, []string{"b", "a", "c"}) {
		t.Errorf("ConnectorNames %v", got)
	}
	if id, ok := tb.ConnectorID("c"); !ok || id != 2 {
		t.Errorf("ConnectorID(c) = %d, %v", id, ok)
	}
	if _, ok := tb.ConnectorID("nope"); ok {
		t.Error("ConnectorID(nope) found")
	}
	// A fixed list keeps ids stable, including unused connectors.
	tb = mustCompile(t, Config{Connectors: []string{"x", "y", "z"}, MT: []MTRouteConfig{def("z")}})
	if id, _ := tb.ConnectorID("z"); id != 2 || len(tb.ConnectorNames()) != 3 {
		t.Errorf("fixed ids: z=%d names=%v", id, tb.ConnectorNames())
	}
	if r := tb.MTRoutes()[0]; r.Kind != KindDefault || r.Connectors[0] != 2 {
		t.Errorf("route %+v", r)
	}
}

func TestCompileEmptyAndNil(t *testing.T) {
	tb := mustCompile(t, Config{})
	if d, ok := tb.RouteMT(&MT{Dest: []byte("1")}, nil); ok || d.Reason != ReasonNoRoutes {
		t.Errorf("empty table: %+v %v", d, ok)
	}
	var nilT *Table
	if d, ok := nilT.RouteMT(&MT{}, nil); ok || d.Reason != ReasonNoRoutes {
		t.Errorf("nil table: %+v %v", d, ok)
	}
	if _, _, ok := nilT.RouteMO(&MO{}); ok {
		t.Error("nil table routed an MO")
	}
	if nilT.ConnectorNames() != nil || nilT.MTRoutes() != nil || nilT.MORoutes() != nil || nilT.ExplainMT(&MT{}) != nil {
		t.Error("nil table accessors returned something")
	}
}

func TestKindAndReasonStrings(t *testing.T) {
	for _, k := range []Kind{KindStatic, KindDefault, KindRoundRobin, KindWeighted, KindFailover} {
		back, ok := ParseKind(k.String())
		if !ok || back != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), back, ok)
		}
	}
	if _, ok := ParseKind(""); ok {
		t.Error(`ParseKind("") accepted`)
	}
	if Kind(99).String() != "Kind(99)" || Reason(9).String() != "Reason(9)" {
		t.Error("fallback strings")
	}
	want := map[Reason]string{ReasonRouted: "routed", ReasonAllDown: "all_down", ReasonNoMatch: "no_match", ReasonNoRoutes: "no_routes"}
	for r, s := range want {
		if r.String() != s {
			t.Errorf("%d.String() = %q", r, r.String())
		}
	}
	if FieldDestPrefixes.String() != "dest_prefixes" || FieldContentRegex.String() != "content_regex" {
		t.Error("field strings")
	}
}
