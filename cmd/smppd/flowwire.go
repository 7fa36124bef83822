package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/connector/smppout"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/internal/logthrottle"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// newStorage opens the message store ([storage] and the [delivery] hold
// limit): the in-memory one, the only kind so far.
func newStorage(cfg *config.Config) storage.Store {
	return memory.New(memory.Options{
		MaxRecords:  cfg.Storage.MaxRecords,
		MaxUpstream: cfg.Storage.MaxUpstreamIDs,
		MaxHeld:     cfg.Delivery.MaxHeld,
		TTL:         cfg.Storage.MessageTTL.D(),
	})
}

// connectorIDs is the store's upstream id map as connectors see it
// (connector.IDMap): an upstream id the store refuses is logged, throttled,
// and the receipt that names it is later dropped as unknown (counted in
// smppd_receipts_unknown_total; empty and over-long ids also in
// smppd_storage_upstream_ids_rejected_total).
func connectorIDs(ids storage.UpstreamIDs, log zerolog.Logger) connector.IDMap {
	gate := logthrottle.New(10*time.Second, 1)
	return storage.ConnectorIDs{IDs: ids, Failed: func(conn int, upstreamID []byte, err error) {
		gate.Event(&log, zerolog.WarnLevel, time.Now().UnixNano()).Str("event", "storage").Int("connector", conn).
			Bytes("upstream_id", upstreamID).Err(err).Msg("upstream message id not kept: a receipt naming it will be dropped as unknown")
	}}
}

// newConnector builds connector id from its [[connector]] table. Called
// again for a restart from the admin API, so it keeps no state of its own.
func newConnector(cfg *config.Config, id int, ids connector.IDMap) (connector.Connector, error) {
	c := &cfg.Connectors[id]
	switch c.Type {
	case "sim":
		s := c.Sim
		if s == nil {
			s = &config.SimConnector{}
		}
		o := sim.Options{
			ID:             id,
			Queue:          c.Queue,
			Latency:        s.Latency.D(),
			ReceiptDelay:   s.ReceiptDelay.D(),
			MOEchoPrefixes: s.MOEchoPrefixes,
			Intermediate:   s.Intermediate,
			Seed:           s.Seed,
		}
		if o.ReceiptDelay == 0 { // config 0 = at once; sim's zero is its 1s default
			o.ReceiptDelay = sim.ReceiptsAtOnce
		}
		o.Outcomes[sim.Delivered] = s.Outcomes.Delivered
		o.Outcomes[sim.Undeliverable] = s.Outcomes.Undeliverable
		o.Outcomes[sim.Expired] = s.Outcomes.Expired
		o.Outcomes[sim.Rejected] = s.Outcomes.Rejected
		return sim.New(c.Name, o)
	case "smpp":
		s := c.SMPP
		if s == nil {
			return nil, cfg.ErrorAt(fmt.Sprintf("connector[%d].smpp", id), "a smpp connector needs its [connector.smpp] table")
		}
		o := smppout.Options{
			Name: c.Name, ID: id, Queue: c.Queue,
			Host: s.Host, Port: s.Port,
			SystemID: s.SystemID, Password: s.Password, SystemType: s.SystemType,
			BindMode: smppout.BindMode(s.BindMode), Binds: s.Binds, Window: s.Window,
			Throughput:      s.Throughput,
			EnquireLink:     s.EnquireLink.D(),
			ResponseTimeout: s.ResponseTimeout.D(),
			ReconnectMin:    s.ReconnectMin.D(), ReconnectMax: s.ReconnectMax.D(),
			RetryMin: s.RetryMin.D(), RetryMax: s.RetryMax.D(),
			DefaultValidity: s.DefaultValidity.D(),
			SupportsPayload: s.SupportsPayload,
			IDMap:           ids,
		}
		if o.DefaultValidity == 0 {
			o.DefaultValidity = cfg.Delivery.DefaultValidity.D()
		}
		if s.TLS {
			tc, err := upstreamTLS(s)
			if err != nil {
				return nil, cfg.ErrorAt(fmt.Sprintf("connector[%d].smpp.tls_ca_file", id), err.Error())
			}
			o.TLS = tc
		}
		return smppout.New(o)
	}
	return nil, cfg.ErrorAt(fmt.Sprintf("connector[%d].type", id), fmt.Sprintf("unknown connector type %q", c.Type))
}

func upstreamTLS(s *config.SMPPConnector) (*tls.Config, error) {
	tc := &tls.Config{ServerName: s.Host, InsecureSkipVerify: s.TLSSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // tls_skip_verify is an explicit operator choice for tests
	if s.TLSCAFile != "" {
		pem, err := os.ReadFile(s.TLSCAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("no PEM certificate in " + s.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// newConnectors builds every [[connector]] in order: the order is the
// routing table's connector ids.
func newConnectors(cfg *config.Config, ids connector.IDMap) ([]connector.Connector, error) {
	out := make([]connector.Connector, len(cfg.Connectors))
	for i := range cfg.Connectors {
		c, err := newConnector(cfg, i, ids)
		if err != nil {
			return nil, fmt.Errorf("connector %q: %w", cfg.Connectors[i].Name, err)
		}
		// The operator may stop and start it (admin API): a restart builds
		// a fresh instance from the same entry.
		out[i] = connector.NewRestartable(cfg.Connectors[i].Type, c, func() (connector.Connector, error) {
			return newConnector(cfg, i, ids)
		})
	}
	return out, nil
}

// compileRoutes builds the routing table from [[mt_route]] and [[mo_route]],
// checked against the configured connectors, users and groups; an error
// names the key and line in the config.
func compileRoutes(cfg *config.Config) (*routing.Table, error) {
	t, err := routing.Compile(routeConfig(cfg))
	var ce *routing.ConfigError
	if errors.As(err, &ce) {
		return nil, cfg.ErrorAt(ce.Key, ce.Error())
	}
	return t, err
}

// routeConfig maps the config's routes, connectors, users and groups onto
// routing's input.
func routeConfig(cfg *config.Config) routing.Config {
	rc := routing.Config{
		MT:         make([]routing.MTRouteConfig, len(cfg.MTRoutes)),
		MO:         make([]routing.MORouteConfig, len(cfg.MORoutes)),
		Connectors: make([]string, len(cfg.Connectors)),
		Users:      make([]string, len(cfg.Users)),
		Groups:     make([]string, 0, len(cfg.Groups)),
	}
	for i, c := range cfg.Connectors {
		rc.Connectors[i] = c.Name
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
		rc.MO[i] = routing.MORouteConfig{Name: r.Name, User: r.User, FilterConfig: routing.FilterConfig(r.RouteFilter)}
	}
	return rc
}

// hubOptions maps [delivery] onto the hub's options.
func hubOptions(cfg *config.Config, router *routing.Router, conns []connector.Connector, store storage.Store,
	users *accounts.Store, ids *msg.IDGen, log zerolog.Logger) flow.Options {
	d := &cfg.Delivery
	return flow.Options{
		Router:     router,
		Connectors: conns,
		Messages:   store,
		Holds:      store.Holds(),
		Users: flow.UsersFunc(func(id string) bool {
			_, ok := users.Lookup(id)
			return ok
		}),
		Admission:         &accounts.Admission{JasminCompat: cfg.Server.JasminCompatStatus},
		IDs:               ids,
		DefaultValidity:   d.DefaultValidity.D(),
		HoldLifetime:      d.HoldLifetime.D(),
		RetryMin:          d.RetryMin.D(),
		RetryMax:          d.RetryMax.D(),
		ReassembleMO:      d.ReassembleMO,
		ReassemblyTimeout: d.ReassemblyTimeout.D(),
		MaxWaiting:        d.MaxHeld,
		ReceiptIDDecimal:  d.ReceiptIDFormat == "decimal",
		ReceiptZone:       d.ReceiptLocation,
		Logger:            log,
	}
}

// persistEvery is how often live balances and used quotas are written
// back to the users file while they change.
const persistEvery = time.Minute
