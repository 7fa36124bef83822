package main

import (
	"context"
	"fmt"
	"reflect"

	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/connector"
)

// connectorPlan is what a reload does to the connectors: the entries
// changed in place are rebuilt; a change of the list itself (a connector
// added, removed, renamed, moved or given another type) needs a restart,
// since a connector's position is its routing id in every stored record.
type connectorPlan struct {
	rebuild []int    // indexes of entries changed in place
	restart []string // why the rest needs a restart
}

// planConnectors compares the running entries with cfg's.
func planConnectors(running, next []config.Connector) connectorPlan {
	var p connectorPlan
	names := func(cs []config.Connector) map[string]int {
		m := make(map[string]int, len(cs))
		for i, c := range cs {
			m[c.Name] = i
		}
		return m
	}
	was, now := names(running), names(next)
	for _, c := range next {
		if _, ok := was[c.Name]; !ok {
			p.restart = append(p.restart, fmt.Sprintf("connector %q added", c.Name))
		}
	}
	for _, c := range running {
		if _, ok := now[c.Name]; !ok {
			p.restart = append(p.restart, fmt.Sprintf("connector %q removed", c.Name))
		}
	}
	for i, c := range running {
		j, ok := now[c.Name]
		switch {
		case !ok:
		case j != i:
			p.restart = append(p.restart, fmt.Sprintf("connector %q moved from position %d to %d", c.Name, i, j))
		case next[j].Type != c.Type:
			p.restart = append(p.restart, fmt.Sprintf("connector %q changed type %s -> %s", c.Name, c.Type, next[j].Type))
		case !reflect.DeepEqual(next[j], c):
			p.rebuild = append(p.rebuild, i)
		}
	}
	return p
}

// listenerChanges lists the keys whose change needs a restart: the
// listening sockets, the store and the cluster are opened once.
func listenerChanges(old, cfg *config.Config) []string {
	var out []string
	add := func(changed bool, key string) {
		if changed {
			out = append(out, key)
		}
	}
	add(old.Server.Bind != cfg.Server.Bind || old.Server.Port != cfg.Server.Port, "[smpp-server] bind/port")
	add(old.Server.TLS.Enabled != cfg.Server.TLS.Enabled || old.Server.TLS.Bind != cfg.Server.TLS.Bind ||
		old.Server.TLS.Port != cfg.Server.TLS.Port, "[smpp-server.tls] enabled/bind/port")
	add(old.Admin.Bind != cfg.Admin.Bind || old.Admin.Port != cfg.Admin.Port, "[admin] bind/port")
	add(old.HTTPAPI.Enabled != cfg.HTTPAPI.Enabled || old.HTTPAPI.Bind != cfg.HTTPAPI.Bind ||
		old.HTTPAPI.Port != cfg.HTTPAPI.Port, "[http-api] enabled/bind/port")
	add(!reflect.DeepEqual(old.Storage, cfg.Storage), "[storage]")
	add(!reflect.DeepEqual(old.Cluster, cfg.Cluster), "[cluster]")
	return out
}

// reloadConnectors rebuilds the connectors whose entry changed in place
// (each drains within [smpp-server] shutdown_grace, what it could not hand
// upstream is failed with receipts, and a fresh instance binds with the
// new settings; routing fails over meanwhile) and reports what needs a
// restart. It returns the entries now running and what it did. Called
// with d.mu held.
func (d *daemon) reloadConnectors(cfg *config.Config) ([]config.Connector, reloadResult) {
	var res reloadResult
	p := planConnectors(d.cfg.Connectors, cfg.Connectors)
	if keys := append(listenerChanges(d.cfg, cfg), p.restart...); len(keys) > 0 {
		res.NeedsRestart = keys
		d.log.Warn().Str("event", "reload_needs_restart").Strs("changes", keys).
			Msg("these changes take effect at the next restart (or an upgrade, docs/OPERATIONS.md); the rest is reloaded")
	}
	keepRunning(d.cfg, cfg)
	running := append([]config.Connector(nil), d.cfg.Connectors...)
	if len(p.rebuild) == 0 {
		return running, res
	}
	ids := connectorIDs(d.store, d.log)
	for _, i := range p.rebuild {
		name := running[i].Name
		r, ok := d.conns[i].(*connector.Restartable)
		if !ok || r.Name() != name {
			d.log.Error().Str("event", "reload").Str("connector", name).Msg("connector cannot be rebuilt live; its change takes effect at the next restart")
			res.NeedsRestart = append(res.NeedsRestart, fmt.Sprintf("connector %q changed (not restartable)", name))
			continue
		}
		_, build, err := connectorFactory(cfg, i, ids, d.log)
		if err != nil {
			d.log.Error().Str("event", "connector_rebuild").Str("connector", name).Err(err).
				Msg("connector not rebuilt: its new entry does not build; it runs as before")
			res.Failed = append(res.Failed, name)
			continue
		}
		wasHalted := r.Halted()
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Server.ShutdownGrace.D())
		err = r.Rebuild(ctx, build)
		cancel()
		running[i] = cfg.Connectors[i] // the new factory is in place whatever came of the start
		switch {
		case wasHalted:
			d.log.Info().Str("event", "connector_rebuild").Str("connector", name).
				Msg("connector stopped by an operator: its next start uses the new settings")
		case err != nil && r.Halted():
			d.log.Error().Str("event", "connector_rebuild").Str("connector", name).Err(err).
				Msg("connector not rebuilt: it stays stopped with its new settings (smppctl connectors start retries)")
			res.Failed = append(res.Failed, name)
		case err != nil:
			d.log.Warn().Str("event", "connector_rebuild").Str("connector", name).Err(err).
				Msg("connector rebound with its new settings; its old instance did not drain in time (the rest was failed, with receipts)")
			res.Rebuilt = append(res.Rebuilt, name)
		default:
			d.log.Info().Str("event", "connector_rebuild").Str("connector", name).
				Msg("connector drained and rebound with its new settings")
			res.Rebuilt = append(res.Rebuilt, name)
		}
	}
	return running, res
}

// reloadResult is what a reload did: admin.ReloadResult.
type reloadResult = admin.ReloadResult

// adminReload is POST /v1/reload: the SIGHUP reload.
func (d *daemon) adminReload() (admin.ReloadResult, error) { return d.reload() }

// checkRoutes compiles cfg's routes against the connectors that will run
// after the reload (the running ones: adding one needs a restart), before
// anything is applied, so a route naming a connector that does not run
// refuses the whole reload and the previous configuration stays.
func (d *daemon) checkRoutes(cfg *config.Config) error {
	rc := *cfg
	rc.Connectors = d.cfg.Connectors
	_, err := compileRoutes(&rc)
	return err
}

// keepRunning copies into cfg the settings a reload cannot change (the
// listeners, the store, the cluster), so the daemon's config keeps
// describing what runs and the next reload reports them again.
func keepRunning(running, cfg *config.Config) {
	cfg.Server.Bind, cfg.Server.Port = running.Server.Bind, running.Server.Port
	cfg.Server.TLS.Enabled, cfg.Server.TLS.Bind, cfg.Server.TLS.Port = running.Server.TLS.Enabled, running.Server.TLS.Bind, running.Server.TLS.Port
	cfg.Admin.Bind, cfg.Admin.Port = running.Admin.Bind, running.Admin.Port
	cfg.HTTPAPI.Enabled, cfg.HTTPAPI.Bind, cfg.HTTPAPI.Port = running.HTTPAPI.Enabled, running.HTTPAPI.Bind, running.HTTPAPI.Port
	cfg.Storage, cfg.Cluster = running.Storage, running.Cluster
}
