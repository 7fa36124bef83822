package main

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/cdr"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/internal/logthrottle"
	"github.com/smppd/smppd/metrics"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

// connectorIDs is the store's upstream id map as connectors see it
// (connector.IDMap): an upstream id the store refuses is logged, throttled;
// the connector keeps it in memory for its receipt and stores it once the
// store takes it (smppd_connector_upstream_ids_not_kept_total). Only one
// dropped unstored (too many waiting, or a crash first) leaves its receipt
// unknown: a dead letter (empty and over-long ids also count in
// smppd_storage_upstream_ids_rejected_total).
func connectorIDs(ids storage.UpstreamIDs, log zerolog.Logger) connector.IDMap {
	gate := logthrottle.New(10*time.Second, 1)
	m := storeIDs{ConnectorIDs: storage.ConnectorIDs{IDs: ids, Failed: func(conn int, upstreamID []byte, err error) {
		gate.Event(&log, zerolog.WarnLevel, time.Now().UnixNano()).Str("event", "storage").Int("connector", conn).
			Bytes("upstream_id", upstreamID).Err(err).Msg("upstream message id not stored: the connector keeps it in memory and stores it once the store takes it")
	}}}
	if s, ok := ids.(interface{ Holds() storage.Holds }); ok {
		m.holds = s.Holds()
	}
	if c, ok := ids.(clusterStore); ok {
		m.bindShare = c.node.BindShare // cluster_binds over the live nodes
	}
	return m
}

// storeIDs is the id map connectors get, with the store's held items for
// their parked receipts (parker.go).
type storeIDs struct {
	storage.ConnectorIDs
	holds     storage.Holds
	bindShare func(connector string, limit, perBind int) int // a cluster node's (cluster.Node.BindShare)
}

// newConnectors builds every [[connector]], each by its kind from its
// settings (connectorKind), indexed by its routing id in tab (connids.go);
// an id no configured connector has holds a flow.Vacant. The operator may
// stop and start one (admin API): a restart builds a fresh instance from
// the same settings. tab nil: ids are positions (tests).
func newConnectors(cfg *config.Config, tab *connIDs, ids connector.IDMap, log zerolog.Logger) ([]connector.Connector, error) {
	if tab == nil {
		tab = &connIDs{ids: map[string]int{}}
		if _, err := tab.assign(entryNames(cfg.Connectors)); err != nil {
			return nil, err
		}
	}
	out := make([]connector.Connector, tab.len())
	for id, name := range tab.names {
		out[id] = flow.Vacant(name)
	}
	for i := range cfg.Connectors {
		id, _ := tab.id(cfg.Connectors[i].Name)
		c, err := buildConnector(cfg, i, id, ids, log)
		if err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, nil
}

// buildConnector builds cfg's i-th connector, unstarted, under routing id.
func buildConnector(cfg *config.Config, i, id int, ids connector.IDMap, log zerolog.Logger) (*connector.Restartable, error) {
	kind, build, err := connectorFactory(cfg, i, id, ids, log)
	if err != nil {
		return nil, err
	}
	c, err := build()
	if err != nil {
		return nil, fmt.Errorf("connector %q: %w", cfg.Connectors[i].Name, err)
	}
	return connector.NewRestartable(kind, c, build), nil
}

// connectorFactory returns the kind of cfg's i-th connector and what
// builds it under routing id: at start, and for a reload that changed it.
func connectorFactory(cfg *config.Config, i, id int, ids connector.IDMap, log zerolog.Logger) (string, connector.Factory, error) {
	cn := &cfg.Connectors[i]
	k, settings, _, err := connectorKind(cfg, i)
	if err != nil {
		return "", nil, err
	}
	b := connector.Build{Name: cn.Name, ID: id, Queue: cn.Queue, IDMap: ids, Log: log,
		DefaultValidity: cfg.Delivery.DefaultValidity.D()}
	if si, ok := ids.(storeIDs); ok && si.bindShare != nil {
		share, name := si.bindShare, cn.Name
		b.BindShare = func(limit, perBind int) int { return share(name, limit, perBind) }
	}
	if si, ok := ids.(storeIDs); ok && si.holds != nil && cfg.Storage.Disk() {
		b.Parker = storeParker{holds: si.holds, queue: parkQueue + cn.Name, life: cfg.Delivery.HoldLifetime.D()}
	}
	return k.Name, func() (connector.Connector, error) { return k.Build(settings, b) }, nil
}

// compileRoutes builds the routing table from [[mt_route]] and [[mo_route]],
// checked against the configured connectors, users and groups; an error
// names the key and line in the config. ids are the connector names by
// routing id (connIDs.routing); nil: their positions in cfg.
func compileRoutes(cfg *config.Config, ids []string) (*routing.Table, error) {
	t, err := routing.Compile(routeConfig(cfg, ids))
	var ce *routing.ConfigError
	if errors.As(err, &ce) {
		return nil, cfg.ErrorAt(ce.Key, ce.Error())
	}
	return t, err
}

// routeConfig maps the config's routes, connectors, users and groups onto
// routing's input; ids as compileRoutes.
func routeConfig(cfg *config.Config, ids []string) routing.Config {
	rc := routing.Config{
		MT:         make([]routing.MTRouteConfig, len(cfg.MTRoutes)),
		MO:         make([]routing.MORouteConfig, len(cfg.MORoutes)),
		Connectors: slices.Clone(ids),
		Users:      make([]string, len(cfg.Users)),
		Groups:     make([]string, 0, len(cfg.Groups)),
	}
	if ids == nil {
		rc.Connectors = entryNames(cfg.Connectors)
	}
	for i, u := range cfg.Users {
		rc.Users[i] = u.SystemID
	}
	for _, g := range cfg.Groups {
		rc.Groups = append(rc.Groups, g.Name)
	}
	for i, r := range cfg.MTRoutes {
		rc.MT[i] = routing.MTRouteConfig{Name: r.Name, Kind: r.Kind, Connectors: r.Connectors, Weights: r.Weights,
			Rate: r.Rate, FilterConfig: routing.FilterConfig(r.RouteFilter)}
	}
	for i, r := range cfg.MORoutes {
		rc.MO[i] = routing.MORouteConfig{Name: r.Name, User: r.User, URL: r.URL, Method: r.Method, AckBody: r.AckBody,
			Secret: r.Secret, FilterConfig: routing.FilterConfig(r.RouteFilter)}
	}
	return rc
}

// newPaths builds the two directions of the message core from [delivery]
// and wires them together. The hub decides MT (engine → hub → connectors)
// and hands the connectors' receipts and MO on to the delivery side
// (connectors → delivery → engine), which reports back what ESMEs
// acknowledged (the hub's per-user counters) and runs the hub's sweep on
// its goroutine. obs gives the latency histograms.
func newPaths(cfg *config.Config, router *routing.Router, conns []connector.Connector, store storage.Store,
	users *accounts.Store, ids *msg.IDGen, obs *metrics.Metrics, wh *webhook.Service, cdrs *cdr.Stream, pex *policyExtras, log zerolog.Logger) (*flow.Hub, *delivery.Service, error) {
	d := &cfg.Delivery
	durable := cfg.Storage.Disk()
	// With the disk store a submit is answered once its record is written
	// (sync = "always": fsynced; else handed to the operating system).
	var committer storage.Committer
	var dests storage.Holds // submit_multi destinations until settled
	if durable {
		committer, dests = store.Committer(), store.Holds()
	}
	var hub *flow.Hub // built next: the hooks run once the paths are started
	dl, err := delivery.New(delivery.Options{
		Messages: store,
		Holds:    store.Holds(),
		Routes:   flow.MORoutes{Router: router},
		Pushes:   wh, // receipt callbacks and MO to URLs
		Users: delivery.UsersFunc(func(id string) bool {
			_, ok := users.Lookup(id)
			return ok
		}),
		Settings: delivery.Settings{
			HoldLifetime:      d.HoldLifetime.D(),
			RetryMin:          d.RetryMin.D(),
			RetryMax:          d.RetryMax.D(),
			ReassembleMO:      d.ReassembleMO,
			ReassemblyTimeout: d.ReassemblyTimeout.D(),
			MaxWaiting:        d.MaxHeld,
			ReceiptIDDecimal:  d.ReceiptIDFormat == "decimal",
			ReceiptZone:       d.ReceiptLocation,
		},
		Durable:     durable,
		DeadLetters: store.DeadLetters(),
		RetryShare:  users.HeldLimit,
		// MT asking receipts refused while a user's receivers are behind
		Backlog:        func(systemID string, on bool) { hub.SetReceiptBacklog(systemID, on) },
		ReceiptLatency: obs.ReceiptLatency(),
		Delivered:      func(systemID string, mo bool) { hub.CountDelivered(systemID, mo) },
		Sweep:          func(now int64) { hub.Sweep(now) },
		Finals:         finalsOf(cdrs), // final receipts' states to the CDR stream
		RouteCounts:    pex.routes,     // DELIVRD per MT route, for the metrics
		LogPrivacy:     cfg.Server.LogPrivacy,
		Logger:         log,
	})
	if err != nil {
		return nil, nil, err
	}
	hub, err = flow.New(flow.Options{
		Router:          router,
		Connectors:      conns,
		Messages:        store,
		Deliveries:      dl,
		Answers:         wh, // level-1 receipt callbacks
		Accounts:        users,
		Admission:       &accounts.Admission{JasminCompat: cfg.Server.JasminCompatStatus},
		IDs:             ids,
		Committer:       committer,
		Durable:         durable,
		Holds:           dests,
		MaxDeferred:     maxDeferred(cfg),
		DefaultValidity: d.DefaultValidity.D(),
		Zone:            d.ReceiptLocation,
		AcceptLatency:   obs.AcceptLatency(),
		ReceiptLatency:  obs.ReceiptLatency(),
		Finals:          finalsOf(cdrs),
		Backlog:         backlogOf(cdrs), // MT refused while the CDR writer is behind
		Shared:          sharedOf(store), // a cluster node's shared connector queues
		SpillHighWater:  cfg.Cluster.SpillHighWater,
		SpillHeldAfter:  cfg.Cluster.SpillHeldAfter.D(),
		Routes:          pex.routes,
		Policy:          pex.hook(),
		LogPrivacy:      cfg.Server.LogPrivacy,
		LogGate:         newLogGate,
		Logger:          log,
	})
	if err != nil {
		return nil, nil, err
	}
	return hub, dl, nil
}

// newLogGate throttles one kind of the hub's repeated log lines
// (flow.Options.LogGate) with the throttle every package shares.
func newLogGate(period time.Duration, burst int) flow.LogGate {
	return logthrottle.New(period, burst)
}

// maxDeferred sizes the hub's queue of submit answers waiting for the
// disk (preallocated, 56 bytes an entry): every session's max_in_flight,
// within 4096..65536. At the top, with a millisecond's fsync, it still
// answers tens of millions of submits a second.
func maxDeferred(cfg *config.Config) int {
	conns := cfg.Server.MaxConnections
	if conns <= 0 {
		conns = 1 << 16
	}
	return min(max(conns*max(cfg.Server.MaxInFlight, 1), 4096), 1<<16)
}

// persistEvery is how often live balances and used quotas are written
// back to the users file while they change.
const persistEvery = time.Minute
