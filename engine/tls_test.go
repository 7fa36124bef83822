package engine

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smppd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

func TestTLSSessionBehavesLikeTCP(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	k := &sink{}
	ts := start(t, func(o *Options) {
		o.TLSAddr = "127.0.0.1:0"
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		o.Deliveries = k
		o.PDUReadTimeout = 300 * time.Millisecond
	})
	dial := func() *smpptest.Client {
		nc, err := tls.Dial("tcp", ts.TLSListenAddr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatal(err)
		}
		c := smpptest.NewClient(nc)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	c := dial()
	h, f, err := c.Bind(codec.BindTransceiverID, "user", "secret", 0x34)
	if err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind over tls: %v %v", h.Status, err)
	}
	var br codec.BindResp
	if err := br.Decode(f[codec.HeaderLen:]); err != nil || string(br.SystemID) != "smppd" {
		t.Fatalf("bind_resp %q %v", br.SystemID, err)
	}
	mustSend(t, c, codec.SubmitSMID, 2, smpptest.SubmitBody("1", "2", "over tls"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	// Deliveries reach TLS sessions through the same window.
	if err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "mo"), Ref: 1}); err != nil {
		t.Fatal(err)
	}
	dh, _ := mustExpect(t, c, codec.DeliverSMID, codec.StatusOK)
	mustSend(t, c, codec.DeliverSMRespID, dh.Sequence, []byte{0})
	eventually(t, "tls delivery", func() bool { o, ok := k.get(1); return ok && o.err == nil })
	mustSend(t, c, codec.UnbindID, 3, nil)
	mustExpect(t, c, codec.UnbindRespID, codec.StatusOK)
	mustClosed(t, c)
	ts.logs.waitLog(t, `"event":"bind"`, `"tls":true`, `"remote":"127.0.0.1:`)

	// Timers apply too: a partial PDU over TLS is dropped by the PDU read timer.
	p := dial()
	if err := p.Write([]byte{0, 0, 0, 30, 0}); err != nil {
		t.Fatal(err)
	}
	mustClosed(t, p)
	ts.logs.waitLog(t, `"reason":"pdu_read_timeout"`)
	// And the per-IP limit counts TLS peers by their real address.
	if ts.Stats().Sessions != 0 {
		eventually(t, "sessions closed", func() bool { return ts.Stats().Sessions == 0 })
	}
}

// startTLS runs a test server with a TLS listener; mod adjusts the options.
func startTLS(t *testing.T, mod func(*Options)) (*testServer, *x509.CertPool) {
	t.Helper()
	cert, pool := selfSigned(t)
	ts := start(t, func(o *Options) {
		o.TLSAddr = "127.0.0.1:0"
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if mod != nil {
			mod(o)
		}
	})
	return ts, pool
}

// tlsBound handshakes over nc and binds as a transceiver.
func tlsBound(t *testing.T, nc net.Conn, pool *x509.CertPool) *smpptest.Client {
	t.Helper()
	tc := tls.Client(nc, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	_ = tc.SetDeadline(time.Now().Add(wait))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	_ = tc.SetDeadline(time.Time{})
	c := smpptest.NewClient(tc)
	t.Cleanup(func() { _ = c.Close() })
	if h, _, err := c.Bind(codec.BindTransceiverID, "user", "secret", 0x34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind over tls: %v %v", h.Status, err)
	}
	return c
}

func (ts *testServer) connsFrom(ip string) int {
	ts.limits.mu.Lock()
	defer ts.limits.mu.Unlock()
	return ts.limits.perIP[netip.MustParseAddr(ip)]
}

func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return nc
}

// expectEOF waits for the server to close nc.
func expectEOF(t *testing.T, nc net.Conn) {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(wait))
	var b [1]byte
	if _, err := nc.Read(b[:]); err == nil || isTimeout(err) {
		t.Fatalf("connection still open: %v", err)
	}
}

// A TLS client holds its connection slot from accept: handshakes it never
// finishes count against max_connections_per_ip like sessions.
func TestTLSHandshakesCountAgainstPerIPLimit(t *testing.T) {
	t.Parallel()
	ts, pool := startTLS(t, func(o *Options) {
		o.MaxConnectionsPerIP = 3
		o.TLSHandshakeTimeout = time.Minute
	})
	tlsAddr := ts.TLSListenAddr().String()
	half := []net.Conn{rawDial(t, tlsAddr), rawDial(t, tlsAddr), rawDial(t, tlsAddr)}
	eventually(t, "three handshakes counted", func() bool { return ts.connsFrom("127.0.0.1") == 3 })
	expectEOF(t, rawDial(t, tlsAddr))
	mustClosed(t, ts.dial(t)) // plain SMPP from the same address: refused too
	if st := ts.Stats(); st.Refused != 2 || st.Sessions != 0 {
		t.Fatalf("stats %+v", st)
	}
	ts.logs.waitLog(t, `"event":"refused"`, `"tls":true`)
	o := dialFrom(t, ts.addr, lo2) // another address is not affected
	mustSend(t, o, codec.EnquireLinkID, 1, nil)
	mustExpect(t, o, codec.EnquireLinkRespID, codec.StatusOK)
	// A finished handshake hands its slot to the session: still 3, not 4.
	_ = half[0].Close()
	eventually(t, "slot freed", func() bool { return ts.connsFrom("127.0.0.1") == 2 })
	c := tlsBound(t, rawDial(t, tlsAddr), pool)
	if n := ts.connsFrom("127.0.0.1"); n != 3 {
		t.Fatalf("%d slots held with two handshakes and one session", n)
	}
	_ = c.Close()
	for _, h := range half[1:] {
		_ = h.Close()
	}
	eventually(t, "every slot released", func() bool { return ts.connsFrom("127.0.0.1") == 0 })
}

func TestTLSHandshakeTimeout(t *testing.T) {
	t.Parallel()
	ts, pool := startTLS(t, func(o *Options) {
		o.MaxConnectionsPerIP = 1
		// Also what the last client has for its handshake and bind: 4-11 ms
		// under the race detector, but a client starved of CPU on a loaded
		// machine has taken over 150 ms in a like window.
		o.TLSHandshakeTimeout = time.Second
	})
	tlsAddr := ts.TLSListenAddr().String()
	silent := rawDial(t, tlsAddr)
	expectEOF(t, silent)
	// The slot is released just after the close: wait for it, or the next
	// dial meets the limit of 1 instead of the handshake timeout.
	eventually(t, "first slot released", func() bool { return ts.connsFrom("127.0.0.1") == 0 })
	// A client that starts the handshake and stalls is cut the same way.
	partial := rawDial(t, tlsAddr)
	if _, err := partial.Write([]byte{22, 3, 1, 0, 200, 1}); err != nil { // a ClientHello record header and one octet
		t.Fatal(err)
	}
	expectEOF(t, partial)
	eventually(t, "timeouts counted", func() bool { return ts.Stats().TLSHandshakeTimeouts == 2 })
	eventually(t, "slot released", func() bool { return ts.connsFrom("127.0.0.1") == 0 })
	tlsBound(t, rawDial(t, tlsAddr), pool) // the limit of 1 is free again
}

// tinyRcvBuf dials addr with a 4 KiB receive buffer: a peer that stops
// reading closes its TCP window quickly.
func tinyRcvBuf(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: wait, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return nc
}

// fillDeliveries posts n deliver_sm of 64 KiB to user: several MiB for a
// peer that reads none of them.
func fillDeliveries(t *testing.T, ts *testServer, n int) {
	t.Helper()
	body := make([]byte, 64<<10)
	for i := range n {
		if err := ts.Deliver("user", &Delivery{Body: body, Ref: uint64(i)}); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(ents)
}

// A TLS peer that completes the handshake, binds and then never reads: the
// relay's write to it times out, and its goroutines and descriptors are
// released. Not parallel: it counts the process's goroutines and fds.
func TestTLSZeroWindowPeerReleased(t *testing.T) {
	ts, pool := startTLS(t, func(o *Options) {
		o.TLSWriteTimeout = 300 * time.Millisecond
		o.MaxOutboundBacklog = 64 << 20 // the relay, not the session's cap, meets the stuck peer
	})
	tlsAddr := ts.TLSListenAddr().String()
	// One session first, so that gnet's enroll worker exists in the baseline.
	warm := tlsBound(t, rawDial(t, tlsAddr), pool)
	_ = warm.Close()
	eventually(t, "warm-up session gone", func() bool { return ts.Stats().Sessions == 0 && ts.connsFrom("127.0.0.1") == 0 })
	eventually(t, "warm-up relay gone", func() bool { ts.tlsConns.mu.Lock(); defer ts.tlsConns.mu.Unlock(); return len(ts.tlsConns.m) == 0 })
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)

	c := tlsBound(t, tinyRcvBuf(t, tlsAddr), pool)
	fillDeliveries(t, ts, 200) // 12.8 MiB: more than the kernel buffers between us
	eventually(t, "relay write timed out", func() bool { return ts.Stats().TLSWriteTimeouts == 1 })
	ts.logs.waitLog(t, `"event":"tls_write_timeout"`, `"remote":"127.0.0.1:`)
	eventually(t, "session closed", func() bool { return ts.Stats().Sessions == 0 })
	_ = c.Close()
	eventually(t, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= goroutines })
	eventually(t, "descriptors back to baseline", func() bool { return openFDs(t) <= fds })
	if n := ts.connsFrom("127.0.0.1"); n != 0 {
		t.Fatalf("%d connection slots still held", n)
	}
}

// Shutdown does not wait for a TLS peer that stopped reading: once the
// grace period is over the relay is closed, long before TLSWriteTimeout.
func TestShutdownWithZeroWindowTLSPeer(t *testing.T) {
	t.Parallel()
	ts, pool := startTLS(t, func(o *Options) {
		o.TLSWriteTimeout = time.Minute
		o.MaxOutboundBacklog = 64 << 20
	})
	tlsBound(t, tinyRcvBuf(t, ts.TLSListenAddr().String()), pool)
	fillDeliveries(t, ts, 200)
	time.Sleep(300 * time.Millisecond) // the relay fills the kernel buffers and blocks
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > wait {
		t.Fatalf("Shutdown took %v with a zero-window TLS peer", took)
	}
}
