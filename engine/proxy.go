package engine

import (
	"net"
	"net/netip"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/proxyproto"
)

// A connection from one of Options.TrustedProxies must open with a PROXY
// protocol header (v1 or v2); the client's address it names replaces the
// proxy's for the connection limits, the bind checks (allow_ips, failed-bind
// throttling, the per-address share of the auth queue) and every log line.
// Until the header is whole the connection counts against the proxy's own
// address, so a proxy that opens connections it never introduces meets the
// per-address limit.

// trustedProxy reports whether a peer at ip must send a PROXY header.
func (srv *Server) trustedProxy(ip netip.Addr) bool {
	return len(srv.opts.TrustedProxies) > 0 && proxyproto.Trusted(srv.opts.TrustedProxies).Contains(ip)
}

// awaitProxy makes s read a PROXY header before any PDU, within
// ProxyHeaderTimeout (the PDU read timer, which serve leaves alone until
// the header is read).
func (s *session) awaitProxy() {
	s.proxyWait = true
	s.l.wheel.Schedule(&s.tRead, s.l.srv.opts.ProxyHeaderTimeout)
}

// readProxyHeader parses the header from the unread input in place
// (nothing is copied or allocated); true once it is read and s may serve
// PDUs. A header not yet whole leaves s waiting; a bad one (no header, a
// malformed or oversized one) closes s: gnet's buffered input is bounded by
// proxyproto.MaxLen here, since Parse refuses anything longer at once.
func (s *session) readProxyHeader() bool {
	avail := s.c.InboundBuffered()
	b, _ := s.c.Peek(min(avail, proxyproto.MaxLen))
	n, src, err := proxyproto.Parse(b)
	if err == proxyproto.ErrIncomplete {
		return false
	}
	srv := s.l.srv
	if err != nil {
		s.refuseProxy(err.Error())
		return false
	}
	_, _ = s.c.Discard(n)
	s.proxyWait = false
	s.l.wheel.Cancel(&s.tRead)
	if src.IsValid() {
		if !srv.limits.move(s.remote.Addr(), src.Addr()) {
			srv.stats.refused.Add(1)
			srv.event(&srv.logs.refuse, zerolog.WarnLevel).Str("event", "refused").Str("reason", ReasonConnLimit.String()).
				Str("remote", src.String()).Str("proxy", s.remote.String()).Msg("connection refused")
			s.close(ReasonConnLimit)
			return false
		}
		s.remote = src
	}
	return true
}

// refuseProxy closes s, still known by its proxy's address, for a header
// that is missing, bad or late.
func (s *session) refuseProxy(why string) {
	srv := s.l.srv
	srv.stats.proxyRefused.Add(1)
	srv.event(&srv.logs.refuse, zerolog.WarnLevel).Str("event", "proxy_header_refused").Str("remote", s.remote.String()).
		Str("detail", why).Msg("PROXY header refused: connection closed")
	s.why = why
	s.close(ReasonProxyHeader)
}

// tlsProxyHeader reads the PROXY header a trusted proxy sends before the
// TLS handshake, within ProxyHeaderTimeout, and moves the connection's
// slot to the client's address (o.remote). It returns the conn to
// handshake over (the header consumed), or false after logging why the
// connection is to be closed.
func (srv *Server) tlsProxyHeader(raw net.Conn, o *tlsOrigin) (net.Conn, bool) {
	pc, src, err := proxyproto.ReadHeader(raw, time.Now().Add(srv.opts.ProxyHeaderTimeout))
	if err != nil {
		srv.stats.proxyRefused.Add(1)
		srv.event(&srv.logs.refuse, zerolog.WarnLevel).Str("event", "proxy_header_refused").Str("remote", o.remote.String()).
			Bool("tls", true).Str("detail", err.Error()).Msg("PROXY header refused: connection closed")
		return nil, false
	}
	if src.IsValid() {
		if !srv.limits.move(o.remote.Addr(), src.Addr()) {
			srv.stats.refused.Add(1)
			srv.event(&srv.logs.refuse, zerolog.WarnLevel).Str("event", "refused").Str("reason", ReasonConnLimit.String()).
				Str("remote", src.String()).Str("proxy", o.remote.String()).Bool("tls", true).Msg("connection refused")
			return nil, false
		}
		o.remote = src
	}
	return pc, true
}

// move hands a connection's slot from one address to another (a proxied
// connection's, from its proxy to its client): the total is unchanged; false,
// with nothing changed, when the client's address is at its limit.
func (c *connLimits) move(from, to netip.Addr) bool {
	from, to = addrKey(from), addrKey(to)
	if from == to {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.perIP[to] >= c.maxIP {
		return false
	}
	c.perIP[to]++
	if n := c.perIP[from]; n > 1 {
		c.perIP[from] = n - 1
	} else {
		delete(c.perIP, from)
	}
	return true
}
