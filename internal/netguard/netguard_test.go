package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func mustGuard(t *testing.T, deny, allow []string) *Guard {
	t.Helper()
	d, err := ParsePrefixes(deny)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParsePrefixes(allow)
	if err != nil {
		t.Fatal(err)
	}
	return New(d, a)
}

func TestDefaultDeny(t *testing.T) {
	g := mustGuard(t, DefaultDeny, nil)
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1", false}, {"127.255.0.9", false}, {"169.254.169.254", false}, {"10.1.2.3", false},
		{"172.16.0.1", false}, {"172.31.255.255", false}, {"192.168.1.1", false}, {"100.64.0.1", false},
		{"0.0.0.0", false}, {"224.0.0.1", false}, {"255.255.255.255", false}, {"::1", false}, {"::", false},
		{"::7f00:1", false}, {"fe80::1", false}, {"fd12:3456::1", false}, {"ff02::1", false},
		{"::ffff:127.0.0.1", false}, {"::ffff:169.254.169.254", false}, {"64:ff9b::a9fe:a9fe", false},
		{"fe80::1%eth0", false},
		{"8.8.8.8", true}, {"172.32.0.1", true}, {"193.0.14.129", true}, {"2001:4860:4860::8888", true},
		{"::ffff:8.8.8.8", true},
	} {
		if got := g.Allowed(netip.MustParseAddr(c.addr)); got != c.ok {
			t.Errorf("Allowed(%s) = %v, want %v", c.addr, got, c.ok)
		}
	}
	var nilGuard *Guard
	if !nilGuard.Allowed(netip.MustParseAddr("127.0.0.1")) || nilGuard.CheckURL("http://127.0.0.1/") != nil {
		t.Error("a nil Guard must allow everything")
	}
}

func TestAllowOverridesDeny(t *testing.T) {
	g := mustGuard(t, DefaultDeny, []string{"127.0.0.0/8", "10.9.0.7"})
	for addr, ok := range map[string]bool{"127.0.0.1": true, "10.9.0.7": true, "10.9.0.8": false, "::1": false} {
		if got := g.Allowed(netip.MustParseAddr(addr)); got != ok {
			t.Errorf("Allowed(%s) = %v, want %v", addr, got, ok)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.0/8": "10.0.0.0/8", "10.1.2.3/8": "10.0.0.0/8",
		"192.0.2.7": "192.0.2.7/32", "::1": "::1/128", " fe80::/10 ": "fe80::/10"} {
		p, err := ParsePrefix(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "10.0.0.0/33", "example.com", "10.0.0", "fe80::1%eth0/64"} {
		if _, err := ParsePrefix(in); err == nil {
			t.Errorf("ParsePrefix(%q) accepted", in)
		}
	}
}

func TestCheckURL(t *testing.T) {
	g := mustGuard(t, DefaultDeny, nil)
	for raw, denied := range map[string]bool{
		"http://127.0.0.1:8080/dlr":                 true,
		"http://[::1]/dlr":                          true,
		"http://169.254.169.254/latest/meta-data/":  true,
		"https://10.0.0.5/x":                        true,
		"http://[::ffff:127.0.0.1]/":                true,
		"http://localhost:9000/":                    true,
		"http://LOCALHOST./":                        true,
		"http://api.localhost/":                     true,
		"http://user:pw@192.168.0.1:80/":            true,
		"http://receiver.example.com/dlr":           false, // a name: checked when dialled
		"https://8.8.8.8/dlr":                       false,
		"http://%zz/":                               false, // not a URL: the parameter check's business
		"http://localhost.example.com/not-loopback": false,
	} {
		err := g.CheckURL(raw)
		if (err != nil) != denied {
			t.Errorf("CheckURL(%q) = %v, want denied %v", raw, err, denied)
		}
		if err != nil && !errors.Is(err, ErrDenied) {
			t.Errorf("CheckURL(%q) = %v, not ErrDenied", raw, err)
		}
	}
	if checked, _ := g.Refusals(); checked != 9 {
		t.Errorf("refusals counted %d, want 9", checked)
	}
	open := mustGuard(t, DefaultDeny, []string{"127.0.0.0/8"})
	if err := open.CheckURL("http://localhost:9000/"); err != nil {
		t.Errorf("localhost with loopback allowed: %v", err)
	}
}

// TestControlChecksTheDialledAddress dials a real listener on loopback by
// name: the name passes CheckURL (it is not a literal) and resolves to a
// loopback address, which Control refuses before the connect.
func TestControlChecksTheDialledAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	dial := func(g *Guard, host string) error {
		d := net.Dialer{Timeout: 2 * time.Second, Control: g.Control}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c, err := d.DialContext(ctx, "tcp4", net.JoinHostPort(host, port))
		if err == nil {
			c.Close()
		}
		return err
	}
	deny := mustGuard(t, DefaultDeny, nil)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		err := dial(deny, host)
		if !errors.Is(err, ErrDenied) {
			t.Errorf("dial %s through the default guard: %v, want ErrDenied", host, err)
		}
	}
	if _, dialled := deny.Refusals(); dialled != 2 {
		t.Errorf("dial refusals counted %d, want 2", dialled)
	}
	allow := mustGuard(t, DefaultDeny, []string{"127.0.0.0/8"})
	if err := dial(allow, "127.0.0.1"); err != nil {
		t.Errorf("dial with loopback allowed: %v", err)
	}
}

// TestCheckResolvedURL: a name is looked up and refused when any of its
// addresses is denied; a failed lookup is its own error, not a refusal;
// literals and localhost go as CheckURL decides, without a lookup.
func TestCheckResolvedURL(t *testing.T) {
	names := map[string][]netip.Addr{
		"public.example":   {netip.MustParseAddr("192.0.2.80"), netip.MustParseAddr("2001:4860::1")},
		"inside.example":   {netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("::ffff:10.1.2.3")},
		"metadata.example": {netip.MustParseAddr("169.254.169.254")},
	}
	lookups := 0
	lookup := func(_ context.Context, network, host string) ([]netip.Addr, error) {
		lookups++
		if network != "ip" {
			t.Errorf("lookup network %q, want ip", network)
		}
		if a, ok := names[host]; ok {
			return a, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	ctx := context.Background()
	g := mustGuard(t, DefaultDeny, []string{"192.0.2.80"})
	for raw, want := range map[string]string{
		"https://public.example/mo": "",
		"http://Inside.Example./mo": "address inside.example (10.1.2.3) not allowed",
		"http://metadata.example/x": "address metadata.example (169.254.169.254) not allowed",
		"http://127.0.0.1:8080/mo":  "address 127.0.0.1 not allowed",
		"http://localhost/mo":       "address localhost not allowed",
		"https://8.8.8.8/mo":        "",
		"http://192.0.2.80/mo":      "",
	} {
		err := g.CheckResolvedURL(ctx, raw, lookup)
		got := ""
		if err != nil {
			got = err.Error()
			if !errors.Is(err, ErrDenied) {
				t.Errorf("CheckResolvedURL(%q) = %v, not ErrDenied", raw, err)
			}
		}
		if !strings.HasPrefix(got, want) || (want == "") != (got == "") {
			t.Errorf("CheckResolvedURL(%q) = %q, want %q", raw, got, want)
		}
	}
	if lookups != 3 {
		t.Errorf("%d lookups, want 3 (names only)", lookups)
	}
	err := g.CheckResolvedURL(ctx, "http://gone.example/mo", lookup)
	if err == nil || errors.Is(err, ErrDenied) {
		t.Errorf("a failed lookup: %v, want the lookup's error", err)
	}
	if checked, _ := g.Refusals(); checked != 4 {
		t.Errorf("refusals counted %d, want 4", checked)
	}
	loop := mustGuard(t, DefaultDeny, []string{"127.0.0.0/8", "::1"})
	if err := loop.CheckResolvedURL(ctx, "http://localhost:9/mo", lookup); err != nil {
		t.Errorf("localhost with loopback allowed: %v", err)
	}
}
