package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/flow"
)

// connectorPlan is what a reload does to the connectors. Ids are stable
// (connids.go), so a connector's position in the list means nothing: one
// added is built and started, one removed stops taking traffic and its
// queue is routed again by the new routes, one changed in place drains
// and rebinds. A type change, and in a cluster any change of the list,
// needs a restart.
type connectorPlan struct {
	add     []int    // indexes in next of connectors to add
	remove  []string // names of running connectors to remove
	rebuild []int    // indexes in next of entries changed in place
	restart []string // why the rest needs a restart
}

// planConnectors compares the running entries with next's. cluster: the
// list is fixed (every node must give a name the same id).
func planConnectors(running, next []config.Connector, cluster bool) connectorPlan {
	var p connectorPlan
	was := make(map[string]int, len(running))
	for i, c := range running {
		was[c.Name] = i
	}
	now := make(map[string]bool, len(next))
	for j, c := range next {
		now[c.Name] = true
		i, ok := was[c.Name]
		switch {
		case !ok && cluster:
			p.restart = append(p.restart, fmt.Sprintf("connector %q added (a cluster's connectors change at a restart of every node)", c.Name))
		case !ok:
			p.add = append(p.add, j)
		case running[i].Type != c.Type:
			p.restart = append(p.restart, fmt.Sprintf("connector %q changed type %s -> %s (remove it, reload, add it back; or restart)",
				c.Name, running[i].Type, c.Type))
		case !reflect.DeepEqual(running[i], c):
			p.rebuild = append(p.rebuild, j)
		}
	}
	for _, c := range running {
		switch {
		case now[c.Name]:
		case cluster:
			p.restart = append(p.restart, fmt.Sprintf("connector %q removed (a cluster's connectors change at a restart of every node)", c.Name))
		default:
			p.remove = append(p.remove, c.Name)
		}
	}
	return p
}

// after lists the entries that run once p is applied: next's, but the
// running entry for what p leaves as it is (a restart's change) and no
// entry for what it cannot add.
func (p *connectorPlan) after(running, next []config.Connector) []config.Connector {
	was := make(map[string]config.Connector, len(running))
	for _, c := range running {
		was[c.Name] = c
	}
	adding := make(map[string]bool, len(p.add))
	for _, j := range p.add {
		adding[next[j].Name] = true
	}
	var out []config.Connector
	for _, c := range next {
		old, ok := was[c.Name]
		switch {
		case adding[c.Name]:
			out = append(out, c)
		case !ok: // an addition that needs a restart
		case old.Type != c.Type:
			out = append(out, old)
		default:
			out = append(out, c)
		}
	}
	for _, c := range running {
		if !slices.Contains(p.remove, c.Name) && !hasEntry(out, c.Name) {
			out = append(out, c) // a removal that needs a restart
		}
	}
	return out
}

func hasEntry(cs []config.Connector, name string) bool {
	for i := range cs {
		if cs[i].Name == name {
			return true
		}
	}
	return false
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

// planReload plans cfg's connector changes and reports what needs a
// restart (listeners included) in res. Called with d.mu held.
func (d *daemon) planReload(cfg *config.Config, res *reloadResult) connectorPlan {
	p := planConnectors(d.cfg.Connectors, cfg.Connectors, d.cfg.Cluster.Enabled)
	if keys := append(listenerChanges(d.cfg, cfg), p.restart...); len(keys) > 0 {
		res.NeedsRestart = keys
		d.log.Warn().Str("event", "reload_needs_restart").Strs("changes", keys).
			Msg("these changes take effect at the next restart (or an upgrade, docs/OPERATIONS.md); the rest is reloaded")
	}
	return p
}

// addedConnector is a connector a reload adds, built before anything is
// applied.
type addedConnector struct {
	name string
	id   int
	c    *connector.Restartable
}

// applyConnectors builds every connector p adds (one that does not build
// refuses the whole reload: nothing is applied), starts them, then
// rebuilds the entries changed in place (each drains within
// [smpp-server] shutdown_grace, what it could not hand upstream is failed
// with receipts, and a fresh instance binds with the new settings;
// routing fails over meanwhile). It sets cfg.Connectors to the entries
// that run once p's removals are done (removeConnectors, after the new
// routes), and d.cfg.Connectors to those running now. Called with d.mu
// held.
func (d *daemon) applyConnectors(cfg *config.Config, p *connectorPlan, res *reloadResult) error {
	after := p.after(d.cfg.Connectors, cfg.Connectors)
	added, err := d.buildAdded(cfg, p)
	if err != nil {
		return err
	}
	for _, a := range added {
		accept, receipt := d.metrics.Latency(a.name)
		if err := d.hub.AddConnector(a.id, a.c, accept, receipt); err != nil {
			d.log.Error().Str("event", "connector_add").Str("connector", a.name).Err(err).
				Msg("connector not added: the routes naming it are not installed")
			res.Failed = append(res.Failed, a.name)
			after = dropEntry(after, a.name)
			continue
		}
		res.Added = append(res.Added, a.name)
	}
	d.rebuildConnectors(cfg, after, p, res)
	// Running now: after, and what goes until removeConnectors.
	now := append([]config.Connector(nil), after...)
	for _, c := range d.cfg.Connectors {
		if slices.Contains(p.remove, c.Name) {
			now = append(now, c)
		}
	}
	d.cfg.Connectors = now
	cfg.Connectors = after
	d.attachConnectors()
	return nil
}

func dropEntry(cs []config.Connector, name string) []config.Connector {
	out := cs[:0:0]
	for _, c := range cs {
		if c.Name != name {
			out = append(out, c)
		}
	}
	return out
}

// buildAdded gives each connector p adds its id (written to the id table
// first) and builds it, unstarted.
func (d *daemon) buildAdded(cfg *config.Config, p *connectorPlan) ([]addedConnector, error) {
	if len(p.add) == 0 {
		return nil, nil
	}
	names := make([]string, len(p.add))
	for k, j := range p.add {
		names[k] = cfg.Connectors[j].Name
	}
	if _, err := d.connIDs.assign(names); err != nil {
		return nil, err
	}
	ids := connectorIDs(d.store, d.log)
	out := make([]addedConnector, 0, len(p.add))
	for _, j := range p.add {
		name := cfg.Connectors[j].Name
		id, _ := d.connIDs.id(name)
		c, err := buildConnector(cfg, j, id, ids, d.log)
		if err != nil {
			return nil, err
		}
		out = append(out, addedConnector{name: name, id: id, c: c})
	}
	return out, nil
}

// rebuildConnectors drains and rebinds the entries p changed in place.
func (d *daemon) rebuildConnectors(cfg *config.Config, after []config.Connector, p *connectorPlan, res *reloadResult) {
	if len(p.rebuild) == 0 {
		return
	}
	ids := connectorIDs(d.store, d.log)
	for _, j := range p.rebuild {
		name := cfg.Connectors[j].Name
		id, _ := d.connIDs.id(name)
		r := d.restartable(id, name)
		if r == nil {
			d.log.Error().Str("event", "reload").Str("connector", name).Msg("connector cannot be rebuilt live; its change takes effect at the next restart")
			res.NeedsRestart = append(res.NeedsRestart, fmt.Sprintf("connector %q changed (not restartable)", name))
			restoreEntry(after, d.cfg.Connectors, name)
			continue
		}
		_, build, err := connectorFactory(cfg, j, id, ids, d.log)
		if err != nil {
			d.log.Error().Str("event", "connector_rebuild").Str("connector", name).Err(err).
				Msg("connector not rebuilt: its new entry does not build; it runs as before")
			res.Failed = append(res.Failed, name)
			restoreEntry(after, d.cfg.Connectors, name)
			continue
		}
		wasHalted := r.Halted()
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Server.ShutdownGrace.D())
		err = r.Rebuild(ctx, build)
		cancel()
		d.hub.Redescribe(id)
		switch { // the new factory is in place whatever came of the start
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
}

// restoreEntry puts name's running entry back into after: its change did
// not apply.
func restoreEntry(after, running []config.Connector, name string) {
	for i := range after {
		if after[i].Name != name {
			continue
		}
		for _, c := range running {
			if c.Name == name {
				after[i] = c
			}
		}
	}
}

// restartable is the running connector id when it is named name and can
// be rebuilt.
func (d *daemon) restartable(id int, name string) *connector.Restartable {
	r, ok := d.hub.ConnectorAt(id).(*connector.Restartable)
	if !ok || r.Name() != name {
		return nil
	}
	return r
}

// removeConnectors takes the connectors p removes out of service, once the
// routes without them are installed: each one's queue is routed again by
// those routes (what no route takes fails as undeliverable, refunded, with
// its receipt), what it has in flight upstream gets its answers within
// [smpp-server] shutdown_grace. Called with d.mu held.
func (d *daemon) removeConnectors(p *connectorPlan, res *reloadResult) {
	for _, name := range p.remove {
		if err := d.removeConnector(name); err != nil {
			res.Failed = append(res.Failed, name)
			continue
		}
		res.Removed = append(res.Removed, name)
	}
	if len(p.remove) > 0 {
		d.attachConnectors()
	}
}

// removeConnector removes one running connector (its routes must be gone
// already) and drops it from d.cfg.Connectors. Called with d.mu held.
func (d *daemon) removeConnector(name string) error {
	id, ok := d.connIDs.id(name)
	if !ok {
		return fmt.Errorf("connector %q has no id", name)
	}
	// One with no upstream bind is not waited for (RemoveConnector gives
	// back what it holds at once and reports it not drained): that is no
	// shutdown_grace cut, and the log must not say so.
	bound := false
	if c := d.hub.ConnectorAt(id); c != nil {
		bound = c.Up()
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Server.ShutdownGrace.D())
	drained, err := d.hub.RemoveConnector(ctx, id)
	cancel()
	if err != nil && !errors.Is(err, flow.ErrConnectorVacant) {
		d.log.Error().Str("event", "connector_remove").Str("connector", name).Err(err).
			Msg("connector removed with an error; what it gave back was routed again")
	}
	switch {
	case drained || err != nil:
	case !bound:
		d.log.Info().Str("event", "connector_remove").Str("connector", name).
			Msg("connector removed with no upstream bind: what it held was given back at once")
	default:
		d.log.Warn().Str("event", "connector_remove").Str("connector", name).
			Msg("connector removed before its upstream answered everything in flight (shutdown_grace)")
	}
	d.cfg.Connectors = dropEntry(d.cfg.Connectors, name)
	d.metrics.ForgetLatency(name)
	return nil
}

// attachConnectors hands the metrics the connectors running now.
func (d *daemon) attachConnectors() {
	var run []connector.Connector
	for _, in := range d.hub.Connectors() {
		run = append(run, d.hub.ConnectorAt(in.ID))
	}
	d.msrc.Connectors = run
	d.metrics.Attach(d.msrc)
}

// running drops the vacant ids' stand-ins.
func running(conns []connector.Connector) []connector.Connector {
	var out []connector.Connector
	for _, c := range conns {
		if _, vacant := c.(flow.Vacant); !vacant {
			out = append(out, c)
		}
	}
	return out
}

// reloadResult is what a reload did: admin.ReloadResult.
type reloadResult = admin.ReloadResult

// adminReload is POST /v1/reload: the SIGHUP reload.
func (d *daemon) adminReload() (admin.ReloadResult, error) { return d.reload() }

// checkRoutes compiles cfg's routes against the connectors that will run
// after the reload (p applied), before anything is applied, so a route
// naming a connector that will not run refuses the whole reload and the
// previous configuration stays.
func (d *daemon) checkRoutes(cfg *config.Config, p *connectorPlan) error {
	rc := *cfg
	rc.Connectors = p.after(d.cfg.Connectors, cfg.Connectors)
	names := append([]string(nil), d.connIDs.names...)
	for _, c := range rc.Connectors {
		if _, ok := d.connIDs.id(c.Name); !ok {
			names = append(names, c.Name) // the id it will get
		}
	}
	ids := make([]string, len(names))
	for i, n := range names {
		if hasEntry(rc.Connectors, n) {
			ids[i] = n
		}
	}
	_, err := compileRoutes(&rc, ids)
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
