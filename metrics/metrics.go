// Package metrics exports smppd's counters in the Prometheus format through
// the official client library.
//
// Nothing here runs per message. Counters and gauges are read at scrape time
// from the snapshot functions of the components (engine.Server.Stats and
// PDUCounts, flow.Hub.Stats and UserStats, delivery.Service.Stats,
// connector.Connector.Stats, storage.Store.Stats, accounts.Store,
// admin.Server's refusal and audit counts) and emitted as const metrics by one
// prometheus.Collector. The three latency histograms are the only metrics
// touched on the message path: the engine and the hub call Observe on
// histograms resolved here once per connector, which is lock-free and does
// not allocate (histogram.go: sharded by P, summed at scrape).
//
// Label values are bounded: SMPP command and status names (with catch-all
// "unknown" and "other" buckets), refusal reasons, and the users and
// connectors of the configuration. No message ids or addresses.
//
// Wiring is two-phase because the engine and the hub take their observers
// at construction: New (with the connector names), hand SubmitLatency,
// AcceptLatency and ReceiptLatency to engine.Options, flow.Options and
// delivery.Options, build the components, then Attach them and mount
// Handler.
package metrics

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/storage"
)

// Engine is what the metrics read from the SMPP server (*engine.Server).
type Engine interface {
	Stats() engine.Stats
	PDUCounts(visit func(engine.PDUCount))
}

// Hub is what the metrics read from the message hub (*flow.Hub).
type Hub interface {
	Stats() flow.Stats
	UserStats() []flow.UserStats
}

// Deliveries is what the metrics read from the delivery side
// (*delivery.Service): receipts and MO.
type Deliveries interface {
	Stats() delivery.Stats
}

// Storage is what the metrics read from the message store (any
// storage.Store).
type Storage interface {
	Stats() storage.Stats
}

// Accounts is what the metrics read from the users (*accounts.Store).
type Accounts interface {
	Stats() accounts.Stats
	Users() []accounts.User
	BindsOfType(systemID string, bt accounts.BindType) int
}

// Sources are the components read at scrape time; a nil one is skipped.
// Connectors are in routing order, the order of Options.Connectors.
type Sources struct {
	Engine     Engine
	Hub        Hub
	Deliveries Deliveries
	Connectors []connector.Connector
	Storage    Storage
	Accounts   Accounts
	Admin      Admin
	// Routes, Limits and Lookup are the policy's per-route counts,
	// [[limit]] buckets and portability stage, Rules its rule table
	// (policy.go).
	Routes RouteStats
	Limits LimitStats
	Lookup LookupSource
	Rules  RulesSource
}

// Options configure New.
type Options struct {
	// Connectors are the connector names in routing order: the labels of
	// the per-connector histograms, which are resolved once here.
	Connectors []string
}

// Metrics is smppd's registry: the collector over Sources, the latency
// histograms, and the Go runtime and process collectors.
type Metrics struct {
	reg *prometheus.Registry
	src atomic.Pointer[Sources]
	c   *collector

	submit          *Histogram
	accept, receipt []flow.Observer
	acceptV, rcptV  *HistogramVec
	histogramNames  []string
}

// Histogram buckets, in seconds. Our own submit_sm_resp takes microseconds
// unless something is wrong; upstream acceptance takes milliseconds to the
// connector's retry backoff; receipts take seconds to days.
var (
	submitBuckets  = prometheus.ExponentialBuckets(10e-6, 4, 10) // 10µs … 2.6s
	acceptBuckets  = prometheus.ExponentialBuckets(0.001, 4, 10) // 1ms … 262s
	receiptBuckets = []float64{0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600}
)

// Histogram names.
const (
	SubmitLatencyName  = "smppd_submit_response_seconds"
	AcceptLatencyName  = "smppd_connector_accept_seconds"
	ReceiptLatencyName = "smppd_connector_receipt_seconds"
)

// New builds the registry. Until Attach only the histograms and the
// runtime metrics are exported.
func New(opts Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), c: newCollector()}
	m.c.src = &m.src
	m.submit = newHistogram(prometheus.NewDesc(SubmitLatencyName,
		"Seconds from the start of the read batch holding an ESME's submit_sm, data_sm or submit_multi to queuing its response.",
		nil, nil), submitBuckets)
	m.acceptV = newHistogramVec(AcceptLatencyName,
		"Seconds from a message's arrival to its acceptance by the connector's upstream (queue, window, retries).",
		"connector", acceptBuckets)
	m.rcptV = newHistogramVec(ReceiptLatencyName,
		"Seconds from a message's arrival to its final receipt from the connector.",
		"connector", receiptBuckets)
	m.histogramNames = []string{SubmitLatencyName, AcceptLatencyName, ReceiptLatencyName}
	for _, name := range opts.Connectors {
		if name == "" { // a vacant id (a removed connector's): not sampled
			m.accept, m.receipt = append(m.accept, nil), append(m.receipt, nil)
			continue
		}
		// Resolved once: the hot path indexes a slice and never hashes labels.
		m.accept = append(m.accept, m.acceptV.With(name))
		m.receipt = append(m.receipt, m.rcptV.With(name))
	}
	m.reg.MustRegister(m.c, m.submit, m.acceptV, m.rcptV,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// SubmitLatency is engine.Options.SubmitLatency.
func (m *Metrics) SubmitLatency() engine.Observer { return m.submit }

// AcceptLatency is flow.Options.AcceptLatency (index = connector id).
func (m *Metrics) AcceptLatency() []flow.Observer { return m.accept }

// ReceiptLatency is flow.Options.ReceiptLatency (index = connector id).
func (m *Metrics) ReceiptLatency() []flow.Observer { return m.receipt }

// Latency resolves the two latency histograms of a connector added while
// running (flow.Hub.AddConnector).
func (m *Metrics) Latency(connector string) (accept, receipt flow.Observer) {
	return m.acceptV.With(connector), m.rcptV.With(connector)
}

// ForgetLatency drops a removed connector's latency series.
func (m *Metrics) ForgetLatency(connector string) {
	m.acceptV.Delete(connector)
	m.rcptV.Delete(connector)
}

// Attach sets the components read at scrape time. Safe at any time, also
// while a scrape runs; later calls replace earlier ones.
func (m *Metrics) Attach(s Sources) { m.src.Store(&s) }

// Registry is the underlying registry (to add collectors of one's own).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text (or protobuf) format.
// Collection errors are reported in the log of the scraper, never fatal:
// the rest of the metrics are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	}))
}

// Names returns the name of every smppd metric family this package can
// export (histograms as their base name), whether or not it has a sample
// yet: the list dashboards and alert rules may use.
func (m *Metrics) Names() []string {
	out := append([]string(nil), m.c.names...)
	return append(out, m.histogramNames...)
}
