package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scope is the set of things a token may do. A request needs one scope
// (requiredScope); ScopeOperator grants every one.
type Scope uint8

const (
	ScopeMetrics    Scope = 1 << iota // GET /metrics only: what Prometheus scrapes with
	ScopeRead                         // every GET but the profiler (and /metrics)
	ScopeUsers                        // changes under /v1/users: users, balances, quotas, lists
	ScopeRoutes                       // changes under /v1/routes
	ScopeConnectors                   // changes under /v1/connectors
	ScopeTraffic                      // MO injection, session kicks, held, queued and dead traffic
	ScopeOperator                     // everything, the profiler included
)

// scopeNames are the names in config and logs, in bit order.
var scopeNames = [...]string{"metrics", "read", "users", "routes", "connectors", "traffic", "operator"}

// ScopeNames lists every scope name, for config validation.
func ScopeNames() []string { return append([]string(nil), scopeNames[:]...) }

// ParseScopes turns names into a Scope; an unknown name is an error.
func ParseScopes(names []string) (Scope, error) {
	var s Scope
	for _, n := range names {
		i := 0
		for i < len(scopeNames) && scopeNames[i] != n {
			i++
		}
		if i == len(scopeNames) {
			return 0, fmt.Errorf("unknown scope %q (one of %s)", n, strings.Join(scopeNames[:], ", "))
		}
		s |= 1 << i
	}
	return s, nil
}

// String is the names of the scopes in s, comma-separated.
func (s Scope) String() string {
	var b []string
	for i, n := range scopeNames {
		if s&(1<<i) != 0 {
			b = append(b, n)
		}
	}
	return strings.Join(b, ",")
}

// allows reports whether a token with scopes s may do what needs need.
// read also covers metrics: a dashboard token can scrape.
func (s Scope) allows(need Scope) bool {
	if s&ScopeRead != 0 {
		s |= ScopeMetrics
	}
	return s&(need|ScopeOperator) != 0
}

// Token is one bearer credential of the admin API.
type Token struct {
	// Name is who the token is: it goes to the audit log and log lines.
	Name string
	// SHA256 is the hash of the secret (HashToken): the secret itself need
	// not be kept, and comparing hashes takes the same time for any guess.
	SHA256 [32]byte
	Scopes Scope
}

// HashToken is the SHA-256 of a token's secret as Token.SHA256 wants it.
// Tokens are long random strings, not passwords: one fast hash is enough.
func HashToken(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// LegacyTokenName is the name of Options.Token, the single token of
// earlier releases: an operator token.
const LegacyTokenName = "admin"

// anonymous is who acts when no token is configured (a loopback listener
// without authentication).
var anonymous = &Token{Name: "anonymous", Scopes: ScopeOperator}

// writePrefixes map a change's path to the scope it needs; a change under
// none of them needs ScopeOperator. Longest match first where they nest.
var writePrefixes = []struct {
	prefix string
	scope  Scope
}{
	{"/v1/users", ScopeUsers},
	{"/v1/routes", ScopeRoutes},
	{"/v1/connectors", ScopeConnectors},
	{"/v1/mo", ScopeTraffic},
	{"/v1/sessions", ScopeTraffic},
	{"/v1/held", ScopeTraffic},
	{"/v1/callbacks", ScopeTraffic},
	{"/v1/queues", ScopeTraffic},
	{"/v1/dead-letters", ScopeTraffic},
	{"/v1/messages", ScopeTraffic},
}

// requiredScope is the scope a request needs, from its method and path
// alone, so an endpoint added later is covered without a line of its own.
func requiredScope(method, path string) Scope {
	switch {
	case strings.HasPrefix(path, "/debug/"):
		return ScopeOperator
	case !isWrite(method):
		if path == "/metrics" {
			return ScopeMetrics
		}
		return ScopeRead
	}
	for _, p := range writePrefixes {
		if path == p.prefix || strings.HasPrefix(path, p.prefix+"/") {
			return p.scope
		}
	}
	return ScopeOperator
}

// isWrite reports whether a method may change something: everything but
// GET, HEAD and OPTIONS.
func isWrite(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// Limits of failed authentication, per source address (IPv6 per /64):
// tokens are too long to guess, so these bound the log and the work a
// scanner causes, and slow a leaked-token hunt. Constants, as the API's
// other limits.
const (
	authFailWindow = time.Minute
	authFailMax    = 10   // wrong tokens per address and window before 429
	authFailAddrs  = 4096 // addresses tracked; beyond, newcomers share one count
)

// authLimiter counts wrong tokens per address in fixed windows (a request
// with no token at all is answered 401 but guesses nothing).
type authLimiter struct {
	mu     sync.Mutex
	window int64 // start of the current window, Unix ns
	fails  map[netip.Addr]int
}

// key is the address a request is counted under.
func limitKey(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

func (l *authLimiter) roll(now int64) {
	if now-l.window >= int64(authFailWindow) || l.fails == nil {
		l.window, l.fails = now, make(map[netip.Addr]int)
	}
}

// blocked reports whether addr has used up its failures in this window,
// and when the window ends.
func (l *authLimiter) blocked(addr netip.Addr, now int64) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	if _, ok := l.fails[addr]; !ok && len(l.fails) >= authFailAddrs {
		addr = netip.Addr{}
	}
	return l.fails[addr] >= authFailMax, time.Duration(l.window + int64(authFailWindow) - now)
}

func (l *authLimiter) fail(addr netip.Addr, now int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	if _, ok := l.fails[addr]; !ok && len(l.fails) >= authFailAddrs {
		addr = netip.Addr{}
	}
	l.fails[addr]++
}

// authStats are the counters of authentication and authorisation.
type authStats struct {
	failures  atomic.Uint64 // missing or wrong token
	limited   atomic.Uint64 // refused without a look at the token: too many failures
	forbidden atomic.Uint64 // a valid token without the scope asked for
}

// AuthStats returns the admin API's refusal counts since start: requests
// with a missing or wrong token (401), requests refused because their
// address failed too often (429), and requests whose token lacks the
// scope (403).
func (s *Server) AuthStats() (failures, limited, forbidden uint64) {
	return s.authn.failures.Load(), s.authn.limited.Load(), s.authn.forbidden.Load()
}

// SetTokens replaces the tokens (Options.Token and Options.Tokens' meaning)
// for the requests that follow, so a SIGHUP can add, rotate or revoke one
// without a restart. Safe for concurrent use.
func (s *Server) SetTokens(legacy string, tokens []Token) {
	var all []Token
	if legacy != "" {
		all = append(all, Token{Name: LegacyTokenName, SHA256: HashToken(legacy), Scopes: ScopeOperator})
	}
	all = append(all, tokens...)
	s.tokens.Store(&all)
}

// authenticate returns the token of r, or answers 401 or 429 and returns
// nil. Every configured token is compared, in constant time each, whatever
// matches.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) *Token {
	tokens := *s.tokens.Load()
	if len(tokens) == 0 {
		return anonymous
	}
	now := time.Now().UnixNano()
	addr := limitKey(r.RemoteAddr)
	if blocked, wait := s.failures.blocked(addr, now); blocked {
		s.authn.limited.Add(1)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		s.refuse(w, r, http.StatusTooManyRequests, "too_many_failures",
			"too many failed authentications from this address: retry after "+strconv.Itoa(int(wait/time.Second)+1)+"s")
		return nil
	}
	var tok *Token
	secret, guess := bearer(r.Header.Get("Authorization"))
	if guess {
		sum := HashToken(secret)
		for i := range tokens {
			if subtle.ConstantTimeCompare(sum[:], tokens[i].SHA256[:]) == 1 {
				tok = &tokens[i]
			}
		}
	}
	if tok == nil {
		if guess { // a request without a token guesses nothing
			s.failures.fail(addr, now)
		}
		s.authn.failures.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="smppd"`)
		s.refuse(w, r, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
	}
	return tok
}

// bearer returns the credentials of an "Authorization: Bearer <token>"
// header (the scheme is case-insensitive, RFC 9110 §11.1).
func bearer(h string) (string, bool) {
	const scheme = "bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	return h[len(scheme):], true
}

// authorize answers 403 and returns false when tok may not make request r;
// a refused change is audited like any other.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, tok *Token) bool {
	need := requiredScope(r.Method, r.URL.Path)
	if tok.Scopes.allows(need) {
		return true
	}
	s.authn.forbidden.Add(1)
	if ok, dropped := s.refusals.Allow(time.Now().UnixNano()); ok {
		s.opts.Logger.Warn().Str("event", "admin_refused").Str("reason", "forbidden").Str("token", tok.Name).
			Str("scopes", tok.Scopes.String()).Str("need", need.String()).Str("remote", r.RemoteAddr).
			Str("method", clip(r.Method)).Str("path", clip(r.URL.Path)).Uint64("suppressed", dropped).
			Msg("admin API refused a request: the token lacks the scope")
	}
	msg := "token " + strconv.Quote(tok.Name) + " may not " + r.Method + " " + clip(r.URL.Path) + ": it needs scope " + need.String()
	if need != ScopeOperator {
		msg += " or operator"
	}
	if isWrite(r.Method) {
		s.audited(w, r, tok, func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusForbidden, "forbidden", msg)
		})
		return false
	}
	writeError(w, http.StatusForbidden, "forbidden", msg)
	return false
}
