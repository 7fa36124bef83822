package engine

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/freeport"
	"github.com/smppd/smppd/internal/smpptest"
)

// TestReusePortHandOver: two servers share one port (the old process and
// its successor in an upgrade). Once the first stops accepting, every new
// connection binds on the second, while the first's bound session goes on
// until its Shutdown.
func TestReusePortHandOver(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	reuse := func(o *Options) { o.Addr, o.ReusePort = addr, true }
	old := start(t, reuse)
	kept := old.bound(t, codec.BindTransceiverID)
	next := start(t, reuse)

	old.StopAccepting()
	old.logs.waitLog(t, `"event":"stop_accepting"`, `"listeners":2`)
	before := old.auth.calls.Load()
	for i := 0; i < 20; i++ {
		c, err := smpptest.Dial(addr)
		if err != nil {
			t.Fatalf("dial %d after StopAccepting: %v", i, err)
		}
		h, _, err := c.Bind(codec.BindTransmitterID, "user", "secret", codec.InterfaceVersion34)
		_ = c.Close()
		if err != nil || h.Status != codec.StatusOK {
			t.Fatalf("bind %d after StopAccepting: %v %v", i, h.Status, err)
		}
	}
	if got := old.auth.calls.Load(); got != before {
		t.Fatalf("the stopped server checked %d binds after StopAccepting", got-before)
	}
	if got := next.auth.granted.Load(); got != 20 {
		t.Fatalf("successor granted %d binds, want 20", got)
	}
	// The old session is served as before, and unbound at Shutdown.
	mustSend(t, kept, codec.EnquireLinkID, 7, nil)
	mustExpect(t, kept, codec.EnquireLinkRespID, codec.StatusOK)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		done <- old.Shutdown(ctx)
	}()
	h, _ := mustExpect(t, kept, codec.UnbindID, codec.StatusOK)
	mustSend(t, kept, codec.UnbindRespID, h.Sequence, nil)
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	next.bound(t, codec.BindReceiverID) // still listening after the other left
}

// TestReusePortOffRefusesSharedPort: without ReusePort a second server on a
// port in use fails to start (a stray second smppd), and ReusePort needs a
// fixed port.
func TestReusePortOffRefusesSharedPort(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	start(t, func(o *Options) { o.Addr, o.ReusePort = addr, true })
	srv, err := New(Options{Addr: addr, EventLoops: 1, Authenticator: newAuth()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("second listener without ReusePort: %v, want address already in use", err)
	}
	if _, err := New(Options{Addr: "127.0.0.1:0", ReusePort: true, Authenticator: newAuth()}); err == nil {
		t.Fatal("ReusePort with port 0 accepted")
	}
}

// TestPlaceholderIPv6: the fallback for a host without IPv4 loopback
// takes no connection either.
func TestPlaceholderIPv6(t *testing.T) {
	fd, err := listenDropAll(unix.AF_INET6, &unix.SockaddrInet6{Addr: [16]byte{15: 1}})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	to := net.JoinHostPort("::1", strconv.Itoa(sa.(*unix.SockaddrInet6).Port))
	if c, err := net.DialTimeout("tcp", to, 300*time.Millisecond); err == nil {
		_ = c.Close()
		t.Fatalf("connected to the placeholder %s", to)
	}
	if _, _, err := unix.Accept(fd); err != unix.EAGAIN {
		t.Fatalf("accept on the placeholder: %v, want EAGAIN", err)
	}
}

// TestStopAcceptingPlaceholderRefuses: a listener's placeholder takes no
// connection and answers accept with EAGAIN.
func TestStopAcceptingPlaceholderRefuses(t *testing.T) {
	fd, err := placeholder()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	a := sa.(*unix.SockaddrInet4)
	to := net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	c, err := net.DialTimeout("tcp", to, 300*time.Millisecond)
	if err == nil {
		_ = c.Close()
		t.Fatalf("connected to the placeholder %s", to)
	}
	if _, _, err := unix.Accept(fd); err != unix.EAGAIN {
		t.Fatalf("accept on the placeholder: %v, want EAGAIN", err)
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	p, err := freeport.One()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReusePortTLS: the TLS listener shares its port too, and leaves it at
// StopAccepting: every handshake after it is the successor's.
func TestReusePortTLS(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	tlsAddr := "127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	reuse := func(o *Options) { o.Addr, o.TLSAddr, o.ReusePort = addr, tlsAddr, true }
	old, _ := startTLS(t, reuse)
	next, pool := startTLS(t, reuse) // its own certificate: a handshake with the old one fails
	old.StopAccepting()
	before := old.auth.calls.Load()
	for i := 0; i < 10; i++ {
		c := tlsBound(t, rawDial(t, tlsAddr), pool)
		_ = c.Close()
	}
	if got := old.auth.calls.Load(); got != before {
		t.Fatalf("the stopped server checked %d TLS binds after StopAccepting", got-before)
	}
	if got := next.auth.granted.Load(); got != 10 {
		t.Fatalf("successor granted %d TLS binds, want 10", got)
	}
}
