package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// tlsOrigin is the context of a relay conn until OnOpen replaces it with the
// session: it carries the TLS client's address for limits and logs.
type tlsOrigin struct{ remote netip.AddrPort }

// startTLS opens the TLS listener. TLS is terminated on a goroutine per
// connection and the plaintext is relayed through a socketpair whose other
// end is enrolled into a gnet loop, so the session itself runs on a loop
// exactly like a TCP one (docs/adr/0001-tls.md).
func (srv *Server) startTLS() error {
	ln, err := net.Listen("tcp", srv.opts.TLSAddr)
	if err != nil {
		return fmt.Errorf("engine: listen tls %s: %w", srv.opts.TLSAddr, err)
	}
	srv.tlsLn = ln
	srv.tlsWG.Add(1)
	go srv.acceptTLS(ln)
	srv.log.Info().Str("event", "listen").Str("addr", ln.Addr().String()).Msg("smpp tls listener started")
	return nil
}

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
		srv.tlsWG.Add(1)
		srv.handshaking(c, true)
		go srv.relayTLS(c)
	}
}

// relayTLS handshakes, enrolls the plaintext end and copies both ways until
// either side closes.
func (srv *Server) relayTLS(raw net.Conn) {
	defer srv.tlsWG.Done()
	var remote netip.AddrPort
	if ta, ok := raw.RemoteAddr().(*net.TCPAddr); ok {
		remote = ta.AddrPort()
	}
	tc := tls.Server(raw, srv.opts.TLSConfig)
	defer tc.Close()
	// An unfinished handshake counts against the session init time.
	_ = tc.SetDeadline(time.Now().Add(srv.opts.SessionInitTimeout))
	err := tc.Handshake()
	srv.handshaking(raw, false)
	if err != nil {
		if e := srv.log.Debug(); e.Enabled() {
			e.Err(err).Str("remote", remote.String()).Msg("tls handshake failed")
		}
		return
	}
	_ = tc.SetDeadline(time.Time{})

	if srv.draining.Load() {
		return
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		srv.log.Error().Err(err).Msg("tls relay socketpair")
		return
	}
	gf := os.NewFile(uintptr(fds[0]), "tls-relay-loop")
	gc, err := net.FileConn(gf)
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
		srv.log.Error().Err(errors.Join(err, err2)).Msg("tls relay conn")
		return
	}
	defer mine.Close()
	ctx := gnet.NewContext(gnet.NewNetConnContext(context.Background(), gc), &tlsOrigin{remote: remote})
	ch, err := srv.eng.Register(ctx)
	if err != nil {
		_ = gc.Close()
		return
	}
	if res := <-ch; res.Err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(mine, tc) // peer → session
		if uc, ok := mine.(*net.UnixConn); ok {
			_ = uc.CloseWrite() // the loop sees EOF and closes the session
		}
		close(done)
	}()
	_, _ = io.Copy(tc, mine) // session → peer, until the loop closes its end
	_ = tc.Close()
	<-done
}

// handshaking tracks connections still in the TLS handshake so Shutdown can
// cut them short instead of waiting for their deadline. Established TLS
// sessions are not in the set: they take part in the unbind handshake.
func (srv *Server) handshaking(c net.Conn, add bool) {
	srv.tlsMu.Lock()
	defer srv.tlsMu.Unlock()
	if srv.tlsHS == nil {
		srv.tlsHS = make(map[net.Conn]struct{})
	}
	if add {
		srv.tlsHS[c] = struct{}{}
	} else {
		delete(srv.tlsHS, c)
	}
}

// closeHandshakes closes every connection still in the TLS handshake.
func (srv *Server) closeHandshakes() {
	srv.tlsMu.Lock()
	defer srv.tlsMu.Unlock()
	for c := range srv.tlsHS {
		_ = c.Close()
	}
}
