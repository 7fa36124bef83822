package cluster

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/logthrottle"
)

// startEmbedded starts this node's JetStream server, clustered with the
// routes, and waits until it accepts clients.
func startEmbedded(o *Options, lg zerolog.Logger) (*server.Server, error) {
	e := &o.Embedded
	host, port, err := splitHostPort(e.Listen)
	if err != nil {
		return nil, fmt.Errorf("cluster: embedded listen %q: %w", e.Listen, err)
	}
	rhost, rport, err := splitHostPort(e.RouteListen)
	if err != nil {
		return nil, fmt.Errorf("cluster: embedded route_listen %q: %w", e.RouteListen, err)
	}
	var routes []*url.URL
	for _, r := range e.Routes {
		u, err := url.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("cluster: embedded route %q: %w", r, err)
		}
		routes = append(routes, u)
	}
	so := &server.Options{
		ServerName: "smppd-" + strconv.Itoa(o.NodeID),
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   e.StoreDir,
		SyncAlways: e.SyncAlways,
		NoSigs:     true,
		// The server's own limits: no per-account cap below the disk.
		JetStreamMaxStore: -1,
		MaxPayload:        maxPayload,
	}
	if e.SyncInterval > 0 {
		so.SyncInterval = e.SyncInterval
	}
	if len(routes) > 0 {
		// Advertise: a peer that has it among its routes opens no second
		// route to it from gossip; "" advertises the listen address.
		so.Cluster = server.ClusterOpts{Name: e.Name, Host: rhost, Port: rport, Advertise: e.RouteAdvertise}
		so.Routes = routes
	}
	s, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("cluster: embedded JetStream server: %w", err)
	}
	s.SetLoggerV2(newNATSLogger(lg.With().Str("component", "nats").Logger()), false, false, false)
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("cluster: embedded JetStream server on %s did not start within 10s (port in use? see the nats log lines)", e.Listen)
	}
	lg.Info().Str("event", "nats_started").Str("listen", e.Listen).Str("route_listen", e.RouteListen).
		Str("route_advertise", e.RouteAdvertise).Strs("routes", e.Routes).Str("store_dir", e.StoreDir).Bool("sync_always", e.SyncAlways).
		Dur("sync_interval", so.SyncInterval).Msg("cluster: embedded JetStream server started")
	return s, nil
}

// maxPayload is the largest NATS message: the journal's batches stay
// below it.
const maxPayload = 4 << 20

func splitHostPort(hp string) (string, int, error) {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, err
	}
	return h, n, nil
}

// natsLogger sends the server's log to ours: warnings and errors at
// their level: notices (the banner, routes, elections) at debug. A dead
// peer's route is redialled every second or so: those errors pass at most
// once per routeLogEvery, with the count of those left out.
type natsLogger struct {
	lg     zerolog.Logger
	routes *logthrottle.Gate
}

const routeLogEvery = 30 * time.Second

func newNATSLogger(lg zerolog.Logger) natsLogger {
	return natsLogger{lg: lg, routes: logthrottle.New(routeLogEvery, 1)}
}

func (l natsLogger) Noticef(format string, v ...any) { l.lg.Debug().Msgf(format, v...) }
func (l natsLogger) Warnf(format string, v ...any)   { l.lg.Warn().Msgf(format, v...) }
func (l natsLogger) Fatalf(format string, v ...any)  { l.lg.Error().Msgf(format, v...) }
func (l natsLogger) Errorf(format string, v ...any) {
	if strings.HasPrefix(format, "Error trying to connect to route") {
		ok, left := l.routes.Allow(time.Now().UnixNano())
		if !ok {
			return
		}
		l.lg.Error().Str("event", "route_connect_failed").Uint64("suppressed", left).Msgf(format, v...)
		return
	}
	l.lg.Error().Msgf(format, v...)
}
func (l natsLogger) Debugf(format string, v ...any) { l.lg.Debug().Msgf(format, v...) }
func (l natsLogger) Tracef(format string, v ...any) { l.lg.Trace().Msgf(format, v...) }
