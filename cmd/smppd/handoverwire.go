package main

import (
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/msg"
)

// newEngine builds the SMPP engine. Normally the hub and the delivery
// service exist and take its seams; in an early start (d.early) they do
// not yet, and the hand-over gate stands in for them (handover.go).
func (d *daemon) newEngine(cfg *config.Config, ids *msg.IDGen, tune func(*engine.Options)) error {
	eo, err := engineOptions(cfg, ids)
	if err != nil {
		return err
	}
	eo.Logger = d.log
	if eo.TLSConfig != nil {
		d.tls = newTLSListener(eo.TLSConfig, eo.TLSAddr)
		eo.TLSConfig = d.tls.serve()
	}
	if h := d.early; h != nil {
		// The hub's Authenticator on the same accounts store: the
		// principals of binds made now are the ones the hub reads later.
		eo.Authenticator = flow.NewAuthenticator(d.users)
		eo.Submit, eo.Manage, eo.Binds, eo.Deliveries, eo.SubmitLatency = h, h, h, h, h
		eo.IDs = nil // the hub answers, with the ids above the store's floor
	} else {
		// The engine binds through the hub's Authenticator: the hub reads
		// each request's user from the principal that bind made.
		eo.Authenticator, eo.Submit, eo.Manage = d.hub.Authenticator(), d.hub, d.hub
		eo.Binds, eo.Deliveries = d.dl, d.dl
		eo.SubmitLatency = d.metrics.SubmitLatency()
	}
	if tune != nil {
		tune(&eo)
	}
	d.srv, err = engine.New(eo)
	return err
}

// listenEarly starts the SMPP listeners before the data directory is ours
// (an upgrade: [smpp-server] reuse_port and -lock-wait). Binds need only
// the users file, read already: the accounts store is built now, without
// its ledger (accountsStore gives it once the store is open), and the
// engine serves through the hand-over gate until openEarly.
func (d *daemon) listenEarly(cfg *config.Config, au []accounts.User, shares *heldShares, tune func(*engine.Options), lockWait time.Duration) error {
	so := storeOptions(cfg)
	if cfg.UsersPath != "" {
		so.Persist = d.file.persist
	}
	users, err := accounts.NewStore(au, accountGroups(cfg.Groups), so)
	if err != nil {
		return err
	}
	d.users = users
	shares.users.Store(users)
	d.early = newHandover()
	if err := d.newEngine(cfg, nil, tune); err != nil {
		return err
	}
	if err := d.srv.Start(); err != nil {
		return err
	}
	d.log.Info().Str("event", "handover_listen").Str("smpp", d.srv.Addr().String()).Dur("lock_wait", lockWait).
		Msg("listening beside the running smppd (reuse_port): binds are taken now; submits wait until its data directory is released and recovered")
	return nil
}

// accountsStore builds the users' accounts store on the open message
// store, or, after an early start, gives the store built then its ledger
// (balances and quotas come from it, as NewStore would take them).
func (d *daemon) accountsStore(au []accounts.User, cfg *config.Config, so accounts.Options) (*accounts.Store, error) {
	if d.users == nil {
		return accounts.NewStore(au, accountGroups(cfg.Groups), so)
	}
	if so.Ledger != nil {
		if err := d.users.AttachLedger(so.Ledger); err != nil {
			return nil, err
		}
	}
	return d.users, nil
}

// openEarly hands the engine's seams from the gate to the hub and the
// delivery service, once the store is recovered: from now on submits are
// taken, and what is held for receivers bound during the wait goes out.
func (d *daemon) openEarly() {
	d.early.open(func(n int) {
		d.log.Info().Str("event", "handover_ready").Int("binds", n).Uint64("submits_refused", d.early.refused.Load()).
			Msg("data directory recovered: taking submits on the sessions bound during the wait")
	})
}
