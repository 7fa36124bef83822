package main

import (
	"testing"

	"github.com/smppd/smppd/metrics"
	"github.com/smppd/smppd/policy"
)

// TestPolicyMetricsSources: the policy's per-route counts, [[limit]]
// refusals and lookup counters reach metrics.Sources unchanged.
func TestPolicyMetricsSources(t *testing.T) {
	x := newPolicyExtras()
	x.routes.Accepted("de")
	x.routes.Accepted("de")
	x.routes.Refused("de")
	x.routes.Refused("")
	x.routes.Delivered("de")
	if err := x.limits.Apply([]policy.LimitConfig{{Sender: "BANK", Rate: 1, Burst: 1}, {Route: "de", Rate: 1, Burst: 1}}); err != nil {
		t.Fatal(err)
	}
	x.limits.Take([]byte("BANK"), "", 1, 0)
	x.limits.Take([]byte("BANK"), "", 1, 0)
	var src metrics.Sources
	x.metricsSources(&src)

	wantRoutes := []metrics.RouteStat{{Route: "de", Accepted: 2, Refused: 1, Delivered: 1}, {Route: policy.RouteNone, Refused: 1}}
	if got := src.Routes.Stats(); !sameRoutes(got, wantRoutes) {
		t.Errorf("routes %+v, want %+v", got, wantRoutes)
	}
	wantLimits := map[metrics.LimitStat]bool{{Scope: "sender", Name: "BANK", Refused: 1}: true, {Scope: "route", Name: "de"}: true}
	got := src.Limits.Stats()
	if len(got) != len(wantLimits) {
		t.Errorf("limits %+v, want %v", got, wantLimits)
	}
	for _, s := range got {
		if !wantLimits[s] {
			t.Errorf("limit %+v not expected (want %v)", s, wantLimits)
		}
	}
	if got, want := src.Lookup.Stats(), metrics.LookupStats(x.lookup.Stats()); got != want {
		t.Errorf("lookup %+v, want %+v", got, want)
	}
	if got := src.Rules.Stats(); got != (metrics.RulesStat{}) {
		t.Errorf("rules without a policy: %+v", got)
	}
	p, err := policy.Compile(&policy.Config{}, "", policy.Options{Rules: &policy.RuleTable{
		Text: []byte("[[rule]]\nname = \"a\"\nset_priority = 1\n"), Revision: 5, Shared: true}})
	if err != nil {
		t.Fatal(err)
	}
	x.holder.Swap(p)
	if got := src.Rules.Stats(); got != (metrics.RulesStat{Rules: 1, Revision: 5}) {
		t.Errorf("rules %+v, want 1 at revision 5", got)
	}
	if n := testing.AllocsPerRun(100, func() { src.Rules.Stats() }); n != 0 {
		t.Errorf("the rule table's scrape: %v allocations, want 0", n)
	}
}

// sameRoutes compares in any order: the metrics do not depend on it.
func sameRoutes(got, want []metrics.RouteStat) bool {
	if len(got) != len(want) {
		return false
	}
	m := map[metrics.RouteStat]int{}
	for _, s := range got {
		m[s]++
	}
	for _, s := range want {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}
