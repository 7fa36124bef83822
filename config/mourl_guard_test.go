package config

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// TestMain keeps the package's tests off the DNS: a name ending in
// ".inside.test" resolves to a private address, "gone.test" to nothing,
// any other to a documentation address (TEST-NET-1, not denied).
func TestMain(m *testing.M) {
	lookupNetIP = func(_ context.Context, _, host string) ([]netip.Addr, error) {
		switch {
		case strings.HasSuffix(host, ".inside.test"):
			return []netip.Addr{netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("10.20.30.40")}, nil
		case host == "gone.test":
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return []netip.Addr{netip.MustParseAddr("192.0.2.10")}, nil
	}
	os.Exit(m.Run())
}

// TestMOURLGuard: an [[mo_route]]'s url goes through [webhook]'s address
// guard at load, as a dlr-url does: a denied literal, localhost or a name
// resolving into a denied network is refused naming the key and its line;
// allow_networks admits an internal receiver; a name that does not
// resolve is a warning (the sender checks what it dials).
func TestMOURLGuard(t *testing.T) {
	route := func(url string) string {
		return "[[user]]\nsystem_id = \"u\"\npassword_hash = \"" + testHash + "\"\n\n" +
			"[[mo_route]]\nname = \"web\"\nurl = \"" + url + "\"\n"
	}
	for _, c := range []struct{ url, allow, want string }{
		{"http://127.0.0.1:8080/mo", "", "address 127.0.0.1 not allowed"},
		{"http://localhost/mo", "", "address localhost not allowed"},
		{"https://[fd00::5]/mo", "", "address fd00::5 not allowed"},
		{"http://mo.inside.test/in", "", "address mo.inside.test (10.20.30.40) not allowed"},
		{"http://mo.inside.test/in", `"10.20.0.0/16"`, ""},
		{"http://127.0.0.1:8080/mo", `"127.0.0.1"`, ""},
		{"https://mo.example.net/in", "", ""},
	} {
		src := route(c.url)
		if c.allow != "" {
			src += "\n[webhook]\nallow_networks = [" + c.allow + "]\n"
		}
		_, err := loadWebhook(t, src)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s (allow %s): %v", c.url, c.allow, err)
			}
			continue
		}
		// The url is written on line 7 of the file (after the user's 4 and a blank).
		if err == nil || !strings.Contains(err.Error(), "smppd.toml:7: mo_route[0].url") || !strings.Contains(err.Error(), c.want) ||
			!strings.Contains(err.Error(), "allow_networks") {
			t.Errorf("%s: %v, want a refusal at smppd.toml:7 naming mo_route[0].url and %q", c.url, err, c.want)
		}
	}
	c, err := loadWebhook(t, route("http://gone.test/mo"))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(c.Warnings, "\n"); !strings.Contains(w, "mo_route[0].url") || !strings.Contains(w, "no such host") {
		t.Errorf("warnings %q, want one naming mo_route[0].url", c.Warnings)
	}
}
