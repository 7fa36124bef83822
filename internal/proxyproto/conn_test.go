package proxyproto

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// listen returns a Listener on loopback trusting 127.0.0.0/8 (or nothing)
// and a channel of the refusals it reported.
func listen(t *testing.T, trusted Trusted) (*Listener, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan error, 4)
	l := &Listener{Listener: ln, Trusted: trusted, Timeout: 300 * time.Millisecond,
		Refused: func(_ net.Addr, err error) { refused <- err }}
	t.Cleanup(func() { _ = l.Close() })
	return l, refused
}

var loopback = Trusted{netip.MustParsePrefix("127.0.0.0/8")}

// serveOne accepts one connection and reports its RemoteAddr and what it
// read to EOF.
func serveOne(t *testing.T, l *Listener) (chan string, chan []byte) {
	addr, data := make(chan string, 1), make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			addr <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		addr <- c.RemoteAddr().String()
		b, _ := io.ReadAll(c)
		data <- b
	}()
	return addr, data
}

func dial(t *testing.T, l *Listener, send ...[]byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	for _, b := range send {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // separate segments
	}
	return c
}

func TestListenerV1AndData(t *testing.T) {
	l, _ := listen(t, loopback)
	addr, data := serveOne(t, l)
	c := dial(t, l, []byte("PROXY TCP4 192.0.2.7 127.0.0.1 40000 1401\r\nGET"), []byte(" / HTTP/1.1\r\n"))
	_ = c.(*net.TCPConn).CloseWrite()
	if a := <-addr; a != "192.0.2.7:40000" {
		t.Fatalf("RemoteAddr = %s", a)
	}
	if d := string(<-data); d != "GET / HTTP/1.1\r\n" {
		t.Fatalf("data = %q", d)
	}
}

func TestListenerV2SplitHeader(t *testing.T) {
	l, _ := listen(t, loopback)
	addr, data := serveOne(t, l)
	h := v2(1, 0x21, v2inet6(netip.MustParseAddr("2001:db8::5"), netip.MustParseAddr("::1"), 9, 10))
	c := dial(t, l, h[:5], h[5:20], append(h[20:], 'x'))
	_ = c.(*net.TCPConn).CloseWrite()
	if a := <-addr; a != "[2001:db8::5]:9" {
		t.Fatalf("RemoteAddr = %s", a)
	}
	if d := string(<-data); d != "x" {
		t.Fatalf("data = %q", d)
	}
}

func TestListenerLocalKeepsPeer(t *testing.T) {
	l, _ := listen(t, loopback)
	addr, _ := serveOne(t, l)
	c := dial(t, l, v2(0, 0, nil))
	if a := <-addr; a != c.LocalAddr().String() {
		t.Fatalf("RemoteAddr = %s, want the proxy's %s", a, c.LocalAddr())
	}
}

func TestListenerUntrustedPassesThrough(t *testing.T) {
	l, refused := listen(t, Trusted{netip.MustParsePrefix("10.0.0.0/8")})
	addr, data := serveOne(t, l)
	c := dial(t, l, []byte("PROXY TCP4 192.0.2.7 127.0.0.1 40000 1401\r\n"))
	_ = c.(*net.TCPConn).CloseWrite()
	if a := <-addr; a != c.LocalAddr().String() {
		t.Fatalf("RemoteAddr = %s, want the peer's own %s", a, c.LocalAddr())
	}
	if d := string(<-data); d != "PROXY TCP4 192.0.2.7 127.0.0.1 40000 1401\r\n" {
		t.Fatalf("an untrusted peer's header was consumed: %q", d)
	}
	select {
	case err := <-refused:
		t.Fatalf("refused %v", err)
	default:
	}
}

// A trusted peer that sends garbage, too much or nothing in time is
// refused and closed; Accept keeps serving others meanwhile.
func TestListenerRefusesBadHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		send []byte
		want error
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\n\r\n"), ErrNoHeader},
		{"malformed", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n"), ErrMalformed},
		{"oversized", append([]byte("PROXY TCP4 "), make([]byte, 200)...), ErrTooLong},
		{"v2 oversized", append(append([]byte{}, v2Sig[:]...), 0x21, 0x11, 0x7F, 0xFF), ErrTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, refused := listen(t, loopback)
			_, data := serveOne(t, l)
			dial(t, l, tc.send)
			if err := <-refused; err != tc.want {
				t.Fatalf("refused with %v, want %v", err, tc.want)
			}
			if d := <-data; len(d) != 0 {
				t.Fatalf("read %q after a refusal", d)
			}
		})
	}
	t.Run("slow", func(t *testing.T) {
		l, refused := listen(t, loopback)
		start := time.Now()
		_, data := serveOne(t, l)
		dial(t, l, []byte("PROXY TCP4 1.2.3.4"))
		err := <-refused
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("refused with %v, want a timeout", err)
		}
		<-data
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("slow header held the connection %v", d)
		}
	})
}

// A peer holding its header back does not hold Accept.
func TestListenerSlowHeaderDoesNotBlockAccept(t *testing.T) {
	l, _ := listen(t, loopback)
	var wg sync.WaitGroup
	wg.Add(2)
	got := make(chan string, 2)
	go func() {
		for range 2 {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer wg.Done()
				got <- c.RemoteAddr().String()
				_ = c.Close()
			}()
		}
	}()
	dial(t, l) // says nothing
	dial(t, l, []byte("PROXY TCP4 192.0.2.9 127.0.0.1 1 2\r\n"))
	select {
	case a := <-got:
		if a != "192.0.2.9:1" {
			t.Fatalf("first answer %s, want the second connection's client", a)
		}
	case <-time.After(250 * time.Millisecond): // under the 300 ms timeout
		t.Fatal("the silent connection held the other")
	}
	wg.Wait()
}
