package admin

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/audit"
)

func TestScopeNamesAndParse(t *testing.T) {
	all, err := ParseScopes(ScopeNames())
	if err != nil || all != ScopeMetrics|ScopeRead|ScopeUsers|ScopeRoutes|ScopeConnectors|ScopeTraffic|ScopeOperator {
		t.Fatalf("ParseScopes(all) = %v, %v", all, err)
	}
	if s, err := ParseScopes([]string{"read", "users"}); err != nil || s != ScopeRead|ScopeUsers || s.String() != "read,users" {
		t.Errorf("read,users = %v %q, %v", s, s, err)
	}
	if _, err := ParseScopes([]string{"admin"}); err == nil || !strings.Contains(err.Error(), `unknown scope "admin"`) {
		t.Errorf("unknown scope: %v", err)
	}
}

func TestRequiredScope(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         Scope
	}{
		{"GET", "/metrics", ScopeMetrics},
		{"GET", "/v1/users", ScopeRead},
		{"HEAD", "/v1/sessions", ScopeRead},
		{"GET", "/v1/audit", ScopeRead},
		{"GET", "/debug/pprof/heap", ScopeOperator},
		{"POST", "/v1/users", ScopeUsers},
		{"PATCH", "/v1/users/alice", ScopeUsers},
		{"POST", "/v1/users/alice/balance", ScopeUsers},
		{"POST", "/v1/routes/reload", ScopeRoutes},
		{"POST", "/v1/connectors/sim1/stop", ScopeConnectors},
		{"POST", "/v1/mo", ScopeTraffic},
		{"DELETE", "/v1/sessions/3", ScopeTraffic},
		{"POST", "/v1/dead-letters/7/retry", ScopeTraffic},
		{"POST", "/v1/usersx", ScopeOperator}, // a prefix is a whole segment
		{"POST", "/v1/reload", ScopeOperator}, // an endpoint no table names: operator only
		{"PUT", "/metrics", ScopeOperator},
	} {
		if got := requiredScope(c.method, c.path); got != c.want {
			t.Errorf("%s %s needs %v, want %v", c.method, c.path, got, c.want)
		}
	}
	for _, c := range []struct {
		have, need Scope
		ok         bool
	}{
		{ScopeMetrics, ScopeMetrics, true},
		{ScopeMetrics, ScopeRead, false},
		{ScopeRead, ScopeMetrics, true}, // a dashboard token scrapes too
		{ScopeRead, ScopeUsers, false},
		{ScopeUsers, ScopeRead, false}, // write scopes do not read: list read beside them
		{ScopeUsers, ScopeUsers, true},
		{ScopeRead | ScopeUsers, ScopeTraffic, false},
		{ScopeOperator, ScopeTraffic, true},
		{ScopeOperator, ScopeOperator, true},
		{ScopeRead | ScopeUsers | ScopeRoutes | ScopeConnectors | ScopeTraffic, ScopeOperator, false},
	} {
		if got := c.have.allows(c.need); got != c.ok {
			t.Errorf("%v allows %v = %v, want %v", c.have, c.need, got, c.ok)
		}
	}
}

func TestLimitKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7:5000":              "192.0.2.7",
		"[::ffff:192.0.2.7]:1":        "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:8080": "2001:db8:1:2::",
		"[fe80::1%eth0]:1":            "fe80::",
	} {
		if got := limitKey(in); got != netip.MustParseAddr(want) {
			t.Errorf("limitKey(%s) = %v, want %s", in, got, want)
		}
	}
	if got := limitKey("garbage"); got.IsValid() {
		t.Errorf("limitKey(garbage) = %v", got)
	}
}

// scopedServer runs a server with one token per role and an in-memory
// audit log; the log lines go to logs.
func scopedServer(t *testing.T, logs *syncBuffer) (string, *Server, *audit.Log, *fakeMO) {
	t.Helper()
	al, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok := func(name string, sc Scope) Token {
		return Token{Name: name, SHA256: HashToken(name + "-secret-0123456789"), Scopes: sc}
	}
	f := &fakeMO{}
	o := Options{Addr: "127.0.0.1:0", Token: "legacy-secret-0123456789", MO: f, Audit: al,
		Tokens: []Token{tok("prom", ScopeMetrics), tok("dash", ScopeRead), tok("support", ScopeRead|ScopeUsers),
			tok("noc", ScopeTraffic), tok("ops", ScopeOperator)},
		Logger: zerolog.New(logs)}
	s := New(o)
	s.Handle("GET /metrics", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("smppd_up 1\n")) })
	s.HandlePprof()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(t.Context()) })
	return "http://" + s.Addr().String(), s, al, f
}

func secret(name string) string { return name + "-secret-0123456789" }

// status sends one request and returns its status.
func status(t *testing.T, method, url, token, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type testEntry struct {
	Seq      uint64            `json:"seq"`
	Token    string            `json:"token"`
	Remote   string            `json:"remote"`
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Route    string            `json:"route"`
	Target   map[string]string `json:"target"`
	Request  map[string]any    `json:"request"`
	Status   int               `json:"status"`
	Response json.RawMessage   `json:"response"`
}

func entries(t *testing.T, al *audit.Log) []testEntry {
	t.Helper()
	recs, _, err := al.Read(0, time.Time{}, audit.MaxReadLimit)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]testEntry, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			t.Fatalf("entry %s: %v", r, err)
		}
	}
	return out
}

// TestScopedTokens: each token does what its scopes say and nothing more;
// a refused change is answered 403, logged with the token's name and
// audited; the old single token is an operator token named "admin".
func TestScopedTokens(t *testing.T) {
	var logs syncBuffer
	base, srv, al, f := scopedServer(t, &logs)
	for _, c := range []struct {
		token, method, path, body string
		want                      int
	}{
		{"prom", "GET", "/metrics", "", 200},
		{"prom", "GET", "/v1/audit", "", 403},
		{"prom", "POST", "/v1/mo", moBody, 403},
		{"dash", "GET", "/metrics", "", 200},
		{"dash", "GET", "/v1/audit", "", 200},
		{"dash", "GET", "/v1/users", "", 503}, // past the scope check: the users are not wired here
		{"dash", "GET", "/debug/pprof/cmdline", "", 403},
		{"dash", "POST", "/v1/mo", moBody, 403},
		{"dash", "POST", "/v1/users/alice/disable", "", 403},
		{"support", "POST", "/v1/users/alice/disable", "", 503},
		{"support", "POST", "/v1/mo", moBody, 403},
		{"noc", "POST", "/v1/mo", moBody, 202},
		{"noc", "GET", "/v1/sessions", "", 403},
		{"ops", "POST", "/v1/mo", moBody, 202},
		{"ops", "GET", "/debug/pprof/cmdline", "", 200},
		{"legacy", "POST", "/v1/mo", moBody, 202},
		{"legacy", "GET", "/metrics", "", 200},
	} {
		if got := status(t, c.method, base+c.path, secret(c.token), c.body); got != c.want {
			t.Errorf("%s: %s %s = %d, want %d", c.token, c.method, c.path, got, c.want)
		}
	}
	if len(f.got) != 3 {
		t.Errorf("the injector saw %d MOs, want 3 (noc, ops, legacy)", len(f.got))
	}
	// Every change asked for is in the log, refused or not, reads are not.
	var got []string
	for _, e := range entries(t, al) {
		got = append(got, e.Token+" "+e.Method+" "+e.Path+" "+http.StatusText(e.Status))
		if e.Status == 403 && !strings.Contains(string(e.Response), `"forbidden"`) {
			t.Errorf("refused entry without its answer: %s", e.Response)
		}
	}
	want := []string{
		"prom POST /v1/mo Forbidden", "dash POST /v1/mo Forbidden", "dash POST /v1/users/alice/disable Forbidden",
		"support POST /v1/users/alice/disable Service Unavailable", "support POST /v1/mo Forbidden",
		"noc POST /v1/mo Accepted", "ops POST /v1/mo Accepted", "admin POST /v1/mo Accepted",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	l := logs.String()
	// One line per 10 s for every refusal: the first one.
	if !strings.Contains(l, `"event":"admin_refused","reason":"forbidden","token":"prom","scopes":"metrics","need":"read"`) {
		t.Errorf("no forbidden log line naming the token:\n%s", l)
	}
	if failures, _, forbidden := srv.AuthStats(); forbidden != 7 || failures != 0 {
		t.Errorf("AuthStats: %d failures, %d forbidden; want 0, 7", failures, forbidden)
	}
	if n, errs := srv.AuditStats(); n != uint64(len(want)) || errs != 0 {
		t.Errorf("AuditStats = %d, %d", n, errs)
	}
}

// TestFailedAuthLimited: failures are counted per address; past
// authFailMax in a window the address gets 429 without its token being
// looked at, the right one included, and a log line says so.
func TestFailedAuthLimited(t *testing.T) {
	var logs syncBuffer
	srv := New(Options{Addr: "127.0.0.1:0", Token: "right-secret-0123456789", Logger: zerolog.New(&logs)})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(t.Context()) })
	base := "http://" + srv.Addr().String()
	for i := range 2 * authFailMax { // no token guesses nothing: never limited
		if got := status(t, "GET", base+"/v1/audit", "", ""); got != 401 {
			t.Fatalf("request %d without a token: %d, want 401", i, got)
		}
	}
	for i := range authFailMax {
		if got := status(t, "GET", base+"/v1/audit", "wrong", ""); got != 401 {
			t.Fatalf("failure %d: %d, want 401", i, got)
		}
	}
	req, _ := http.NewRequest("GET", base+"/v1/audit", nil)
	req.Header.Set("Authorization", "Bearer right-secret-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures: %d (Retry-After %q), want 429", authFailMax, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got := status(t, "GET", base+"/v1/health", "", ""); got != 200 {
		t.Errorf("health while limited: %d", got)
	}
	failures, limited, _ := srv.AuthStats()
	if failures != 3*authFailMax || limited != 1 {
		t.Errorf("AuthStats = %d failures, %d limited", failures, limited)
	}
	l := logs.String()
	if !strings.Contains(l, `"reason":"unauthorized"`) {
		t.Errorf("no log line for a wrong token:\n%s", l)
	}
	// Another address is not limited; a new window lifts the limit.
	lim := &srv.failures
	other := netip.MustParseAddr("192.0.2.1")
	now := time.Now().UnixNano()
	if b, _ := lim.blocked(other, now); b {
		t.Error("another address is limited")
	}
	if b, _ := lim.blocked(netip.MustParseAddr("127.0.0.1"), now+int64(authFailWindow)); b {
		t.Error("still limited in the next window")
	}
}

func TestFailedAuthTableBounded(t *testing.T) {
	var lim authLimiter
	now := time.Now().UnixNano()
	for i := range authFailAddrs {
		lim.fail(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now)
	}
	// Newcomers beyond the table share one count.
	for i := range authFailMax {
		lim.fail(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), now)
	}
	if len(lim.fails) != authFailAddrs+1 {
		t.Errorf("%d addresses tracked, want %d", len(lim.fails), authFailAddrs+1)
	}
	if b, _ := lim.blocked(netip.MustParseAddr("198.51.100.1"), now); !b {
		t.Error("a newcomer past the table is not limited by the shared count")
	}
	if b, _ := lim.blocked(netip.MustParseAddr("10.0.0.1"), now); b {
		t.Error("a tracked address with one failure is limited")
	}
}

// TestSetTokens: a reload adds, rotates and revokes tokens for the next
// request; dropping every token opens the (loopback) listener again.
func TestSetTokens(t *testing.T) {
	srv := New(Options{Addr: "127.0.0.1:0", Token: "old-secret-0123456789", Logger: zerolog.Nop()})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(t.Context()) })
	base := "http://" + srv.Addr().String()
	if got := status(t, "GET", base+"/v1/audit", "old-secret-0123456789", ""); got != 503 {
		t.Fatalf("old token before: %d", got)
	}
	srv.SetTokens("", []Token{{Name: "new", SHA256: HashToken("new-secret-0123456789"), Scopes: ScopeRead}})
	if got := status(t, "GET", base+"/v1/audit", "old-secret-0123456789", ""); got != 401 {
		t.Errorf("revoked token: %d, want 401", got)
	}
	if got := status(t, "GET", base+"/v1/audit", "new-secret-0123456789", ""); got != 503 {
		t.Errorf("new token: %d, want 503 (past auth: no audit log wired)", got)
	}
	srv.SetTokens("", nil)
	if got := status(t, "GET", base+"/v1/audit", "", ""); got != 503 {
		t.Errorf("no tokens: %d, want 503 (open)", got)
	}
}
