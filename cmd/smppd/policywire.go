package main

import (
	"bytes"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/policy"
)

// loadPolicy reads cfg's [policy] file into x.holder at start, with the
// extras' stages; a bad file refuses the start, naming it.
func (x *policyExtras) loadPolicy(cfg *config.Config) error {
	p, err := x.readPolicy(cfg)
	if err != nil {
		return err
	}
	x.holder.Swap(p)
	return x.apply(p.LookupConfig(), p.LimitConfigs())
}

// put puts a policy loaded for a rule table edit in force with its
// [lookup] and [[limit]] tables; a part that fails keeps its previous
// settings and is logged.
func (x *policyExtras) put(p *policy.Policy, log zerolog.Logger) {
	x.holder.Swap(p)
	if err := x.apply(p.LookupConfig(), p.LimitConfigs()); err != nil {
		log.Warn().Str("event", "policy_reload").Err(err).Msg("policy loaded; its lookup or limits did not apply and keep their previous settings")
	}
}

// reloadPolicy re-reads the policy file (SIGHUP, the admin API's reload):
// a file that does not load leaves the policy in force and logs why.
func (x *policyExtras) reloadPolicy(cfg *config.Config, log zerolog.Logger) error {
	p, err := x.readPolicy(cfg)
	if err != nil {
		log.Error().Str("event", "policy_reload").Err(err).Msg("policy reload failed; the previous policy stays in force")
		return err
	}
	x.holder.Swap(p)
	x.logRules(p, log)
	if err := x.apply(p.LookupConfig(), p.LimitConfigs()); err != nil {
		log.Warn().Str("event", "policy_reload").Err(err).Msg("policy reloaded; its lookup or limits did not apply and keep their previous settings")
		return nil
	}
	log.Info().Str("event", "policy_reload").Str("file", cfg.PolicyPath()).Msg("policy reloaded")
	return nil
}

// logRules says which rule table a load put in force when the node's own
// is not it: a cluster node whose rules differ from the cluster's (the
// cluster's wins: a SIGHUP does not diverge the node), or a rules file
// that leaves the policy file's [[rule]] tables out.
func (x *policyExtras) logRules(p *policy.Policy, log zerolog.Logger) {
	if p == nil {
		return
	}
	if c := x.clusterRules; c != nil && !bytes.Equal(p.LocalRulesText(), c.Text) {
		log.Warn().Str("event", "policy_rules").Uint64("revision", c.Revision).Str("rules_file", p.RulesFile()).
			Msg("policy: this node's own rule table differs from the cluster's; the cluster's stays in force (change it with smppctl policy rules set)")
	}
	if n := p.InlineRulesIgnored(); n > 0 {
		log.Info().Str("event", "policy_rules").Int("ignored", n).Str("source", p.Rules().Source).
			Msg("policy: the policy file's [[rule]] tables are not in force")
	}
}

// hook is the policy as the hub runs it (flow.Options.Policy): the policy
// in force and the [[limit]] buckets.
func (x *policyExtras) hook() *policy.Hook {
	return &policy.Hook{Holder: &x.holder, Limits: x.limits}
}

// readPolicy loads cfg's policy file (nil, nil without one); the lists'
// hit counts carry over from the policy in force.
func (x *policyExtras) readPolicy(cfg *config.Config) (*policy.Policy, error) {
	return x.readPolicyWith(cfg, x.clusterRules)
}

// readPolicyWith loads cfg's policy file with rules as its rule table (nil:
// the file's own).
func (x *policyExtras) readPolicyWith(cfg *config.Config, rules *policy.RuleTable) (*policy.Policy, error) {
	path := cfg.PolicyPath()
	if path == "" {
		return nil, nil
	}
	return policy.Load(path, policy.Options{Stages: x.stages(), Prev: x.holder.Load(), Rules: rules})
}
