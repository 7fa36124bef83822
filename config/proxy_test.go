package config

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestProxyProtocolDefaultsOff(t *testing.T) {
	d := Defaults().ProxyProtocol
	if len(d.Trusted) != 0 || d.HeaderTimeout.D() != 5*time.Second {
		t.Errorf("[proxy-protocol] defaults drifted from docs/CONFIG.md: %+v", d)
	}
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[storage]\nkind = \"memory\"\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ProxyProtocol.TrustedPrefixes) != 0 {
		t.Errorf("trusted by default: %v", c.ProxyProtocol.TrustedPrefixes)
	}
}

func TestProxyProtocolTrusted(t *testing.T) {
	c, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[proxy-protocol]\n" +
		"trusted = [\"10.0.0.0/8\", \"192.0.2.7\", \"2001:db8::/32\", \"::ffff:198.51.100.0/120\", \"10.1.2.3/16\"]\n" +
		"header_timeout = \"2s\"\n"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("10.1.0.0/16")}
	if got := c.ProxyProtocol.TrustedPrefixes; !slices.Equal(got, want) {
		t.Errorf("trusted = %v, want %v", got, want)
	}
	if c.ProxyProtocol.HeaderTimeout.D() != 2*time.Second {
		t.Errorf("header_timeout = %v", c.ProxyProtocol.HeaderTimeout)
	}
}

func TestProxyProtocolRefused(t *testing.T) {
	f := func(src string, want ...string) {
		t.Helper()
		_, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[proxy-protocol]\n" + src}))
		wantErr(t, err, want...)
	}
	f("trusted = [\"10.0.0.0/8\", \"lb.example\"]\n", `:2: proxy-protocol.trusted[1]: "lb.example" is not an address or CIDR`)
	f("trusted = [\"10.0.0.0/33\"]\n", `proxy-protocol.trusted[0]: "10.0.0.0/33" is not an address or CIDR`)
	f("header_timeout = \"50ms\"\n", ":2: proxy-protocol.header_timeout: 50ms is out of range 100ms..1m0s")
	f("header_timeout = \"2m\"\n", "proxy-protocol.header_timeout: 2m0s is out of range 100ms..1m0s")
	f("trusted = \"10.0.0.0/8\"\n", "proxy-protocol.trusted")
}
