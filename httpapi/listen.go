package httpapi

import (
	"net"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// limitListener bounds the connections open at once: Accept waits for a
// slot before taking the next connection from the kernel, so a flood waits
// in the kernel's backlog instead of costing goroutines and buffers here.
type limitListener struct {
	net.Listener
	slots chan struct{}
	ctr   *counters
}

func newLimitListener(ln net.Listener, n int, ctr *counters) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), ctr: ctr}
}

// Accept takes a slot (waiting for one, counted) and then a connection.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.ctr.waits.Add(1)
		l.slots <- struct{}{}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	l.ctr.conns.Add(1)
	return &limitConn{Conn: c, l: l}, nil
}

// limitConn gives its slot back once, at its first Close.
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.ctr.conns.Add(-1)
		<-c.l.slots
	})
	return err
}

// proxyListener wraps ln with Options.ProxyHeaders, counting and logging
// every refused header; ln itself when no PROXY headers are configured.
func (s *Server) proxyListener(ln net.Listener) net.Listener {
	if s.o.ProxyHeaders == nil {
		return ln
	}
	return s.o.ProxyHeaders(ln, func(peer net.Addr, err error) {
		s.stats.proxyRefused.Add(1)
		if e := s.proxy.Event(&s.log, zerolog.WarnLevel, time.Now().UnixNano()); e != nil {
			e.Str("event", "proxy_header_refused").Str("remote", peer.String()).Str("detail", err.Error()).
				Msg("PROXY header refused: connection closed")
		}
	})
}
