package metrics_test

import (
	"testing"

	"github.com/smppd/smppd/metrics"
)

type fixedLookup struct{ st metrics.LookupStats }

func (f fixedLookup) Stats() metrics.LookupStats { return f.st }

type fixedRoutes []metrics.RouteStat

func (f fixedRoutes) Stats() []metrics.RouteStat { return f }

type fixedRules metrics.RulesStat

func (f fixedRules) Stats() metrics.RulesStat { return metrics.RulesStat(f) }

type fixedLimits []metrics.LimitStat

func (f fixedLimits) Stats() []metrics.LimitStat { return f }

// TestPolicyMetrics: the per-route counts carry the route label (and
// "none" for refusals before a route matched), the [[limit]] refusals
// their scope and name, the lookup its results.
func TestPolicyMetrics(t *testing.T) {
	// What policy's RouteCounts and Limits report after two accepted, a
	// refused and a delivered on route de, a refusal before a route
	// matched, and BANK's second message over its burst of 1.
	rc := fixedRoutes{{Route: "de", Accepted: 2, Refused: 1, Delivered: 1}, {Route: "none", Refused: 1}}
	lim := fixedLimits{{Scope: "sender", Name: "BANK", Refused: 1}, {Scope: "route", Name: "de"}}
	m := metrics.New(metrics.Options{})
	m.Attach(metrics.Sources{Routes: rc, Limits: lim, Lookup: fixedLookup{metrics.LookupStats{
		FileHits: 1, CacheHits: 2, Answers: 3, NotFound: 4, Failures: 5, Timeouts: 6, Fallbacks: 7, Full: 8, Pending: 9}},
		Rules: fixedRules{Rules: 12, Revision: 34}})
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := families{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf
	}
	for _, w := range []struct {
		name   string
		labels []string
		v      float64
	}{
		{"smppd_route_accepted_total", []string{"route", "de"}, 2},
		{"smppd_route_refused_total", []string{"route", "de"}, 1},
		{"smppd_route_refused_total", []string{"route", "none"}, 1},
		{"smppd_route_delivered_total", []string{"route", "de"}, 1},
		{"smppd_policy_limit_refused_total", []string{"scope", "sender", "name", "BANK"}, 1},
		{"smppd_policy_limit_refused_total", []string{"scope", "route", "name", "de"}, 0},
		{"smppd_lookup_total", []string{"result", "file"}, 1},
		{"smppd_lookup_total", []string{"result", "cache"}, 2},
		{"smppd_lookup_total", []string{"result", "answered"}, 3},
		{"smppd_lookup_total", []string{"result", "not_found"}, 4},
		{"smppd_lookup_total", []string{"result", "failed"}, 5},
		{"smppd_lookup_total", []string{"result", "timeout"}, 6},
		{"smppd_lookup_fallbacks_total", nil, 7},
		{"smppd_lookup_full_total", nil, 8},
		{"smppd_lookup_pending", nil, 9},
		{"smppd_policy_rules", nil, 12},
		{"smppd_policy_rules_revision", nil, 34},
	} {
		if got[w.name] == nil {
			t.Errorf("%s not exported", w.name)
			continue
		}
		if v := got.value(w.name, w.labels...); v != w.v {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, v, w.v)
		}
	}
	if n := len(got["smppd_route_accepted_total"].GetMetric()); n != 2 {
		t.Errorf("%d accepted series, want 2: de and none (other only once it counts)", n)
	}
}
