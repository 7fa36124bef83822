package proxyproto

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Trusted is the list of networks whose connections must open with a
// PROXY header; nil or empty turns the protocol off.
type Trusted []netip.Prefix

// Contains reports whether a peer at ip is a trusted proxy.
func (t Trusted) Contains(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range t {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Conn is a connection whose PROXY header has been read: RemoteAddr is the
// client's address from the header (the proxy's own when the header named
// none), and Read first returns what was read past the header.
type Conn struct {
	net.Conn
	remote net.Addr
	rest   []byte
	buf    [MaxLen]byte // the header, then what came with it
}

// RemoteAddr is the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

func (c *Conn) Read(p []byte) (int, error) {
	if len(c.rest) > 0 {
		n := copy(p, c.rest)
		c.rest = c.rest[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// ReadHeader reads the PROXY header opening c, waiting at most until
// deadline, and returns c wrapped so that it reads on after the header,
// with the client's address. Reads are bounded by MaxLen: a peer that
// sends something else, too much or too slowly gets an error (c is left
// open, with its deadline set, for the caller to close).
func ReadHeader(c net.Conn, deadline time.Time) (*Conn, netip.AddrPort, error) {
	if err := c.SetReadDeadline(deadline); err != nil {
		return nil, netip.AddrPort{}, err
	}
	pc := &Conn{Conn: c, remote: c.RemoteAddr()}
	have := 0
	for {
		m, rerr := c.Read(pc.buf[have:])
		have += m
		n, src, err := Parse(pc.buf[:have])
		if err == nil {
			if err := c.SetReadDeadline(time.Time{}); err != nil {
				return nil, netip.AddrPort{}, err
			}
			pc.rest = pc.buf[n:have]
			if src.IsValid() {
				pc.remote = net.TCPAddrFromAddrPort(src)
			}
			return pc, src, nil
		}
		if err != ErrIncomplete {
			return nil, netip.AddrPort{}, err
		}
		if rerr != nil {
			return nil, netip.AddrPort{}, rerr
		}
	}
}

// Listener expects a PROXY header on every connection from a Trusted peer
// and passes the others through untouched. The header is read on the
// connection's first Read or RemoteAddr (net/http calls RemoteAddr first,
// on the connection's own goroutine), never in Accept, so a slow proxy
// connection cannot hold the accept loop.
type Listener struct {
	net.Listener
	Trusted Trusted
	// Timeout bounds the wait for a header.
	Timeout time.Duration
	// Refused is called once per connection whose header is missing,
	// malformed, too long or too slow, before it is closed.
	Refused func(peer net.Addr, err error)
}

// Accept returns the next connection, lazy-reading its header when its
// peer is trusted.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil || len(l.Trusted) == 0 {
		return c, err
	}
	ta, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok || !l.Trusted.Contains(ta.AddrPort().Addr()) {
		return c, nil
	}
	return &lazyConn{Conn: c, l: l}, nil
}

// lazyConn reads its header once, at the first Read or RemoteAddr; a bad
// header closes the connection, so every later Read fails.
type lazyConn struct {
	net.Conn
	l    *Listener
	once sync.Once
	pc   *Conn
	err  error
}

func (c *lazyConn) header() {
	c.once.Do(func() {
		c.pc, _, c.err = ReadHeader(c.Conn, time.Now().Add(c.l.Timeout))
		if c.err != nil {
			if c.l.Refused != nil {
				c.l.Refused(c.Conn.RemoteAddr(), c.err)
			}
			_ = c.Conn.Close()
		}
	})
}

func (c *lazyConn) Read(p []byte) (int, error) {
	if c.header(); c.err != nil {
		return 0, c.err
	}
	return c.pc.Read(p)
}

func (c *lazyConn) RemoteAddr() net.Addr {
	if c.header(); c.err != nil {
		return c.Conn.RemoteAddr()
	}
	return c.pc.RemoteAddr()
}
