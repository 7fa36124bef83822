package main

import (
	"errors"

	"github.com/smppd/smppd/cluster"
	"github.com/smppd/smppd/metrics"
	"github.com/smppd/smppd/policy"
)

// policyExtras are the parts of the traffic policy that keep state across
// policy loads: the portability lookup (a policy Stage, its cache and
// workers), the [[limit]] buckets and the per-route counts. They are built
// once; each successful policy load (start, SIGHUP) applies its [lookup]
// and [[limit]] tables to them.
type policyExtras struct {
	lookup *policy.Lookup
	limits *policy.Limits
	routes *policy.RouteCounts
	// holder is the policy in force (policywire.go), flow's Options.Policy.
	holder policy.Holder
	// lists shares list edits in a cluster, and stopShare stops the
	// limits' share (policycluster.go); nil outside a cluster.
	lists     *cluster.PolicyLists
	stopShare func()
	// rules shares the rule table in a cluster (policyrules.go), and
	// clusterRules is the cluster's table this node has in force (nil:
	// none yet, or outside a cluster); both under the daemon's lock.
	rules        *cluster.PolicyRules
	clusterRules *policy.RuleTable
}

func newPolicyExtras() *policyExtras {
	// The zero Lookup maps nothing until a policy configures it.
	return &policyExtras{lookup: new(policy.Lookup), limits: policy.NewLimits(), routes: policy.NewRouteCounts()}
}

// stages are the policy Stages to pass to policy.Load (Options.Stages).
func (x *policyExtras) stages() []policy.Stage { return []policy.Stage{x.lookup} }

// apply puts a loaded policy's [lookup] and [[limit]] tables in force.
// Each part that fails keeps its previous configuration; the errors are
// joined, naming the key.
func (x *policyExtras) apply(lc policy.LookupConfig, limits []policy.LimitConfig) error {
	return errors.Join(x.lookup.Configure(lc), x.limits.Apply(limits))
}

// metricsSources adds the per-route counts, limits, lookup and rule table to s, as
// metrics' snapshot types (policymetrics.go).
func (x *policyExtras) metricsSources(s *metrics.Sources) {
	s.Routes, s.Limits, s.Lookup, s.Rules = routeStats{x.routes}, limitStats{x.limits}, lookupStats{x.lookup}, rulesStats{&x.holder}
}

// close stops the lookup's workers and, in a cluster, the list edits'
// watch and the limits' share (nil: a daemon that never built them).
func (x *policyExtras) close() {
	if x == nil {
		return
	}
	if x.stopShare != nil {
		x.stopShare()
		x.stopShare = nil
	}
	if x.lists != nil {
		x.lists.Close()
	}
	if x.rules != nil {
		x.rules.Close()
	}
	x.lookup.Close()
}
