package httpapi

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/internal/proxyproto"
)

// behind makes e's client open every connection with a PROXY v1 header
// naming client, as a load balancer does.
func behind(e *env, client string) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	e.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if _, err := io.WriteString(c, "PROXY TCP4 "+client+" 127.0.0.1 40000 1401\r\n"); err != nil {
				_ = c.Close()
				return nil, err
			}
			return c, nil
		}}}
}

func trustLoopback(o *Options) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	o.ProxyHeaders = func(ln net.Listener, refused func(net.Addr, error)) net.Listener {
		return &proxyproto.Listener{Listener: ln, Trusted: trusted, Timeout: 300 * time.Millisecond, Refused: refused}
	}
}

// The failed-login limiter sees the client's address from the header: one
// client guessing alice's password is blocked, another behind the same
// proxy is not.
func TestProxyHeaderClientAddressReachesTheLimiter(t *testing.T) {
	e := newEnv(t, trustLoopback)
	behind(e, "192.0.2.7")
	for i := range 50 {
		if a := e.get("/send", sendQuery("alice", "password", "guess")); a.status != 403 {
			t.Fatalf("guess %d: %d %s", i, a.status, a.body)
		}
	}
	e.get("/send", sendQuery("alice")).want(t, 403,
		`Error "Authentication failure for username:alice (too many failed logins from this address: try later)"`)
	behind(e, "192.0.2.8")
	if a := e.get("/send", sendQuery("alice")); a.status != 200 {
		t.Fatalf("another client behind the proxy: %d %s", a.status, a.body)
	}
	if n := e.srv.Stats().ProxyHeaderRefusals; n != 0 {
		t.Fatalf("%d refusals", n)
	}
}

// A trusted peer without a valid header in time is closed unanswered and
// counted; the listener goes on serving.
func TestProxyHeaderRefusedOnHTTP(t *testing.T) {
	e := newEnv(t, trustLoopback)
	addr := strings.TrimPrefix(e.url, "http://")
	for i, send := range []string{
		"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n",
		"PROXY TCP4 1.2.3.4", // slow: never finished
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, send)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c)
		_ = c.Close()
		if len(b) != 0 || err != nil {
			t.Fatalf("%q: read %q, %v; want a close without an answer", send, b, err)
		}
		if n := e.srv.Stats().ProxyHeaderRefusals; n != uint64(i+1) {
			t.Fatalf("%q: %d refusals", send, n)
		}
	}
	behind(e, "192.0.2.9")
	if a := e.get("/ping", nil); a.status != 200 {
		t.Fatalf("ping behind the proxy: %d %s", a.status, a.body)
	}
}
