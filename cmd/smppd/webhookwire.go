package main

import (
	"context"
	"math"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/internal/netguard"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

// newWebhook builds the HTTP callback sender: receipts to the dlr-url of
// messages submitted over HTTP, MO to the url of an [[mo_route]]. It
// holds its callbacks in the store ([webhook] limits, [delivery] backoff
// and lifetime), signs them with the users' callback_secret and the MO
// routes' secret as they stand at each attempt, and registers its
// metrics. Built before the message paths, which hand it their hooks.
func newWebhook(cfg *config.Config, d *daemon, log zerolog.Logger) (*webhook.Service, error) {
	w, dl := &cfg.Webhook, &cfg.Delivery
	guard, err := d.dlrGuard(cfg)
	if err != nil {
		return nil, err
	}
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "smppd_webhook_request_seconds",
		Help:    "Seconds one HTTP callback attempt took, connection to the end of the answer (timeouts included).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}})
	s, err := webhook.New(webhook.Options{
		Holds:               d.store.Holds(),
		Node:                webhookNode(cfg),
		DeadLetters:         d.store.DeadLetters(),
		Callbacks:           d.store.Callbacks(),
		UpstreamIDs:         d.store,
		Secrets:             webhook.SecretsFunc(d.callbackSecret),
		MORoutes:            moURLRoutes{d.router},
		ConnectorName:       d.connectorName,
		Timeout:             w.Timeout.D(),
		MaxPerTarget:        w.MaxPerTarget,
		MaxPending:          w.Pending(dl),
		MaxPendingPerTarget: w.PendingPerTarget(dl),
		HoldLifetime:        dl.HoldLifetime.D(),
		RetryMin:            dl.RetryMin.D(),
		RetryMax:            dl.RetryMax.D(),
		ReceiptAckBody:      w.ReceiptAckBody,
		ReceiptZone:         dl.ReceiptLocation,
		Latency:             latency,
		Guard:               guard,
		Logger:              log,
	})
	if err != nil {
		return nil, err
	}
	reg := d.metrics.Registry()
	denied := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "smppd_webhook_address_denied_total",
		Help: "Callback connections (receipts to a dlr-url, MO to an [[mo_route]] url) refused because the host resolved to an " +
			"address of [webhook] deny_networks not in allow_networks (each callback refused is a permanent failure, a dead letter)."},
		func() float64 { _, n := guard.Refusals(); return float64(n) })
	for _, c := range []prometheus.Collector{latency, webhookCollector{s}, denied} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// webhookNode is the node whose queue holds this node's callbacks
// (webhook.QueueOf): [cluster] node_id in a cluster, else 0.
func webhookNode(cfg *config.Config) int {
	if cfg.Cluster.Enabled {
		return cfg.Cluster.NodeID
	}
	return 0
}

// dlrGuard is the check of the addresses callbacks may reach ([webhook]
// deny_networks and allow_networks): customers' dlr-urls and the MO
// routes' urls. The HTTP API refuses a denied literal dlr-url at once, the
// config load a denied MO url, the sender checks the address dialled. One
// guard serves both, so a reload's lists reach both (reloadGuard).
func (d *daemon) dlrGuard(cfg *config.Config) (*netguard.Guard, error) {
	if d.guard != nil {
		return d.guard, nil
	}
	deny, allow, err := cfg.Webhook.Networks()
	if err != nil {
		return nil, err
	}
	d.guard = netguard.New(deny, allow)
	return d.guard, nil
}

// reloadGuard puts cfg's [webhook] networks in force: the reload's config
// load checked the [[mo_route]] urls against them, and the sender now
// dials through them too.
func (d *daemon) reloadGuard(cfg *config.Config) {
	if d.guard == nil {
		return
	}
	deny, allow, err := cfg.Webhook.Networks()
	if err != nil { // the load validated them
		d.log.Error().Str("event", "reload").Err(err).Msg("[webhook] networks not read; the previous ones stay in force")
		return
	}
	d.guard.Set(deny, allow)
}

// callbackSecret resolves a webhook SecretRef: a user's callback_secret
// or an MO route's secret, as they stand now (a reload rotates them for
// what is pending).
func (d *daemon) callbackSecret(ref string) []byte {
	if id, ok := strings.CutPrefix(ref, "user:"); ok {
		if u, ok := d.users.Lookup(id); ok && u.CallbackSecret != "" {
			return []byte(u.CallbackSecret)
		}
		return nil
	}
	if name, ok := strings.CutPrefix(ref, "route:"); ok {
		if r := d.router.Load().MORoute(name); r != nil && r.Secret != "" {
			return []byte(r.Secret)
		}
	}
	return nil
}

// connectorName names a routing table connector id for the receipts'
// connector parameter: from the id table, which grows as connectors are
// added live and keeps removed ones' names.
func (d *daemon) connectorName(id int) string {
	if id < 0 || id > math.MaxInt32 {
		return ""
	}
	return d.connIDs.name(int32(id))
}

// moURLRoutes gives the webhook an MO route's url, method and ack_body
// from the table in force.
type moURLRoutes struct{ r *routing.Router }

func (m moURLRoutes) MORoute(name string) (webhook.MORoute, bool) {
	r := m.r.Load().MORoute(name)
	if r == nil || r.URL == "" {
		return webhook.MORoute{}, false
	}
	method := storage.CallbackPOST
	if r.Method == "GET" {
		method = storage.CallbackGET
	}
	return webhook.MORoute{URL: r.URL, Method: method, AckBody: r.AckBody}, true
}

// stopWebhook stops sending callbacks, after the delivery side (whose
// last receipts may make some): what is pending stays held for the next
// start.
func (d *daemon) stopWebhook(ctx context.Context) {
	d.webhook.Stop(ctx)
	d.log.Info().Str("event", "webhook_stopped").Int("pending", d.webhook.Pending()).
		Msg("HTTP callbacks stopped; pending ones stay held in the store")
}

// webhookCollector reads the sender's counters at scrape time.
type webhookCollector struct{ s *webhook.Service }

var (
	whOutcome = prometheus.NewDesc("smppd_webhook_callbacks_total",
		"HTTP callbacks (kind receipt or mo) by outcome: enqueued (kept and queued), sent (2xx, with the ack body when asked), "+
			"retried (an attempt failed, another is scheduled), permanent (a 4xx other than 408/429: dead letter), "+
			"expired (not delivered within hold_lifetime: dead letter), refused (not kept: bad url, max_pending, "+
			"max_pending_per_target or the store).", []string{"kind", "outcome"}, nil)
	whRestored = prometheus.NewDesc("smppd_webhook_restored_total",
		"HTTP callbacks a previous run left pending, taken up at start.", nil, nil)
	whTakenOver = prometheus.NewDesc("smppd_webhook_taken_over_total",
		"HTTP callbacks pending on a departed cluster node that this node took over and sends.", nil, nil)
	whStoreErr = prometheus.NewDesc("smppd_webhook_store_errors_total",
		"HTTP callback store operations (hold, ack, lease, dead letter) that failed.", nil, nil)
	whPending = prometheus.NewDesc("smppd_webhook_pending",
		"HTTP callbacks in memory now: ready, in flight or waiting for a retry ([webhook] max_pending).", nil, nil)
	whWaiting = prometheus.NewDesc("smppd_webhook_waiting_retry",
		"HTTP callbacks waiting for their next attempt.", nil, nil)
	whTargets = prometheus.NewDesc("smppd_webhook_targets",
		"Targets (scheme, host and port) with HTTP callbacks pending.", nil, nil)
)

func (c webhookCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{whOutcome, whRestored, whTakenOver, whStoreErr, whPending, whWaiting, whTargets} {
		ch <- d
	}
}

func (c webhookCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	for _, k := range []struct {
		kind string
		s    *webhook.KindStats
	}{{"receipt", &st.Receipts}, {"mo", &st.MO}} {
		for _, o := range []struct {
			outcome string
			v       uint64
		}{{"enqueued", k.s.Enqueued}, {"sent", k.s.Sent}, {"retried", k.s.Retried}, {"permanent", k.s.Permanent},
			{"expired", k.s.Expired}, {"refused", k.s.Refused}} {
			ch <- prometheus.MustNewConstMetric(whOutcome, prometheus.CounterValue, float64(o.v), k.kind, o.outcome)
		}
	}
	ch <- prometheus.MustNewConstMetric(whRestored, prometheus.CounterValue, float64(st.Restored))
	ch <- prometheus.MustNewConstMetric(whTakenOver, prometheus.CounterValue, float64(st.TakenOver))
	ch <- prometheus.MustNewConstMetric(whStoreErr, prometheus.CounterValue, float64(st.StoreErrors))
	ch <- prometheus.MustNewConstMetric(whPending, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(whWaiting, prometheus.GaugeValue, float64(st.Waiting))
	ch <- prometheus.MustNewConstMetric(whTargets, prometheus.GaugeValue, float64(st.Targets))
}
