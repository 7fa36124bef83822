// Package netguard decides which addresses smppd may connect to on a
// customer's behalf (a dlr-url's receiver), so a customer cannot make it
// reach the operator's internal services (a cloud metadata endpoint, an
// admin port on loopback, a private network): server-side request forgery.
//
// A Guard denies the addresses in its deny networks unless its allow
// networks hold them too. It is applied twice: to a URL's literal host
// when the URL is given (CheckURL: the customer gets an answer at once),
// and to the address actually dialled (Control, a net.Dialer's Control
// hook): a name is checked after it is resolved, on the connection being
// made, so neither a name pointing inside nor DNS rebinding (a name that
// resolved outside when checked and inside when dialled) gets through.
package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
)

// DefaultDeny is the deny list when the operator names none: addresses
// that are not the public Internet. IPv4-mapped IPv6 addresses are checked
// as the IPv4 address they carry.
var DefaultDeny = []string{
	"0.0.0.0/8",      // "this network", the unspecified address (RFC 1122)
	"10.0.0.0/8",     // private (RFC 1918)
	"100.64.0.0/10",  // carrier-grade NAT (RFC 6598)
	"127.0.0.0/8",    // loopback
	"169.254.0.0/16", // link-local, cloud metadata (169.254.169.254)
	"172.16.0.0/12",  // private (RFC 1918)
	"192.0.0.0/24",   // IETF protocol assignments (RFC 6890)
	"192.168.0.0/16", // private (RFC 1918)
	"198.18.0.0/15",  // benchmarking (RFC 2544)
	"224.0.0.0/4",    // multicast
	"240.0.0.0/4",    // reserved, broadcast
	"::/96",          // unspecified, loopback, IPv4-compatible (RFC 4291, deprecated)
	"64:ff9b::/96",   // NAT64: carries an IPv4 address (RFC 6052)
	"64:ff9b:1::/48", // local-use NAT64 (RFC 8215)
	"fc00::/7",       // unique local (RFC 4193)
	"fe80::/10",      // link-local
	"ff00::/8",       // multicast
	"2002::/16",      // 6to4: carries an IPv4 address (RFC 3056)
	"fec0::/10",      // site-local, deprecated (RFC 3879)
	"100::/64",       // discard-only (RFC 6666)
	"2001:db8::/32",  // documentation
}

// Guard is a deny list with exceptions. A nil *Guard allows everything.
// Safe for concurrent use; its counters count the refusals.
type Guard struct {
	lists   atomic.Pointer[lists] // swapped whole by Set: a check reads one version
	checked atomic.Uint64         // refusals by CheckURL
	dialled atomic.Uint64         // refusals by Control
}

type lists struct{ deny, allow []netip.Prefix }

// New builds a Guard that denies deny except allow.
func New(deny, allow []netip.Prefix) *Guard {
	g := &Guard{}
	g.Set(deny, allow)
	return g
}

// Set replaces the lists (a reload): checks and dials from then on use the
// new ones, so a URL a reload's check accepted is dialled under the same
// lists.
func (g *Guard) Set(deny, allow []netip.Prefix) {
	g.lists.Store(&lists{deny: append([]netip.Prefix(nil), deny...), allow: append([]netip.Prefix(nil), allow...)})
}

// ParsePrefixes reads networks written as CIDRs ("10.0.0.0/8") or single
// addresses ("192.0.2.7", "::1"); the first it cannot read is the error.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParsePrefix reads one network: a CIDR or an address (its own /32 or
// /128), masked.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Zone() != "" {
			return netip.Prefix{}, errors.New("netguard: " + s + ": no zone in a network")
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// DeniedError is a refusal: the address (or name) and why.
type DeniedError struct {
	Host string // the address or name refused
}

// ErrDenied matches every DeniedError (errors.Is).
var ErrDenied = errors.New("netguard: address not allowed")

func (e *DeniedError) Error() string {
	return "address " + e.Host + " not allowed ([webhook] deny_networks)"
}

// Is makes errors.Is(err, ErrDenied) true.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// Allowed reports whether a may be connected to: outside every deny
// network, or inside an allow network.
func (g *Guard) Allowed(a netip.Addr) bool {
	if g == nil {
		return true
	}
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return false
	}
	l := g.lists.Load()
	for _, p := range l.allow {
		if p.Contains(a) {
			return true
		}
	}
	for _, p := range l.deny {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// CheckURL refuses a URL whose host is a literal address Allowed refuses,
// or a name that always means loopback ("localhost", "*.localhost": RFC
// 6761) while loopback is denied. Other names are left to Control, at
// dial time. A URL that does not parse is not its business (nil).
func (g *Guard) CheckURL(raw string) error {
	if g == nil {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	a, err := netip.ParseAddr(host)
	if err != nil {
		if host != "localhost" && !strings.HasSuffix(host, ".localhost") {
			return nil
		}
		a = netip.IPv6Loopback()
		if g.Allowed(netip.AddrFrom4([4]byte{127, 0, 0, 1})) || g.Allowed(a) {
			return nil
		}
	} else if g.Allowed(a) {
		return nil
	}
	g.checked.Add(1)
	return &DeniedError{Host: host}
}

// Lookup resolves a name to its addresses, as net.Resolver.LookupNetIP
// does (network "ip").
type Lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)

// CheckResolvedURL is CheckURL for a URL the operator names in the
// configuration (an [[mo_route]]'s url), checked once at load where a
// lookup may wait: a name is resolved too, and refused when any address
// it resolves to is denied (the dialler would refuse that one). A lookup
// that fails is returned as it is, not as a DeniedError: the name may
// resolve later, when Control checks it. A URL that does not parse is
// nil, as for CheckURL.
func (g *Guard) CheckResolvedURL(ctx context.Context, raw string, lookup Lookup) error {
	if g == nil {
		return nil
	}
	if err := g.CheckURL(raw); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if _, err := netip.ParseAddr(host); err == nil || host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return nil // CheckURL's business, and allowed
	}
	addrs, err := lookup(ctx, "ip", host)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if !g.Allowed(a) {
			g.checked.Add(1)
			return &DeniedError{Host: host + " (" + a.Unmap().WithZone("").String() + ")"}
		}
	}
	return nil
}

// Control is a net.Dialer Control hook: it refuses a connection to an
// address Allowed refuses, after name resolution, before the connect.
func (g *Guard) Control(_, address string, _ syscall.RawConn) error {
	if g == nil {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	a, err := netip.ParseAddr(host)
	if err == nil && g.Allowed(a) {
		return nil
	}
	g.dialled.Add(1)
	return &DeniedError{Host: host}
}

// Refusals are how many URLs CheckURL refused and how many connections
// Control refused.
func (g *Guard) Refusals() (checked, dialled uint64) {
	if g == nil {
		return 0, 0
	}
	return g.checked.Load(), g.dialled.Load()
}
