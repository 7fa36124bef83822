package admin

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// The guards a request passes before routing, besides the token: the Host
// allow-list against DNS rebinding and the cross-origin check against
// CSRF, with one throttled log line for what they refuse.

// refuseLogEvery is the shortest gap between two refusal log lines: a
// hostile page can send requests as fast as it likes, the log must not
// grow with them. Lines in between are counted and reported with the next.
const refuseLogEvery = 10 * time.Second

// maxLogField bounds a request-supplied value (Host, path) in a log line.
const maxLogField = 256

// hostGuard decides which Host headers name this listener. A browser
// tricked by DNS rebinding sends the attacker's name as Host, so a name is
// accepted only when listed. An IP literal is never a rebinding vector (the
// page's origin is then the server itself), but one other than ours means
// a proxy or a NAT the operator should know about: accepted only when it is
// the bind address, a loopback address, listed, or the listener is bound to
// a wildcard (every address of the host is then ours, and not knowable).
type hostGuard struct {
	names   map[string]struct{}
	addrs   map[netip.Addr]struct{}
	anyAddr bool
}

// newHostGuard builds the guard for a listener on bindAddr ("host:port")
// accepting the extra entries of allowed (names or IP literals, no port;
// config validates them, an entry that is neither never matches).
func newHostGuard(bindAddr string, allowed []string) hostGuard {
	g := hostGuard{names: map[string]struct{}{"localhost": {}}, addrs: map[netip.Addr]struct{}{}}
	bind, _, err := net.SplitHostPort(bindAddr)
	if err != nil {
		bind = bindAddr
	}
	if bind == "" {
		g.anyAddr = true
	}
	for _, h := range append([]string{bind}, allowed...) {
		h = normHost(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
		if h == "" {
			continue
		}
		if a, err := netip.ParseAddr(h); err == nil {
			if a.IsUnspecified() {
				g.anyAddr = true
			}
			g.addrs[a] = struct{}{}
			continue
		}
		g.names[h] = struct{}{}
	}
	return g
}

// allows reports whether a request with this Host header (port and IPv6
// brackets allowed) may be served. No Host at all (HTTP/1.0) is allowed:
// browsers always send one.
func (g *hostGuard) allows(hostHeader string) bool {
	h := normHost(hostPart(hostHeader))
	if h == "" {
		return true
	}
	if a, err := netip.ParseAddr(h); err == nil {
		_, ok := g.addrs[a]
		return ok || g.anyAddr || a.IsLoopback()
	}
	_, ok := g.names[h]
	return ok
}

// hostPart strips the port from a Host header: "[::1]:8790" -> "::1",
// "example.net:8790" -> "example.net"; an unbracketed IPv6 literal is
// kept whole.
func hostPart(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
		return h
	}
	if i := strings.IndexByte(h, ':'); i >= 0 && i == strings.LastIndexByte(h, ':') {
		return h[:i]
	}
	return h
}

// normHost makes equal spellings of one host compare equal: DNS names are
// case-insensitive and "name." is "name"; an IP literal is written in its
// canonical form, IPv4-mapped IPv6 as IPv4 and without a zone.
func normHost(h string) string {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// refuse answers a request a guard turned away and logs it through the
// one throttle every refusal shares.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	if ok, dropped := s.refusals.Allow(time.Now().UnixNano()); ok {
		s.opts.Logger.Warn().Str("event", "admin_refused").Str("reason", code).
			Str("host", clip(r.Host)).Str("remote", r.RemoteAddr).Str("method", clip(r.Method)).
			Str("path", clip(r.URL.Path)).Uint64("suppressed", dropped).Msg("admin API refused a request")
	}
	writeError(w, status, code, message)
}

func clip(s string) string {
	if len(s) > maxLogField {
		return s[:maxLogField]
	}
	return s
}
