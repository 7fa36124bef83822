package main

import (
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

// reloadPolicy re-reads the policy file (SIGHUP, the admin API's reload):
// a file that does not load leaves the policy in force and logs why.
func (x *policyExtras) reloadPolicy(cfg *config.Config, log zerolog.Logger) error {
	p, err := x.readPolicy(cfg)
	if err != nil {
		log.Error().Str("event", "policy_reload").Err(err).Msg("policy reload failed; the previous policy stays in force")
		return err
	}
	x.holder.Swap(p)
	if err := x.apply(p.LookupConfig(), p.LimitConfigs()); err != nil {
		log.Warn().Str("event", "policy_reload").Err(err).Msg("policy reloaded; its lookup or limits did not apply and keep their previous settings")
		return nil
	}
	log.Info().Str("event", "policy_reload").Str("file", cfg.PolicyPath()).Msg("policy reloaded")
	return nil
}

// hook is the policy as the hub runs it (flow.Options.Policy): the policy
// in force and the [[limit]] buckets.
func (x *policyExtras) hook() *policy.Hook {
	return &policy.Hook{Holder: &x.holder, Limits: x.limits}
}

// readPolicy loads cfg's policy file (nil, nil without one); the lists'
// hit counts carry over from the policy in force.
func (x *policyExtras) readPolicy(cfg *config.Config) (*policy.Policy, error) {
	path := cfg.PolicyPath()
	if path == "" {
		return nil, nil
	}
	return policy.Load(path, policy.Options{Stages: x.stages(), Prev: x.holder.Load()})
}
