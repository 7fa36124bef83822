package engine

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/rs/zerolog"
)

// relayBufSize is each relay direction's copy buffer: one TLS record's
// plaintext.
const relayBufSize = 16 << 10

// tlsOrigin is the context of a relay conn until OnOpen replaces it with the
// session: it carries the TLS client's address for limits and logs, and the
// connection-limit slot the relay took at accept until the session takes it
// over (Server.acquireConn).
type tlsOrigin struct {
	remote netip.AddrPort
	held   atomic.Bool // the slot is still the relay's to release
	peer   *TLSPeer    // the client's verified certificate, nil without one
}

// tlsConns tracks every TLS connection from accept to the end of its relay,
// so that Shutdown can cut handshakes short at once and, once the loops have
// stopped, close the relays left (one blocked writing to a peer that stopped
// reading would otherwise hold Shutdown for TLSWriteTimeout).
type tlsConns struct {
	mu sync.Mutex
	m  map[net.Conn]bool // the raw conn → still handshaking

	handshakeTimeouts, writeTimeouts atomic.Uint64
}

func (t *tlsConns) add(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[net.Conn]bool)
	}
	t.m[c] = true
}

// established marks c's handshake done; false means c is no longer tracked
// (Shutdown closed it).
func (t *tlsConns) established(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.m[c]; !ok {
		return false
	}
	t.m[c] = false
	return true
}

func (t *tlsConns) remove(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, c)
}

// closeAll closes the tracked conns (only those still handshaking when
// handshaking is set) and stops tracking them.
func (t *tlsConns) closeAll(handshaking bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, hs := range t.m {
		if hs || !handshaking {
			_ = c.Close()
			delete(t.m, c)
		}
	}
}

// startTLS opens the TLS listener. TLS is terminated on a goroutine per
// connection and the plaintext is relayed through a socketpair whose other
// end is enrolled into a gnet loop, so the session itself runs on a loop
// exactly like a TCP one (docs/adr/0001-tls.md).
func (srv *Server) startTLS() error {
	ln, err := srv.listenTLS()
	if err != nil {
		return fmt.Errorf("engine: listen tls %s: %w", srv.opts.TLSAddr, err)
	}
	srv.tlsLn = ln
	srv.tlsWG.Add(1)
	go srv.acceptTLS(ln)
	srv.log.Info().Str("event", "listen").Str("addr", ln.Addr().String()).Msg("smpp tls listener started")
	return nil
}

// acceptTLS takes each TLS client's connection slot at accept, before any
// handshake: a source opening handshakes it never finishes meets the
// per-address limit like one opening sessions.
func (srv *Server) acceptTLS(ln net.Listener) {
	defer srv.tlsWG.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			srv.log.Warn().Err(err).Msg("tls accept")
			time.Sleep(10 * time.Millisecond)
			continue
		}
		o := &tlsOrigin{}
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			o.remote = ta.AddrPort()
		}
		if !srv.limits.acquire(o.remote.Addr()) {
			srv.stats.accepted.Add(1)
			srv.stats.refused.Add(1)
			if e := srv.event(&srv.logs.refuse, zerolog.WarnLevel); e != nil {
				e.Str("event", "refused").Str("reason", ReasonConnLimit.String()).Str("remote", o.remote.String()).
					Bool("tls", true).Msg("connection refused")
			}
			_ = c.Close()
			continue
		}
		o.held.Store(true)
		srv.tlsConns.add(c)
		srv.tlsWG.Add(1)
		go srv.relayTLS(c, o)
	}
}

// relayTLS handshakes within TLSHandshakeTimeout, enrolls the plaintext end
// and copies both ways until either side closes.
func (srv *Server) relayTLS(raw net.Conn, o *tlsOrigin) {
	defer srv.tlsWG.Done()
	defer srv.tlsConns.remove(raw)
	defer func() {
		if o.held.CompareAndSwap(true, false) { // no session took the slot over
			srv.limits.release(o.remote.Addr())
		}
	}()
	defer raw.Close()
	var under net.Conn = raw
	if srv.trustedProxy(o.remote.Addr()) {
		pc, ok := srv.tlsProxyHeader(raw, o)
		if !ok {
			return
		}
		under = pc
	}
	tc := tls.Server(under, srv.opts.TLSConfig)
	_ = raw.SetDeadline(time.Now().Add(srv.opts.TLSHandshakeTimeout))
	if err := tc.Handshake(); err != nil {
		if isTimeout(err) {
			srv.tlsConns.handshakeTimeouts.Add(1)
		}
		if e := srv.log.Debug(); e.Enabled() {
			e.Err(err).Str("remote", o.remote.String()).Msg("tls handshake failed")
		}
		return
	}
	_ = raw.SetDeadline(time.Time{})
	if !srv.tlsConns.established(raw) || srv.draining.Load() {
		return
	}
	o.peer = verifiedPeer(tc.ConnectionState())
	gc, mine, err := relayPair()
	if err != nil {
		srv.log.Error().Err(err).Msg("tls relay socketpair")
		return
	}
	defer mine.Close()
	ctx := gnet.NewContext(gnet.NewNetConnContext(context.Background(), gc), o)
	ch, err := srv.eng.Register(ctx)
	if err != nil {
		_ = gc.Close()
		return
	}
	select {
	case res := <-ch:
		if res.Err != nil {
			return
		}
	case <-srv.runDone: // the loops stopped before taking the conn
		return
	}
	done := make(chan struct{})
	go func() {
		// peer → session; the writer wrapper keeps io from swapping our
		// buffer for one of its own.
		_, _ = io.CopyBuffer(struct{ io.Writer }{mine}, tc, make([]byte, relayBufSize))
		if uc, ok := mine.(*net.UnixConn); ok {
			_ = uc.CloseWrite() // the loop sees EOF and closes the session
		}
		close(done)
	}()
	if srv.relayOut(tc, mine, o.remote) {
		_ = tc.Close() // close_notify, bounded by crypto/tls's own deadline
	} else {
		_ = raw.Close() // a stuck or broken peer gets no close_notify
	}
	<-done
}

// relayOut copies the session's output to the TLS peer until the loop closes
// its end (true) or a write fails (false). Every write must complete within
// TLSWriteTimeout: a peer that stops reading cannot hold this goroutine, its
// descriptors or Shutdown; meanwhile what the session writes stays in the
// socketpair and gnet's buffer, where the session's outbound caps apply.
func (srv *Server) relayOut(tc *tls.Conn, mine net.Conn, remote netip.AddrPort) bool {
	buf := make([]byte, relayBufSize)
	for {
		n, err := mine.Read(buf)
		if n > 0 {
			_ = tc.SetWriteDeadline(time.Now().Add(srv.opts.TLSWriteTimeout))
			if _, werr := tc.Write(buf[:n]); werr != nil {
				if isTimeout(werr) {
					srv.tlsConns.writeTimeouts.Add(1)
					if e := srv.event(&srv.logs.peer, zerolog.WarnLevel); e != nil {
						e.Str("event", "tls_write_timeout").Str("remote", remote.String()).
							Dur("write_timeout", srv.opts.TLSWriteTimeout).Msg("tls peer took no bytes in time: disconnected")
					}
				}
				return false
			}
		}
		if err != nil {
			return true
		}
	}
}

// relayPair returns the two ends of a stream socketpair: gc for the gnet
// loop, mine for the relay.
func relayPair() (gc, mine net.Conn, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	gf := os.NewFile(uintptr(fds[0]), "tls-relay-loop")
	gc, err = net.FileConn(gf)
	_ = gf.Close()
	mf := os.NewFile(uintptr(fds[1]), "tls-relay")
	mine, err2 := net.FileConn(mf)
	_ = mf.Close()
	if err != nil || err2 != nil {
		if gc != nil {
			_ = gc.Close()
		}
		if mine != nil {
			_ = mine.Close()
		}
		return nil, nil, fmt.Errorf("tls relay conn: %w", errors.Join(err, err2))
	}
	return gc, mine, nil
}

// verifiedPeer is the client certificate crypto/tls verified against the
// client CAs, or nil: none was sent, or the config asked for none
// (PeerCertificates without VerifiedChains were not checked by anyone).
func verifiedPeer(cs tls.ConnectionState) *TLSPeer {
	if len(cs.VerifiedChains) == 0 || len(cs.PeerCertificates) == 0 {
		return nil
	}
	leaf := cs.PeerCertificates[0]
	return &TLSPeer{Subject: leaf.Subject.String(), SHA256: sha256.Sum256(leaf.Raw)}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// closeHandshakes closes every TLS connection still handshaking, at the start
// of Shutdown. Established sessions are left: they take part in the unbind
// handshake.
func (srv *Server) closeHandshakes() { srv.tlsConns.closeAll(true) }

// closeRelays closes every TLS connection left once the loops have stopped,
// so no relay waits out TLSWriteTimeout (or crypto/tls's close_notify
// deadline) on a peer that stopped reading.
func (srv *Server) closeRelays() { srv.tlsConns.closeAll(false) }
