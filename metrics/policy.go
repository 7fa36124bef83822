package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The policy's counts arrive as these plain snapshots (cmd/smppd converts
// policy's own, field for field), so metrics reads the policy without
// importing it and stays within its seven packages of ours.

// RouteStat is one route label's counts (policy.RouteStat).
type RouteStat struct {
	Route                        string
	Accepted, Refused, Delivered uint64
}

// LimitStat is one [[limit]]'s refusals (policy.LimitStat).
type LimitStat struct {
	Scope   string // "sender" or "route"
	Name    string
	Refused uint64
}

// LookupStats are the portability stage's counters (policy.LookupStats).
type LookupStats struct {
	FileHits  uint64 // numbers the ported file mapped
	CacheHits uint64 // answers from the cache
	Requests  uint64 // requests sent to the service
	Answers   uint64 // 200 answers with a network
	NotFound  uint64 // 404 answers (no network known)
	Failures  uint64 // requests that failed (connection, status, body)
	Timeouts  uint64 // requests cut at Timeout (also counted in Failures)
	Fallbacks uint64 // messages that took Fallback
	Full      uint64 // messages refused because MaxPending numbers waited
	Pending   int    // numbers waiting now
}

// RulesStat is the policy's rule table in force (policy.RulesInfo): its
// rules, and the cluster bucket's revision (0 outside a cluster).
type RulesStat struct {
	Rules    int
	Revision uint64
}

// RulesSource is what the metrics read of the rule table.
type RulesSource interface {
	Stats() RulesStat
}

// RouteStats is what the metrics read of the per-route counts.
type RouteStats interface {
	Stats() []RouteStat
}

// LimitStats is what the metrics read of the policy's [[limit]] buckets.
type LimitStats interface {
	Stats() []LimitStat
}

// LookupSource is what the metrics read of the portability stage.
type LookupSource interface {
	Stats() LookupStats
}

// policyDescs are the per-route counts, the [[limit]] refusals and the
// portability lookup's counters. Route labels are the configured MT route
// names (bounded by the policy's MaxRouteLabels, then "other"; "none" before a
// route matched); limit labels the configured senders and routes.
type policyDescs struct {
	routeAccepted, routeRefused, routeDelivered, limitRefused *prometheus.Desc
	lookups, lookupFallbacks, lookupFull, lookupPending       *prometheus.Desc
	rules, rulesRevision                                      *prometheus.Desc
}

func (p *policyDescs) init(d func(name, help string, labels ...string) *prometheus.Desc) {
	p.routeAccepted = d("smppd_route_accepted_total", "MT messages (or submit_multi destinations) queued, by the MT route that matched.", "route")
	p.routeRefused = d("smppd_route_refused_total", "MT messages refused, by the MT route that had matched (\"none\": refused before one matched).", "route")
	p.routeDelivered = d("smppd_route_delivered_total", "Final receipts with state DELIVRD, by the MT route the message took.", "route")
	p.limitRefused = d("smppd_policy_limit_refused_total", "MT messages refused ESME_RTHROTTLED by a [[limit]] of the policy file, by scope (sender or route) and name.", "scope", "name")
	p.lookups = d("smppd_lookup_total", "Portability lookups by result: file (the ported file mapped it), cache (a cached answer), answered (the service named a network), not_found (404), failed (error or timeout), timeout (cut at lookup.timeout, also counted in failed).", "result")
	p.lookupFallbacks = d("smppd_lookup_fallbacks_total", "MT messages that took lookup.fallback: the service failed, was too slow or paused, or the session could not wait.")
	p.lookupFull = d("smppd_lookup_full_total", "MT messages refused ESME_RMSGQFUL because lookup.max_pending numbers waited for the service.")
	p.lookupPending = d("smppd_lookup_pending", "Numbers waiting for the lookup service now.")
	p.rules = d("smppd_policy_rules", "Rules in the policy's rule table in force.")
	p.rulesRevision = d("smppd_policy_rules_revision", "The cluster revision (bucket smppd_policy_rules) of the rule table in force; 0 outside a cluster or before the cluster had a table. Nodes that differ for long have not converged.")
}

func (p *policyDescs) collect(ch chan<- prometheus.Metric, src *Sources) {
	if src.Routes != nil {
		for _, s := range src.Routes.Stats() {
			counter(ch, p.routeAccepted, s.Accepted, s.Route)
			counter(ch, p.routeRefused, s.Refused, s.Route)
			counter(ch, p.routeDelivered, s.Delivered, s.Route)
		}
	}
	if src.Limits != nil {
		for _, s := range src.Limits.Stats() {
			counter(ch, p.limitRefused, s.Refused, s.Scope, s.Name)
		}
	}
	if src.Lookup != nil {
		s := src.Lookup.Stats()
		counter(ch, p.lookups, s.FileHits, "file")
		counter(ch, p.lookups, s.CacheHits, "cache")
		counter(ch, p.lookups, s.Answers, "answered")
		counter(ch, p.lookups, s.NotFound, "not_found")
		counter(ch, p.lookups, s.Failures, "failed")
		counter(ch, p.lookups, s.Timeouts, "timeout")
		counter(ch, p.lookupFallbacks, s.Fallbacks)
		counter(ch, p.lookupFull, s.Full)
		gauge(ch, p.lookupPending, float64(s.Pending))
	}
	if src.Rules != nil {
		s := src.Rules.Stats()
		gauge(ch, p.rules, float64(s.Rules))
		gauge(ch, p.rulesRevision, float64(s.Revision))
	}
}
