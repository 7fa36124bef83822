package config

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ProxyProtocol is [proxy-protocol]: the TCP load balancers whose
// connections to the SMPP, SMPP-TLS and HTTP API listeners open with a PROXY
// protocol header (v1 or v2) naming the client. The client's address then
// serves allow_ips, the per-address connection limits, failed-bind
// throttling and the logs. Empty Trusted (the default) turns it off.
type ProxyProtocol struct {
	// Trusted is a list of CIDRs or bare addresses. A connection from one
	// of them without a valid header within HeaderTimeout is closed; a
	// connection from anywhere else is served as it is, by its own address.
	Trusted []string `toml:"trusted"`
	// HeaderTimeout bounds the wait for the header.
	HeaderTimeout Duration `toml:"header_timeout"`

	// TrustedPrefixes is Trusted parsed (masked, IPv4-mapped unmapped).
	TrustedPrefixes []netip.Prefix `toml:"-"`
}

// Bounds of [proxy-protocol] header_timeout.
const (
	minProxyHeaderTimeout = 100 * time.Millisecond
	maxProxyHeaderTimeout = time.Minute
)

// DefaultProxyProtocol is [proxy-protocol] when the file says nothing: off.
func DefaultProxyProtocol() ProxyProtocol {
	return ProxyProtocol{HeaderTimeout: Duration(5 * time.Second)}
}

func (v *validator) proxyProtocol() {
	pp := &v.c.ProxyProtocol
	const p = "proxy-protocol."
	if d := pp.HeaderTimeout.D(); d < minProxyHeaderTimeout || d > maxProxyHeaderTimeout {
		v.fail(p+"header_timeout", "%v is out of range %v..%v", pp.HeaderTimeout, minProxyHeaderTimeout, maxProxyHeaderTimeout)
	}
	pp.TrustedPrefixes = nil
	for i, s := range pp.Trusted {
		pfx, err := parseNet(s)
		if err != nil {
			v.fail(p+"trusted["+strconv.Itoa(i)+"]", "%q is not an address or CIDR", s)
			continue
		}
		pp.TrustedPrefixes = append(pp.TrustedPrefixes, pfx)
	}
}

// parseNet accepts "10.0.0.0/8", "2001:db8::/32" or a bare address (a /32
// or /128), masked, an IPv4-mapped IPv6 prefix of /96 or longer unmapped
// (peers are matched by their unmapped address).
func parseNet(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, err
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
