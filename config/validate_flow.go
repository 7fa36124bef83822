package config

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smppd/smppd/msg"
)

// Checks of the message-flow sections: connectors, routes, delivery and
// the admin listener ([storage] is validate_storage.go's).

func (v *validator) connectors() {
	c := v.c
	if len(c.Connectors) == 0 {
		v.fail("connector", "at least one connector is required (leave [[connector]] out to get the built-in simulator)")
		return
	}
	seen := make(map[string]int, len(c.Connectors))
	for i := range c.Connectors {
		cn := &c.Connectors[i]
		p := "connector[" + strconv.Itoa(i) + "]."
		if !validName(cn.Name) {
			v.fail(p+"name", "must be 1..64 of A-Z a-z 0-9 _ . : -, got %q", cn.Name)
		} else if j, dup := seen[cn.Name]; dup {
			v.fail(p+"name", "%q is already defined by connector[%d]", cn.Name, j)
		} else {
			seen[cn.Name] = i
		}
		v.intRange(p+"queue", cn.Queue, 1, 1<<24)
		slices.Sort(cn.others)
		for _, k := range cn.others {
			v.fail(p+k, "a [connector.%s] table is not allowed for type %q", k, cn.Type)
		}
	}
}

// backoff checks a doubling backoff's bounds: 0 < min <= max.
func (v *validator) backoff(minKey, maxKey string, lo, hi Duration) {
	if lo <= 0 {
		v.fail(minKey, "must be > 0")
	}
	if hi < lo {
		v.fail(maxKey, "%v is less than %s (%v)", hi, minKey[strings.LastIndexByte(minKey, '.')+1:], lo)
	}
}

func (v *validator) routes() {
	c := v.c
	conns := make(map[string]bool, len(c.Connectors))
	for _, cn := range c.Connectors {
		conns[cn.Name] = true
	}
	users := make(map[string]bool, len(c.Users))
	for _, u := range c.Users {
		users[u.SystemID] = true
	}
	groups := make(map[string]bool, len(c.Groups))
	for _, g := range c.Groups {
		groups[g.Name] = true
	}
	if len(c.MTRoutes) == 0 && len(c.Connectors) > 0 {
		c.MTRoutes = []MTRoute{DefaultMTRoute(c.Connectors[0].Name)}
	}
	used := make(map[string]bool, len(c.Connectors))
	for i := range c.MTRoutes {
		r := &c.MTRoutes[i]
		p := "mt_route[" + strconv.Itoa(i) + "]."
		for _, n := range r.Connectors {
			used[n] = true
			if !conns[n] {
				v.fail(p+"connectors", "unknown connector %q", n)
			}
		}
		v.filterRefs(p, &r.RouteFilter, conns, users, groups)
	}
	for i := range c.MORoutes {
		r := &c.MORoutes[i]
		p := "mo_route[" + strconv.Itoa(i) + "]."
		if r.User != "" && !users[r.User] {
			v.fail(p+"user", "unknown user %q", r.User)
		}
		v.filterRefs(p, &r.RouteFilter, conns, users, groups)
	}
	for _, cn := range c.Connectors {
		if !used[cn.Name] && conns[cn.Name] {
			v.warn("connector %q is in no mt_route: it only receives MO and receipts", cn.Name)
		}
	}
}

// filterRefs checks that the names a route's filters use exist.
func (v *validator) filterRefs(p string, f *RouteFilter, conns, users, groups map[string]bool) {
	for _, n := range f.Users {
		if !users[n] {
			v.fail(p+"users", "unknown user %q", n)
		}
	}
	for _, n := range f.Groups {
		if !groups[n] {
			v.fail(p+"groups", "unknown group %q", n)
		}
	}
	for _, n := range f.FromConnectors {
		if !conns[n] {
			v.fail(p+"from_connectors", "unknown connector %q", n)
		}
	}
}

func (v *validator) delivery() {
	d := &v.c.Delivery
	const p = "delivery."
	if d.HoldLifetime <= 0 {
		v.fail(p+"hold_lifetime", "must be > 0")
	}
	v.intRange(p+"max_held", d.MaxHeld, 1, 1<<26)
	v.intRange(p+"max_held_per_user", d.MaxHeldPerUser, 0, d.MaxHeld)
	v.backoff(p+"retry_min", p+"retry_max", d.RetryMin, d.RetryMax)
	if d.ReassemblyTimeout <= 0 {
		v.fail(p+"reassembly_timeout", "must be > 0")
	}
	switch d.ReceiptIDFormat {
	case "hex", "decimal":
	default:
		v.fail(p+"receipt_id_format", "must be \"hex\" or \"decimal\", got %q", d.ReceiptIDFormat)
	}
	if loc, err := time.LoadLocation(d.ReceiptTimeZone); err != nil {
		v.fail(p+"receipt_time_zone", "%q is not a time zone (use \"UTC\", \"Local\" or an IANA name such as \"Europe/Paris\")", d.ReceiptTimeZone)
	} else {
		d.ReceiptLocation = loc
	}
	if d.DefaultValidity <= 0 {
		v.fail(p+"default_validity", "must be > 0")
	}
}

func (v *validator) admin() {
	a := &v.c.Admin
	const p = "admin."
	addr, err := netip.ParseAddr(a.Bind)
	if err != nil {
		v.fail(p+"bind", "must be an IP address literal such as 127.0.0.1, got %q", a.Bind)
	}
	v.intRange(p+"port", a.Port, 1, 65535)
	v.secret(p+"token", &a.Token)
	if !msg.PrintableNoSpace(a.Token) {
		v.fail(p+"token", "must not contain spaces or control characters")
	}
	for i, h := range a.AllowedHosts {
		if msg := checkAllowedHost(h); msg != "" {
			v.fail(p+"allowed_hosts", "%q: %s", h, msg)
		}
		a.AllowedHosts[i] = strings.ToLower(h)
	}
	v.adminTokens()
	v.adminAudit()
	if !a.Enabled {
		return
	}
	if err == nil && addr.IsUnspecified() && len(a.AllowedHosts) == 0 {
		v.warn("admin: bind %s and no allowed_hosts: requests naming this host by a DNS name (other than localhost) are refused with 421; list the names clients use", a.Bind)
	}
	if err == nil && !addr.IsLoopback() && a.Token == "" && len(a.Tokens) == 0 && !a.AllowInsecure {
		v.fail(p+"bind", "%s is not a loopback address: set a token, or allow_insecure = true to expose the admin API without one (token or [[admin.tokens]])", a.Bind)
	}
	if a.Token != "" && len(a.Token) < 16 {
		v.warn("admin: the token is shorter than 16 characters")
	}
	s := &v.c.Server
	if a.Port == s.Port && overlaps(a.Bind, s.Bind) {
		v.fail(p+"port", "%d is also the SMPP port", a.Port)
	}
	if tb := s.TLS.Bind; s.TLS.Enabled && a.Port == s.TLS.Port {
		if tb == "" {
			tb = s.Bind
		}
		if overlaps(a.Bind, tb) {
			v.fail(p+"port", "%d is also the SMPP-over-TLS port", a.Port)
		}
	}
}

// checkAllowedHost returns why h cannot be an [admin] allowed_hosts entry,
// or "": an IP literal (no brackets) or a DNS name (RFC 1123 labels, "_"
// allowed as container names use it), without port or wildcard.
func checkAllowedHost(h string) string {
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	switch {
	case h == "":
		return "empty entry"
	case strings.ContainsAny(h, "[]"):
		return "write an IPv6 address without brackets"
	case strings.Contains(h, "*"):
		return "wildcards are not supported: list each name"
	case strings.Contains(h, ":"):
		return "a host without port (any port is accepted)"
	case len(h) > 253:
		return "longer than 253 characters"
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "not a DNS name (empty, over 63 or hyphen-edged label)"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "not a DNS name (letters, digits, '-' and '_' only)"
			}
		}
	}
	return ""
}

// overlaps reports whether listeners on a and b could clash: the same
// address, or either is a wildcard.
func overlaps(a, b string) bool {
	pa, errA := netip.ParseAddr(a)
	pb, errB := netip.ParseAddr(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return pa == pb || pa.IsUnspecified() || pb.IsUnspecified()
}
