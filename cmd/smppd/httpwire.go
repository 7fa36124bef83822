package main

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/httpapi"
	"github.com/smppd/smppd/httpapi/content"
	"github.com/smppd/smppd/internal/proxyproto"
)

// newHTTPAPI builds the customers' HTTP API ([http-api]) over the hub, the
// users and the store, and registers its counters; nil when it is off.
func newHTTPAPI(cfg *config.Config, d *daemon, log zerolog.Logger) (*httpapi.Server, error) {
	h := &cfg.HTTPAPI
	if !h.Enabled {
		return nil, nil
	}
	split, _ := content.ParseMethod(h.LongContentSplit) // config validated it
	guard, err := d.dlrGuard(cfg)
	if err != nil {
		return nil, err
	}
	s, err := httpapi.New(httpapi.Options{
		Addr:            net.JoinHostPort(h.Bind, strconv.Itoa(h.Port)),
		Hub:             d.hub,
		Users:           d.users,
		Messages:        d.store,
		Upstream:        d.store,
		Callbacks:       d.store.Callbacks(),
		DLRGuard:        guard,
		MaxParts:        h.LongContentMaxParts,
		Split:           split,
		MaxBody:         int64(h.MaxBody),
		ReadTimeout:     h.ReadTimeout.D(),
		WriteTimeout:    h.WriteTimeout.D(),
		IdleTimeout:     h.IdleTimeout.D(),
		MaxConnections:  h.MaxConnections,
		QueueFullWait:   cfg.Server.QueueFullWait.D(), // as SMPP sessions wait for room
		IdempotencyKeys: h.IdempotencyKeys,
		IdempotencyTTL:  h.IdempotencyTTL.D(),
		Logger:          log,
		// The same load balancers front the SMPP and HTTP listeners.
		ProxyHeaders: proxyHeaders(cfg),
	})
	if err != nil {
		return nil, err
	}
	if err := registerHTTPAPI(d.metrics.Registry(), s); err != nil {
		return nil, err
	}
	denied := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "smppd_http_dlr_url_denied_total",
		Help: "HTTP API messages refused 400 because their dlr-url's host is an address of [webhook] deny_networks not in allow_networks."},
		func() float64 { n, _ := guard.Refusals(); return float64(n) })
	if err := d.metrics.Registry().Register(denied); err != nil {
		return nil, err
	}
	return s, nil
}

// registerHTTPAPI exposes the API's counters as smppd_http_*.
func registerHTTPAPI(reg prometheus.Registerer, s *httpapi.Server) error {
	counter := func(name, help string, v func(st *httpapi.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { st := s.Stats(); return float64(v(&st)) })
	}
	for _, c := range []prometheus.Collector{
		counter("smppd_http_requests_total", "HTTP API requests answered, every endpoint.",
			func(st *httpapi.Stats) uint64 { return st.Requests }),
		counter("smppd_http_messages_total", "Messages the HTTP API accepted (a long message counts once).",
			func(st *httpapi.Stats) uint64 { return st.Messages }),
		counter("smppd_http_parts_total", "SMS parts the HTTP API accepted.",
			func(st *httpapi.Stats) uint64 { return st.Parts }),
		counter("smppd_http_refused_total", "Messages the HTTP API refused (rights, values, admission, routing, queues).",
			func(st *httpapi.Stats) uint64 { return st.Refused }),
		counter("smppd_http_auth_failures_total", "HTTP API requests whose credentials did not match or that the failed-login limiter refused.",
			func(st *httpapi.Stats) uint64 { return st.AuthFailures }),
		counter("smppd_http_bad_requests_total", "HTTP API requests refused 400 for their parameters or body.",
			func(st *httpapi.Stats) uint64 { return st.BadRequests }),
		counter("smppd_http_method_not_allowed_total", "HTTP API requests refused 405.",
			func(st *httpapi.Stats) uint64 { return st.BadMethod }),
		counter("smppd_http_unsupported_media_type_total", "HTTP API requests refused 415 (Content-Type).",
			func(st *httpapi.Stats) uint64 { return st.BadContentType }),
		counter("smppd_http_body_too_large_total", "HTTP API requests refused 413 (body above [http-api] max_body).",
			func(st *httpapi.Stats) uint64 { return st.TooLarge }),
		counter("smppd_http_idempotent_replays_total", "POST /v1/messages answered again for a repeated Idempotency-Key.",
			func(st *httpapi.Stats) uint64 { return st.Replays }),
		counter("smppd_http_connection_waits_total", "HTTP API accepts that waited for a slot ([http-api] max_connections reached).",
			func(st *httpapi.Stats) uint64 { return st.ConnWaits }),
		counter("smppd_http_proxy_header_refusals_total", "HTTP API connections from a [proxy-protocol] trusted proxy closed for a PROXY header missing, malformed, too long or not whole within header_timeout.",
			func(st *httpapi.Stats) uint64 { return st.ProxyHeaderRefusals }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "smppd_http_connections", Help: "HTTP API connections open now."},
			func() float64 { return float64(s.Stats().Conns) }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// startHTTP starts the HTTP API, when configured.
func (d *daemon) startHTTP() error {
	if d.http == nil {
		return nil
	}
	return d.http.Start()
}

// stopHTTP stops taking HTTP requests and lets running ones finish within
// grace (their messages are queued by then): first of all at shutdown, so
// nothing new arrives while the engine and the hub drain.
func (d *daemon) stopHTTP(grace time.Duration) {
	if d.http == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := d.http.Shutdown(ctx); err != nil {
		d.log.Warn().Str("event", "shutdown").Err(err).Msg("HTTP API: requests still running at the end of shutdown_grace were cut")
	}
}

// proxyHeaders is the HTTP API's PROXY protocol wrapper from [proxy-protocol]
// (the same load balancers front the SMPP and HTTP listeners); nil when no
// proxy is trusted.
func proxyHeaders(cfg *config.Config) func(net.Listener, func(net.Addr, error)) net.Listener {
	trusted, timeout := cfg.ProxyProtocol.TrustedPrefixes, cfg.ProxyProtocol.HeaderTimeout.D()
	if len(trusted) == 0 {
		return nil
	}
	return func(ln net.Listener, refused func(net.Addr, error)) net.Listener {
		return &proxyproto.Listener{Listener: ln, Trusted: trusted, Timeout: timeout, Refused: refused}
	}
}
