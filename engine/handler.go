package engine

import (
	"net"
	"net/netip"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/rs/zerolog"
)

// handler is the gnet EventHandler. Conn contexts tell the conns apart:
// *session (an SMPP connection), *bell (a loop's doorbell) or, before OnOpen,
// *tlsOrigin (a TLS relay carrying the real peer address).
type handler struct {
	gnet.BuiltinEventEngine
	srv *Server
}

func (h *handler) OnBoot(eng gnet.Engine) gnet.Action {
	h.srv.eng = eng
	return gnet.None
}

// OnTick runs on gnet's ticker goroutine (not a loop): it rings every loop's
// doorbell once per Tick so each loop advances its own wheel.
func (h *handler) OnTick() (time.Duration, gnet.Action) {
	srv := h.srv
	srv.tickOK.Do(func() { close(srv.tickOn) })
	for _, l := range *srv.loops.Load() {
		l.ring()
	}
	return srv.opts.Tick, gnet.None
}

func (h *handler) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	srv := h.srv
	var remote netip.AddrPort
	var peer *TLSPeer
	viaTLS := false
	switch v := c.Context().(type) {
	case *bell:
		l := srv.loopFor(c.EventLoop())
		if l.ready.Load() {
			v.extra = true
		} else {
			l.bellFD.Store(int32(v.wfd))
			l.ready.Store(true)
		}
		return nil, gnet.None
	case *tlsOrigin:
		remote, viaTLS, peer = v.remote, true, v.peer
	default:
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			remote = ta.AddrPort()
		}
	}
	srv.stats.accepted.Add(1)
	if srv.draining.Load() {
		return nil, gnet.Close
	}
	if !srv.acquireConn(c, remote.Addr()) {
		srv.stats.refused.Add(1)
		srv.event(&srv.logs.refuse, zerolog.WarnLevel).Str("event", "refused").Str("reason", ReasonConnLimit.String()).
			Str("remote", remote.String()).Msg("connection refused")
		return nil, gnet.Close
	}
	l := srv.loopFor(c.EventLoop())
	s := l.getSession()
	srv.stats.sessions.Add(1)
	c.SetContext(s)
	s.open(c, remote, viaTLS, peer)
	if !viaTLS && srv.trustedProxy(remote.Addr()) {
		s.awaitProxy()
	}
	return nil, gnet.None
}

func (h *handler) OnClose(c gnet.Conn, err error) gnet.Action {
	if s, ok := c.Context().(*session); ok {
		if s.reason == ReasonNone && h.srv.stopping.Load() {
			s.reason = ReasonShutdown
		}
		s.onGnetClose(err)
	}
	return gnet.None
}

func (h *handler) OnTraffic(c gnet.Conn) gnet.Action {
	switch v := c.Context().(type) {
	case *session:
		l := v.l
		l.cur = v
		v.serve()
		l.cur = nil
		if v.life == lifeClosing {
			return gnet.Close // gnet closes the conn and runs OnClose → finishClose
		}
		return gnet.None
	case *bell:
		if v.extra {
			_, _ = c.Discard(-1)
			return gnet.None
		}
		h.srv.loopFor(c.EventLoop()).onBell(c)
		return gnet.None
	}
	_, _ = c.Discard(-1)
	return gnet.Close
}

// serveFromBell continues a session outside its own OnTraffic (after a
// fairness yield or a bind result) and completes a close it asked for.
func (l *loop) serveFromBell(s *session) {
	s.serve()
	if s.life == lifeClosing {
		s.closeConn()
	}
}
