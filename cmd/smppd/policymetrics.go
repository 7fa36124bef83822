package main

import (
	"github.com/smppd/smppd/metrics"
	"github.com/smppd/smppd/policy"
)

// The metrics package reads the policy's counts as its own snapshot types
// so it need not import policy; these convert at scrape time. The
// conversions are field for field: a field added on one side and not the
// other stops the build here.

type routeStats struct{ rc *policy.RouteCounts }

func (r routeStats) Stats() []metrics.RouteStat {
	in := r.rc.Stats()
	out := make([]metrics.RouteStat, len(in))
	for i, s := range in {
		out[i] = metrics.RouteStat(s)
	}
	return out
}

type limitStats struct{ l *policy.Limits }

func (l limitStats) Stats() []metrics.LimitStat {
	in := l.l.Stats()
	out := make([]metrics.LimitStat, len(in))
	for i, s := range in {
		out[i] = metrics.LimitStat(s)
	}
	return out
}

// rulesStats reads the rule table of the policy in force at each scrape.
type rulesStats struct{ h *policy.Holder }

func (r rulesStats) Stats() metrics.RulesStat {
	p := r.h.Load() // not Rules(): a scrape would copy the table's text (up to 512 KiB) and list every rule
	return metrics.RulesStat{Rules: p.RuleCount(), Revision: p.RulesRevision()}
}

type lookupStats struct{ l *policy.Lookup }

func (l lookupStats) Stats() metrics.LookupStats { return metrics.LookupStats(l.l.Stats()) }
