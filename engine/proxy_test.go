package engine

import (
	"crypto/tls"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// remoteAuth records the address every bind was checked with.
type remoteAuth struct {
	*fakeAuth
	mu      sync.Mutex
	remotes []netip.AddrPort
}

func (a *remoteAuth) Authenticate(req BindRequest) (Principal, codec.Status) {
	a.mu.Lock()
	a.remotes = append(a.remotes, req.Remote)
	a.mu.Unlock()
	return a.fakeAuth.Authenticate(req)
}

func (a *remoteAuth) last() netip.AddrPort {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.remotes) == 0 {
		return netip.AddrPort{}
	}
	return a.remotes[len(a.remotes)-1]
}

func proxied(ra *remoteAuth, trusted string) func(*Options) {
	return func(o *Options) {
		o.Authenticator = ra
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix(trusted)}
		o.ProxyHeaderTimeout = 300 * time.Millisecond
	}
}

func proxyV2(src netip.AddrPort) []byte {
	b := []byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0, 12}
	a := src.Addr().As4()
	b = append(b, a[:]...)
	b = append(b, 127, 0, 0, 1)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, 2775)
}

func bindFrame() []byte {
	return smpptest.Frame(codec.BindTransceiverID, 0, 1, smpptest.BindBody("user", "secret", codec.InterfaceVersion34))
}

// proxyDial sends pieces (each its own segment) and returns the client.
func proxyDial(t *testing.T, addr string, pieces ...[]byte) *smpptest.Client {
	t.Helper()
	c, err := smpptest.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	for _, p := range pieces {
		if err := c.Write(p); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return c
}

// The client's address from the header is what the bind is checked with
// and what the logs show: v1 and v2, the header whole or in pieces, with
// the bind in the same segment or after.
func TestProxyHeaderGivesTheClientsAddress(t *testing.T) {
	t.Parallel()
	ra := &remoteAuth{fakeAuth: newAuth()}
	ts := start(t, proxied(ra, "127.0.0.0/8"))
	v1 := []byte("PROXY TCP4 192.0.2.7 127.0.0.1 40001 2775\r\n")
	for _, tc := range []struct {
		name   string
		pieces [][]byte
		want   string
	}{
		{"v1 with the bind", [][]byte{append(append([]byte{}, v1...), bindFrame()...)}, "192.0.2.7:40001"},
		{"v1 in pieces", [][]byte{v1[:3], v1[3:20], v1[20:], bindFrame()}, "192.0.2.7:40001"},
		{"v2", [][]byte{proxyV2(netip.MustParseAddrPort("198.51.100.9:5000")), bindFrame()}, "198.51.100.9:5000"},
		{"v2 in pieces", [][]byte{proxyV2(netip.MustParseAddrPort("198.51.100.9:5001"))[:13], append(proxyV2(netip.MustParseAddrPort("198.51.100.9:5001"))[13:], bindFrame()...)}, "198.51.100.9:5001"},
		{"v1 unknown keeps the proxy's", [][]byte{[]byte("PROXY UNKNOWN\r\n"), bindFrame()}, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := proxyDial(t, ts.addr, tc.pieces...)
			mustExpect(t, c, codec.BindTransceiverRespID, codec.StatusOK)
			got := ra.last().String()
			if tc.want == "127.0.0.1" {
				got = ra.last().Addr().String()
			}
			if got != tc.want {
				t.Fatalf("bind checked with %s, want %s", got, tc.want)
			}
			if tc.want != "127.0.0.1" {
				ts.logs.waitLog(t, `"event":"bind"`, `"remote":"`+tc.want+`"`)
			}
		})
	}
	if n := ts.Stats().ProxyHeaderRefusals; n != 0 {
		t.Fatalf("%d refusals", n)
	}
}

// A trusted peer's connection without a valid header in time is closed
// with a log line, and never served: hostile input.
func TestProxyHeaderRefusals(t *testing.T) {
	t.Parallel()
	ra := &remoteAuth{fakeAuth: newAuth()}
	ts := start(t, proxied(ra, "127.0.0.0/8"))
	for i, tc := range []struct {
		name   string
		pieces [][]byte
		detail string
	}{
		{"no header", [][]byte{bindFrame()}, "no PROXY header"},
		{"malformed", [][]byte{[]byte("PROXY TCP4 192.0.2.7 127.0.0.1 99999 2775\r\n"), bindFrame()}, "malformed"},
		{"oversized v1", [][]byte{[]byte("PROXY TCP4 " + strings.Repeat("1", 200))}, "too long"},
		{"oversized v2", [][]byte{append(proxyV2(netip.MustParseAddrPort("192.0.2.1:1"))[:14], 0xFF, 0xFF)}, "too long"},
		{"slow", [][]byte{[]byte("PROXY TCP4 192.0.2.7")}, "proxy_header_timeout"},
		{"silent", nil, "proxy_header_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := proxyDial(t, ts.addr, tc.pieces...)
			mustClosed(t, c)
			ts.logs.waitLog(t, `"event":"proxy_header_refused"`, tc.detail)
			ts.logs.waitLog(t, `"event":"close"`, `"reason":"proxy_header"`)
			eventually(t, "the refusal counted", func() bool { return ts.Stats().ProxyHeaderRefusals == uint64(i+1) })
		})
	}
	if len(ra.remotes) != 0 {
		t.Fatalf("a refused connection reached a bind check: %v", ra.remotes)
	}
	eventually(t, "every slot released", func() bool { return ts.Stats().Sessions == 0 })
}

// An untrusted peer is served as it is, by its own address: a header
// from it is SMPP framing gone wrong.
func TestProxyHeaderFromUntrustedPeer(t *testing.T) {
	t.Parallel()
	ra := &remoteAuth{fakeAuth: newAuth()}
	ts := start(t, proxied(ra, "10.0.0.0/8"))
	c := proxyDial(t, ts.addr, []byte("PROXY TCP4 192.0.2.7 127.0.0.1 40001 2775\r\n"))
	mustClosed(t, c)
	ts.logs.waitLog(t, `"event":"close"`, `"reason":"bad_framing"`)
	c = proxyDial(t, ts.addr, bindFrame())
	mustExpect(t, c, codec.BindTransceiverRespID, codec.StatusOK)
	if a := ra.last().Addr().String(); a != "127.0.0.1" {
		t.Fatalf("bind checked with %s", a)
	}
}

// The per-address connection limit counts the client's address: two
// clients behind one proxy each get their share; the same client's second
// connection is refused.
func TestProxyHeaderPerAddressLimit(t *testing.T) {
	t.Parallel()
	ra := &remoteAuth{fakeAuth: newAuth()}
	ts := start(t, func(o *Options) {
		proxied(ra, "127.0.0.0/8")(o)
		o.MaxConnectionsPerIP = 1
	})
	hdr := func(a string) []byte { return []byte("PROXY TCP4 " + a + " 127.0.0.1 40001 2775\r\n") }
	a := proxyDial(t, ts.addr, hdr("192.0.2.1"), bindFrame())
	mustExpect(t, a, codec.BindTransceiverRespID, codec.StatusOK)
	b := proxyDial(t, ts.addr, hdr("192.0.2.2"), bindFrame())
	mustExpect(t, b, codec.BindTransceiverRespID, codec.StatusOK)
	c := proxyDial(t, ts.addr, hdr("192.0.2.1"), bindFrame())
	mustClosed(t, c)
	ts.logs.waitLog(t, `"event":"refused"`, `"remote":"192.0.2.1:40001"`, `"proxy":"127.0.0.1:`)
	_ = a.Close()
	eventually(t, "192.0.2.1's slot released", func() bool { return ts.Stats().Sessions == 1 })
	d := proxyDial(t, ts.addr, hdr("192.0.2.1"), bindFrame())
	mustExpect(t, d, codec.BindTransceiverRespID, codec.StatusOK)
}

// The TLS listener reads the header before the handshake.
func TestProxyHeaderOverTLS(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	ra := &remoteAuth{fakeAuth: newAuth()}
	ts := start(t, func(o *Options) {
		proxied(ra, "127.0.0.0/8")(o)
		o.TLSAddr = "127.0.0.1:0"
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	})
	tlsAddr := ts.TLSListenAddr().String()
	raw, err := net.Dial("tcp", tlsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Write([]byte("PROXY TCP6 2001:db8::42 ::1 40002 3550\r\n")); err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	c := smpptest.NewClient(tc)
	h, _, err := c.Bind(codec.BindTransceiverID, "user", "secret", codec.InterfaceVersion34)
	if err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind over TLS behind a proxy: %v %v", h.Status, err)
	}
	if got := ra.last().String(); got != "[2001:db8::42]:40002" {
		t.Fatalf("bind checked with %s", got)
	}
	// No header: refused before any handshake.
	bad, err := net.Dial("tcp", tlsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	btc := tls.Client(bad, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	_ = bad.SetDeadline(time.Now().Add(wait))
	if err := btc.Handshake(); err == nil {
		t.Fatal("a handshake without a PROXY header succeeded")
	}
	ts.logs.waitLog(t, `"event":"proxy_header_refused"`, `"tls":true`)
}
