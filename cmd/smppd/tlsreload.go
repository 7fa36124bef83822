package main

import (
	"crypto/sha256"
	"crypto/tls"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/config"
)

// serverTLS is [smpp-server.tls] as crypto/tls serves it: the pair config
// read and matched, and with client_auth the CAs client certificates are
// verified against.
func serverTLS(t *config.TLS) *tls.Config {
	c := &tls.Config{
		Certificates: []tls.Certificate{*t.Certificate},
		MinVersion:   t.MinVersionID,
		ClientAuth:   t.ClientAuthType,
		ClientCAs:    t.ClientCAs,
	}
	// A resumed session would carry the identity verified against the CAs
	// of its first handshake; with client certificates every connection
	// proves its own against the CAs in force.
	c.SessionTicketsDisabled = t.ClientAuthType != tls.NoClientCert
	return c
}

// tlsListener is the TLS listener's settings, swapped by SIGHUP: each new
// handshake takes the settings in force (GetConfigForClient); sessions
// already up keep the connection they made.
type tlsListener struct {
	cur  atomic.Pointer[tls.Config]
	addr string // the listener's address, which only a restart changes
}

func newTLSListener(initial *tls.Config, addr string) *tlsListener {
	l := &tlsListener{addr: addr}
	l.cur.Store(initial)
	return l
}

// serve is the engine's TLSConfig.
func (l *tlsListener) serve() *tls.Config {
	return &tls.Config{
		MinVersion: l.cur.Load().MinVersion,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return l.cur.Load(), nil
		},
	}
}

// reloadTLS puts cfg's certificate, key, minimum version and client
// authentication in force for new handshakes. cfg was loaded whole, so
// its pair matched and was valid (a bad pair failed the reload, and the
// settings in force stayed). Turning the listener on or off, or moving
// it, needs a restart: said, not ignored.
func (d *daemon) reloadTLS(cfg *config.Config) {
	t := &cfg.Server.TLS
	switch {
	case d.tls == nil && !t.Enabled:
		return
	case d.tls == nil || !t.Enabled || tlsAddr(cfg) != d.tls.addr:
		d.log.Warn().Str("event", "reload").Msg("[smpp-server.tls] enabled, bind and port take effect at the next restart; the TLS listener keeps its settings")
		return
	}
	d.tls.cur.Store(serverTLS(t))
	leaf := t.Certificate.Leaf
	fp := sha256.Sum256(leaf.Raw)
	ev := d.log.Info()
	if left := time.Until(leaf.NotAfter); left < config.CertExpiryWarning {
		ev = d.log.Warn().Int("days_left", int(left.Hours()/24))
	}
	ev.Str("event", "tls_reload").Str("subject", leaf.Subject.String()).Time("not_after", leaf.NotAfter).
		Str("sha256", accounts.FormatFingerprint(fp)).Str("client_auth", t.ClientAuth).
		Msg("TLS certificate and client authentication in force for new handshakes; sessions up keep theirs")
}

// tlsAddr is the TLS listener's host:port ("" with TLS off).
func tlsAddr(cfg *config.Config) string {
	t := &cfg.Server.TLS
	if !t.Enabled {
		return ""
	}
	bind := t.Bind
	if bind == "" {
		bind = cfg.Server.Bind
	}
	return net.JoinHostPort(bind, strconv.Itoa(t.Port))
}
