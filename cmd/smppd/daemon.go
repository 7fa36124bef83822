package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/audit"
	"github.com/smppd/smppd/cdr"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/httpapi"
	"github.com/smppd/smppd/internal/netguard"
	"github.com/smppd/smppd/metrics"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

// daemon is one running smppd: every component, in start order.
type daemon struct {
	log  zerolog.Logger
	path string // the config file, re-read by reloads

	mu  sync.Mutex     // serialises reloads
	cfg *config.Config // as last loaded (connector settings: as started)

	users   *accounts.Store
	file    *usersFile
	store   storage.Store
	conns   []connector.Connector
	router  *routing.Router
	hub     *flow.Hub
	dl      *delivery.Service
	webhook *webhook.Service // HTTP callbacks: receipts to dlr-urls, MO to URLs
	guard   *netguard.Guard  // the addresses callbacks may reach (dlrGuard); a reload sets its lists
	srv     *engine.Server
	admin   *admin.Server
	audit   *audit.Log // with the admin API: its changes
	metrics *metrics.Metrics
	// tls serves [smpp-server.tls]; nil without it. SIGHUP swaps its settings.
	tls *tlsListener
	// stopTakeover ends a cluster node's watch for departed nodes.
	stopTakeover func()
	// http is the customers' HTTP API; nil without [http-api] enabled.
	http *httpapi.Server
	// cdr is the CDR stream; nil without [cdr].
	cdr *cdr.Stream
	// pex are the policy's portability lookup, [[limit]] buckets and
	// per-route counts (policyextras.go).
	pex *policyExtras
	// early serves the engine while this process waits for the data
	// directory (reuse_port with -lock-wait: handover.go); nil otherwise.
	early *handover
	// connIDs are the connectors' routing ids (connids.go); msrc what the
	// metrics read, re-attached when connectors change live.
	connIDs *connIDs
	msrc    metrics.Sources

	stopPersist chan struct{}
	persistDone chan struct{}
}

// newDaemon builds every component from cfg without starting any; tune,
// when set, adjusts the engine's options (tests).
func newDaemon(cfg *config.Config, log zerolog.Logger, tune func(*engine.Options)) (*daemon, error) {
	return newDaemonWaiting(cfg, log, tune, 0)
}

// newDaemonWaiting is newDaemon waiting up to lockWait for another process
// to release the data directory (smppd -lock-wait, an upgrade): nothing
// listens before the store is locked and recovered, unless reuse_port lets
// the SMPP listeners open first (listenEarly: binds taken, submits held).
func newDaemonWaiting(cfg *config.Config, log zerolog.Logger, tune func(*engine.Options), lockWait time.Duration) (_ *daemon, err error) {
	// Before the store and the CDR stream: the heap profile covers them.
	heapProfiling(cfg.Admin.Enabled && cfg.Admin.Pprof)
	d := &daemon{log: log, path: cfg.Path, cfg: cfg, file: &usersFile{log: log}}
	d.file.update(cfg)
	au, err := accountUsers(cfg.Users)
	if err != nil {
		return nil, err
	}
	// The store first: the balances come from its ledger, and it takes
	// each user's share of the held items once the users exist.
	shares := &heldShares{callbacks: cfg.Webhook.Pending(&cfg.Delivery)}
	if lockWait > 0 && cfg.Server.ReusePort {
		// Listen beside the running smppd while waiting (handover.go).
		if err := d.listenEarly(cfg, au, shares, tune, lockWait); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				d.stopEngine() // unbinds what bound during the wait
			}
		}()
	}
	if d.store, err = openStore(cfg, shares.limit, lockWait, log); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.closeStore() // a durable store unlocks its directory
		}
	}()
	so := storeOptions(cfg)
	switch {
	case cfg.Cluster.Enabled:
		// Every node reads the same file: none may write its own view back.
		log.Info().Str("event", "config").Msg("cluster: the users file is read, never rewritten; balances come from the cluster's ledger")
	case cfg.UsersPath != "":
		so.Persist = d.file.persist
	default:
		log.Warn().Str("event", "config").Msg("no users file: run-time user changes and balances are not saved")
	}
	if cfg.Storage.Disk() || cfg.Cluster.Enabled {
		so.Ledger = newLedger(d.store.Ledger())
	}
	if d.users, err = d.accountsStore(au, cfg, so); err != nil {
		return nil, err
	}
	// A cluster node: bind limits count every node's binds; users,
	// balances and quotas come from the cluster.
	if err = shareCluster(d.store, d.users, log); err != nil {
		return nil, err
	}
	shares.users.Store(d.users)
	ids, err := newIDs(idNode(cfg), d.store, log)
	if err != nil {
		return nil, err
	}
	if d.connIDs, err = openConnIDs(cfg); err != nil {
		return nil, err
	}
	if d.conns, err = newConnectors(cfg, d.connIDs, connectorIDs(d.store, log), log); err != nil {
		return nil, err
	}
	tb, err := compileRoutes(cfg, d.connIDs.routing(cfg.Connectors))
	if err != nil {
		return nil, err
	}
	d.router = routing.NewRouter(tb)
	names := tb.ConnectorNames() // "" for a removed connector's id: not sampled
	d.metrics = metrics.New(metrics.Options{Connectors: names})
	if err := currentBuild().register(d.metrics.Registry()); err != nil {
		return nil, err
	}
	if d.webhook, err = newWebhook(cfg, d, log); err != nil {
		return nil, err
	}
	if d.cdr, err = openCDR(cfg, d.store, d.connIDs.name, log); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.closeCDR() // unlocks its directory
		}
	}()
	if err := registerCDR(d.metrics.Registry(), d.cdr); err != nil {
		return nil, err
	}
	if err := registerCluster(d.metrics.Registry(), d.store); err != nil {
		return nil, err
	}
	d.pex = newPolicyExtras()
	d.pex.lookup.SetLog(log) // lookup_failed, lookup_paused
	if err := d.pex.loadPolicy(cfg); err != nil {
		return nil, err
	}
	// A cluster node: list edits and [[limit]] rates are cluster-wide.
	if err = d.sharePolicy(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.pex.close()
		}
	}()
	if d.hub, d.dl, err = newPaths(cfg, d.router, d.conns, d.store, d.users, ids, d.metrics, d.webhook, d.cdr, d.pex, log); err != nil {
		return nil, err
	}
	heldElsewhere(d.store, d.dl.HeldElsewhere)
	if err := registerShared(d.metrics.Registry(), d.store, d.hub, names); err != nil { // a cluster node's shared queues
		return nil, err
	}
	if d.early == nil { // else listening already
		if err := d.newEngine(cfg, ids, tune); err != nil {
			return nil, err
		}
	}
	if cfg.Admin.Enabled {
		tokens, err := adminTokens(cfg)
		if err != nil {
			return nil, err
		}
		if d.audit, err = openAudit(cfg, log); err != nil {
			return nil, err
		}
		d.admin = admin.New(admin.Options{
			Addr:         net.JoinHostPort(cfg.Admin.Bind, strconv.Itoa(cfg.Admin.Port)),
			Token:        cfg.Admin.Token,
			Tokens:       tokens,
			Audit:        d.audit,
			AllowedHosts: cfg.Admin.AllowedHosts,
			MO:           d.dl,
			Ready:        d.ready,
			ErrorStatus:  moErrorStatus,
			Sessions:     d.srv,
			Users:        d.users,
			Connectors:   d.hub,
			ConnEditor:   connectorEdit{d},
			Router:       d.router,
			Routes:       routeConfig(cfg, d.connIDs.routing(cfg.Connectors)),
			LoadRoutes:   d.loadRoutes,
			StopGrace:    cfg.Server.ShutdownGrace.D(),
			DeadLetters:  deadLetters(d.store.DeadLetters()),
			Traffic:      &traffic{store: d.store, dl: d.dl, webhook: d.webhook, hub: d.hub},
			Reload:       d.adminReload,
			Messages:     messageLookup(cfg, d.store, d.cdr, d.connIDs.name),
			LogPrivacy:   cfg.Server.LogPrivacy,
			Build:        currentBuild().forAdmin(),
			Logger:       log,
		})
		// Behind the admin token like every other endpoint.
		d.admin.Handle("GET /metrics", d.metrics.Handler().ServeHTTP)
		if cfg.Admin.Pprof {
			d.admin.HandlePprof()
		}
		if h := clusterHandler(d.store); h != nil {
			d.admin.Handle("GET /v1/cluster", h)
		}
		d.policyAdminRoutes()
	}
	src := metrics.Sources{Engine: d.srv, Hub: d.hub, Deliveries: d.dl, Connectors: running(d.conns), Storage: d.store, Accounts: d.users}
	d.pex.metricsSources(&src)
	if d.admin != nil {
		src.Admin = d.admin
	}
	d.msrc = src
	d.metrics.Attach(src)
	if d.http, err = newHTTPAPI(cfg, d, log); err != nil {
		return nil, err
	}
	return d, nil
}

// start brings the components up: the delivery side before the hub, whose
// connectors may report at once; the hub (connectors) before the engine,
// so the first submit finds its connector; then what a durable store kept
// of the last run is re-driven, before any traffic; the admin listener
// last.
func (d *daemon) start() error {
	d.dl.Attach(d.srv)
	d.hub.Attach(d.srv)
	if d.early != nil {
		d.early.attach(d.hub, d.dl, d.metrics.SubmitLatency())
	}
	if err := d.webhook.Start(); err != nil { // first: it takes up what a previous run left pending
		return err
	}
	if d.cdr != nil {
		d.cdr.Start() // before the hub: recovered messages may end at once
	}
	if err := d.dl.Start(); err != nil {
		return err
	}
	if err := d.hub.Start(); err != nil {
		d.dl.Stop(context.Background())
		return err
	}
	if err := d.hub.Recover(d.store); err != nil {
		d.stopHub()
		return fmt.Errorf("re-driving the stored messages: %w", err)
	}
	if d.early != nil {
		d.openEarly() // listening since before the lock: serve its submits now
	} else if err := d.srv.Start(); err != nil {
		d.stopHub()
		return err
	}
	if err := d.startHTTP(); err != nil { // the customers' HTTP API: the hub takes its submits
		d.stopEngine()
		d.stopHub()
		return err
	}
	if d.admin != nil {
		if err := d.admin.Start(); err != nil {
			d.stopHTTP(time.Second)
			d.stopEngine()
			d.stopHub()
			return err
		}
	}
	d.stopTakeover = startTakeover(d.store, d.hub, d.webhook) // a cluster node: departed nodes' messages
	d.shareStatus()                                           // a cluster node: its sessions and queues in its heartbeat
	// A cluster node: its connectors' shared queues.
	if err := startShared(d.store, d.hub, len(d.conns), d.connIDs.name, d.log); err != nil {
		d.stopTakeover()
		d.stopHTTP(time.Second)
		d.stopEngine()
		d.stopHub()
		return fmt.Errorf("shared connector queues: %w", err)
	}
	d.stopPersist, d.persistDone = make(chan struct{}), make(chan struct{})
	go d.persistLoop()
	b := currentBuild()
	ev := d.log.Info().Str("event", "start").Str("version", b.Version).Str("commit", b.Commit).
		Str("config", d.cfg.Path).Str("smpp", d.srv.Addr().String()).
		Int("users", len(d.cfg.Users)).Int("connectors", len(d.cfg.Connectors))
	if d.admin != nil {
		ev = ev.Str("admin", d.admin.Addr().String())
	}
	ev.Msg("smppd running")
	return nil
}

// stop drains in order: the engine unbinds the ESMEs (no new submits, no
// new deliveries) and waits for outstanding responses, deliver_sm_resp
// included (what is not answered stays held in the store); then the
// connectors drain their queues, still storing what their upstreams
// deliver before answering it (with the disk store what is left stays
// pending for the next start; with the memory store it is failed:
// refunded, receipts asked for held); then the delivery side; the store is
// closed last, once nothing writes to it, and balances are saved. Within
// shutdown_grace for each step.
func (d *daemon) stop() {
	grace := d.cfg.Server.ShutdownGrace.D()
	d.srv.StopAccepting() // first: with reuse_port new connections go to the successor now
	if d.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = d.admin.Shutdown(ctx)
		cancel()
		if err := d.audit.Close(); err != nil {
			d.log.Error().Str("event", "shutdown").Err(err).Msg("closing the audit log")
		}
	}
	if d.stopTakeover != nil {
		d.stopTakeover()
	}
	d.stopHTTP(grace) // no new HTTP submits while the engine and the hub drain
	d.stopEngineWithin(grace)
	// A cluster node takes nothing more from its shared queues, and
	// publishes what it spilled (5 s at most) before its store closes.
	stopPulling(d.store)
	d.stopHubWithin(grace)
	closeShared(d.store)
	d.pex.close() // its workers: nothing asks the lookup any more
	d.closeCDR()
	d.closeStore()
	if d.stopPersist != nil {
		close(d.stopPersist)
		<-d.persistDone
	}
	d.persist("shutdown")
}

func (d *daemon) stopEngine() { d.stopEngineWithin(time.Second) }
func (d *daemon) stopHub()    { d.stopHubWithin(time.Second) }

func (d *daemon) stopEngineWithin(grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := d.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, engine.ErrNotRunning) {
		d.log.Error().Str("event", "shutdown").Err(err).Msg("engine shutdown")
	}
}

func (d *daemon) stopHubWithin(grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := d.hub.Stop(ctx); err != nil {
		d.log.Error().Str("event", "shutdown").Err(err).Msg("connector shutdown")
	}
	d.dl.Stop(ctx) // after the connectors: their last failures send receipts
	d.stopWebhook(ctx)
	st := d.store.Stats()
	hs := d.hub.Stats()
	ev := d.log.Info().Str("event", "drained").Int("records", st.Records).Int("undelivered", d.dl.Undelivered()).
		Int("held", st.Held).Uint64("kept_pending", hs.KeptAtStop)
	if d.cfg.Storage.Disk() {
		ev.Msg("connectors stopped; pending messages, held receipts and MO and the records stay in the store for the next start")
		return
	}
	ev.Msg("connectors stopped; undelivered receipts and MO and the records in memory are lost at exit (storage kind = \"memory\")")
}

// closeStore closes the message store once nothing writes to it any more
// (the hub and its connectors stopped).
func (d *daemon) closeStore() {
	if err := d.store.Close(); err != nil {
		d.log.Error().Str("event", "shutdown").Err(err).Msg("closing the message store")
	}
}

// persistLoop writes live balances and used quotas back periodically.
func (d *daemon) persistLoop() {
	defer close(d.persistDone)
	t := time.NewTicker(persistEvery)
	defer t.Stop()
	for {
		select {
		case <-d.stopPersist:
			return
		case <-t.C:
			d.persist("periodic")
		}
	}
}

func (d *daemon) persist(why string) {
	wrote, err := d.users.Persist()
	switch {
	case err != nil:
		d.log.Error().Str("event", "users_save").Str("why", why).Err(err).Msg("users file not written; will retry")
	case wrote:
		d.log.Info().Str("event", "users_save").Str("why", why).Msg("users file written")
	}
}

// ready is GET /v1/ready: serving, the store taking submits, and at
// least one connector up.
func (d *daemon) ready() error {
	if err := storeReady(d.store.Stats()); err != nil {
		return err
	}
	if err := cdrReady(d.cdr, time.Now()); err != nil {
		return err
	}
	for _, c := range d.hub.Connectors() {
		if c.Up {
			return nil
		}
	}
	return errors.New("no connector is up")
}

// reload re-reads the config (SIGHUP): the TLS certificate and client
// authentication, connectors, users and groups, then routes. Bound
// sessions stay up. A route naming a connector that will not run refuses
// the whole reload; connectors are added, changed in place (drained and
// rebound) and, once the new routes are in, removed (reloadconn.go); the
// listeners need a restart and are reported.
func (d *daemon) reload() (reloadResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cfg, _, err := loadConfig(d.path)
	if err != nil {
		d.log.Error().Str("event", "reload").Err(err).Msg("reload failed; previous users, routes and TLS certificate stay in force")
		return reloadResult{}, err
	}
	return d.reloadWith(cfg, nil)
}

// reloadWith applies cfg (loaded and checked); commit, when set, runs
// once nothing can refuse cfg any more, before anything is applied (the
// admin API's connector change writes its file there). Called with d.mu
// held.
func (d *daemon) reloadWith(cfg *config.Config, commit func() error) (reloadResult, error) {
	var res reloadResult
	plan := d.planReload(cfg, &res)
	if err := d.checkRoutes(cfg, &plan); err != nil {
		d.log.Error().Str("event", "reload").Err(err).Msg("reload refused: the routes do not compile against the connectors that would run; the previous configuration stays in force")
		return reloadResult{}, err
	}
	if commit != nil {
		if err := commit(); err != nil {
			return reloadResult{}, err
		}
	}
	keepRunning(d.cfg, cfg)
	if err := d.applyConnectors(cfg, &plan, &res); err != nil {
		d.log.Error().Str("event", "reload").Err(err).Msg("reload refused: an added connector does not build; the previous configuration stays in force")
		return reloadResult{}, err
	}
	d.reloadAdminTokens(cfg)
	d.reloadTLS(cfg)
	d.reloadGuard(cfg) // before the routes: a new [[mo_route]] url was checked against the new lists
	if err := d.reloadUsers(cfg); err != nil {
		d.log.Error().Str("event", "reload").Err(err).Msg("users reload failed; previous users and routes stay in force")
		return reloadResult{}, err
	}
	n, err := d.swapRoutes(cfg)
	if err != nil {
		d.log.Error().Str("event", "reload").Err(err).Msg("routes reload failed; previous routes stay in force")
		return reloadResult{}, err
	}
	d.removeConnectors(&plan, &res)    // after the routes: their queues go by them
	_ = d.pex.reloadPolicy(cfg, d.log) // logged; the previous policy stays on an error
	d.log.Info().Str("event", "reload").Int("users", len(cfg.Users)).Int("groups", len(cfg.Groups)).
		Int("routes", n).Msg("users, groups and routes reloaded")
	res.Users, res.Routes = len(cfg.Users), n
	return res, nil
}

func (d *daemon) reloadUsers(cfg *config.Config) error {
	if d.users.Shared() {
		d.log.Info().Str("event", "reload").Msg("cluster: users and groups live in the cluster, the users file is not reloaded; change them with the operations API")
		return nil
	}
	err := d.users.ReloadWith(func() ([]accounts.User, []accounts.Group, error) {
		u, err := accountUsers(cfg.Users)
		return u, accountGroups(cfg.Groups), err
	})
	if err != nil {
		return err
	}
	d.file.update(cfg)
	return nil
}

// swapRoutes compiles cfg's routes against cfg's connectors (those that
// run once the reload is done) and installs them atomically; messages
// already routed are not affected.
func (d *daemon) swapRoutes(cfg *config.Config) (int, error) {
	ids := d.connIDs.routing(cfg.Connectors)
	tb, err := compileRoutes(cfg, ids)
	if err != nil {
		return 0, err
	}
	d.router.Swap(tb)
	if d.admin != nil {
		d.admin.SetRoutes(routeConfig(cfg, ids))
	}
	conns := d.cfg.Connectors
	d.cfg = cfg
	d.cfg.Connectors = conns
	return len(cfg.MTRoutes) + len(cfg.MORoutes), nil
}

// loadRoutes re-reads the config's routes for the admin API's reload,
// checked against the running connectors (admin refuses a change of them).
func (d *daemon) loadRoutes() (routing.Config, error) {
	cfg, _, err := loadConfig(d.path)
	if err != nil {
		return routing.Config{}, err
	}
	d.mu.Lock()
	ids := d.connIDs.routing(d.cfg.Connectors)
	d.mu.Unlock()
	return routeConfig(cfg, ids), nil
}

// moErrorStatus maps the hub's InjectMO errors onto HTTP answers.
func moErrorStatus(err error) (int, string) {
	switch {
	case errors.Is(err, delivery.ErrUnknownUser):
		return http.StatusNotFound, "unknown_user"
	case errors.Is(err, delivery.ErrNoMORoute):
		return http.StatusUnprocessableEntity, "no_route"
	case errors.Is(err, delivery.ErrBadMO):
		return http.StatusUnprocessableEntity, "bad_mo"
	case errors.Is(err, storage.ErrHeldFull):
		return http.StatusServiceUnavailable, "held_full"
	}
	return http.StatusInternalServerError, "internal"
}
