package admin_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/audit"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/admintest"
)

const opsSecret = "ops-secret-0123456789abcdef"

// auditedEnv is an admintest Env with an operator token "ops" and a
// read-only token "dash", auditing to a file log in dir.
func auditedEnv(t *testing.T, dir string) (*admintest.Env, *audit.Log) {
	t.Helper()
	al, err := audit.Open(audit.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = al.Close() })
	e := admintest.Start(t, admintest.Spec{Audit: al, Tokens: []admin.Token{
		{Name: "ops", SHA256: admin.HashToken(opsSecret), Scopes: admin.ScopeOperator},
		{Name: "dash", SHA256: admin.HashToken("dash-secret-0123456789"), Scopes: admin.ScopeRead},
	}})
	return e, al
}

// as does one request with a bearer token and decodes a success into out;
// it returns the status and raw body.
func as(t *testing.T, secret, method, url, body string, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, raw)
		}
	}
	return resp.StatusCode, string(raw)
}

type entry struct {
	Seq      uint64            `json:"seq"`
	Time     time.Time         `json:"time"`
	Token    string            `json:"token"`
	Remote   string            `json:"remote"`
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Query    string            `json:"query"`
	Route    string            `json:"route"`
	Target   map[string]string `json:"target"`
	Request  map[string]any    `json:"request"`
	Status   int               `json:"status"`
	Response map[string]any    `json:"response"`
}

// readAudit pages through GET /v1/audit, limit entries a page.
func readAudit(t *testing.T, url, secret string, limit int) []entry {
	t.Helper()
	var out []entry
	after := uint64(0)
	for range 1000 {
		var page struct {
			Entries   []entry `json:"entries"`
			More      bool    `json:"more"`
			NextAfter uint64  `json:"next_after"`
		}
		u := url + "/v1/audit?limit=" + strconv.Itoa(limit) + "&after=" + strconv.FormatUint(after, 10)
		if st, raw := as(t, secret, "GET", u, "", &page); st != 200 {
			t.Fatalf("GET /v1/audit: %d %s", st, raw)
		}
		out = append(out, page.Entries...)
		if !page.More {
			return out
		}
		after = page.NextAfter
	}
	t.Fatal("GET /v1/audit never ends")
	return nil
}

// TestAuditEntryForEachChange: every kind of change (a user added, its
// settings, quota and lists, a balance, enable and disable, a connector
// stopped and started, routes reloaded, an MO injected, a session kicked)
// leaves one entry naming the token, the address, the endpoint, its
// target, the body without secrets, the status and the answer.
func TestAuditEntryForEachChange(t *testing.T) {
	dir := t.TempDir()
	e, _ := auditedEnv(t, dir)
	c := e.Bind(t, codec.BindTransceiverID, "alice", admintest.AlicePassword)
	var sessions admin.SessionList
	as(t, "dash-secret-0123456789", "GET", e.URL+"/v1/sessions", "", &sessions)
	if len(sessions.Sessions) != 1 {
		t.Fatalf("sessions: %+v", sessions)
	}
	sid := strconv.FormatUint(sessions.Sessions[0].ID, 10)
	steps := []struct {
		method, path, body string
		status             int
		route              string
		target             map[string]string
	}{
		{"POST", "/v1/users", `{"system_id":"carol","password":"pw-car7","throughput":10}`, 201, "POST /v1/users", nil},
		{"PATCH", "/v1/users/alice", `{"quota":500,"source_addrs":["ACME","4917000"]}`, 200, "PATCH /v1/users/{id}", map[string]string{"id": "alice"}},
		{"POST", "/v1/users/alice/balance", `{"topup":"12.5"}`, 200, "POST /v1/users/{id}/balance", map[string]string{"id": "alice"}},
		{"POST", "/v1/users/bob/enable", "", 200, "POST /v1/users/{id}/enable", map[string]string{"id": "bob"}},
		{"POST", "/v1/users/bob/disable", "", 200, "POST /v1/users/{id}/disable", map[string]string{"id": "bob"}},
		{"POST", "/v1/connectors/sim1/stop?grace=1s", "", 200, "POST /v1/connectors/{name}/stop", map[string]string{"name": "sim1"}},
		{"POST", "/v1/connectors/sim1/start", "", 200, "POST /v1/connectors/{name}/start", map[string]string{"name": "sim1"}},
		{"POST", "/v1/routes/reload", "", 200, "POST /v1/routes/reload", nil},
		{"POST", "/v1/mo", `{"source_addr":"4917000","destination_addr":"1234","short_message":"hi"}`, 202, "POST /v1/mo", nil},
		{"DELETE", "/v1/sessions/" + sid, "", 200, "DELETE /v1/sessions/{id}", map[string]string{"id": sid}},
		{"POST", "/v1/users/nobody/balance", `{"set":"1"}`, 404, "POST /v1/users/{id}/balance", map[string]string{"id": "nobody"}},
	}
	for _, s := range steps {
		if st, raw := as(t, opsSecret, s.method, e.URL+s.path, s.body, nil); st != s.status {
			t.Fatalf("%s %s: %d %s, want %d", s.method, s.path, st, raw, s.status)
		}
	}
	if h, _, err := c.Expect(admintestWait, codec.UnbindID, codec.StatusOK); err == nil {
		_ = c.Send(codec.UnbindRespID, 0, h.Sequence, nil)
	}

	got := readAudit(t, e.URL, "dash-secret-0123456789", 4)
	if len(got) != len(steps) {
		t.Fatalf("%d entries, want %d (reads are not audited): %+v", len(got), len(steps), got)
	}
	for i, s := range steps {
		g := got[i]
		path, query, _ := strings.Cut(s.path, "?")
		if g.Seq != uint64(i+1) || g.Token != "ops" || !strings.HasPrefix(g.Remote, "127.0.0.1:") || g.Method != s.method ||
			g.Path != path || g.Query != query || g.Route != s.route || g.Status != s.status || g.Time.IsZero() ||
			len(g.Target) != len(s.target) || g.Response == nil {
			t.Errorf("entry %d: %+v\nwant %s %s %d %s", i, g, s.method, s.path, s.status, s.route)
		}
		for k, v := range s.target {
			if g.Target[k] != v {
				t.Errorf("entry %d: target %v, want %v", i, g.Target, s.target)
			}
		}
	}
	if got[0].Request["password"] != "[redacted]" || got[0].Request["system_id"] != "carol" || got[0].Response["system_id"] != "carol" {
		t.Errorf("add user entry: request %v response %v", got[0].Request, got[0].Response)
	}
	if q := got[1].Request; q["quota"] != float64(500) || len(q["source_addrs"].([]any)) != 2 {
		t.Errorf("patch entry request %v", q)
	}
	if got[2].Request["topup"] != "12.5" || got[2].Response["balance"] != "112.5" {
		t.Errorf("balance entry: request %v response %v (the balance after)", got[2].Request, got[2].Response)
	}
	if got[10].Response["error"] == nil {
		t.Errorf("a refused change keeps its error: %v", got[10].Response)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Time.Before(got[i-1].Time) {
			t.Errorf("entry %d is older than entry %d", i, i-1)
		}
	}
	// The file on disk holds the same, and no secret.
	raw := readDir(t, dir)
	if strings.Count(raw, "\n") != len(steps) || strings.Contains(raw, "pw-car7") || strings.Contains(raw, opsSecret) {
		t.Errorf("audit file:\n%s", raw)
	}
}

func readDir(t *testing.T, dir string) string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	var b strings.Builder
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(raw)
	}
	return b.String()
}

// writeRoutes lists the endpoints package admin registers for a method
// that may change something, from its source: a route added later is
// listed without anyone remembering to.
func writeRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			pattern, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			method, _, ok := strings.Cut(pattern, " ")
			if !ok {
				t.Errorf("%s: pattern %q has no method: it would serve changes by GET", name, pattern)
			} else if method != "GET" && method != "HEAD" {
				out = append(out, pattern)
			}
			return true
		})
	}
	return out
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// TestEveryWriteRouteIsAudited: each change endpoint, asked by an
// operator (with an id that exists nowhere and an empty body), leaves an
// entry under its pattern, and a read-only token is refused on each with
// 403 and an entry too.
func TestEveryWriteRouteIsAudited(t *testing.T) {
	routes := writeRoutes(t)
	if len(routes) < 9 {
		t.Fatalf("found only %d change endpoints in the source: %v", len(routes), routes)
	}
	e, al := auditedEnv(t, t.TempDir())
	for _, pattern := range routes {
		method, path, _ := strings.Cut(pattern, " ")
		path = wildcard.ReplaceAllString(path, "nosuch")
		before := al.Stats().Appended
		st, raw := as(t, opsSecret, method, e.URL+path, "{}", nil)
		if al.Stats().Appended != before+1 {
			t.Errorf("%s (answered %d %s) wrote %d entries, want 1", pattern, st, raw, al.Stats().Appended-before)
		}
		if st, _ := as(t, "dash-secret-0123456789", method, e.URL+path, "{}", nil); st != 403 {
			t.Errorf("%s by a read-only token: %d, want 403", pattern, st)
		}
	}
	got := readAudit(t, e.URL, opsSecret, 1000)
	if len(got) != 2*len(routes) {
		t.Fatalf("%d entries for %d endpoints", len(got), len(routes))
	}
	for i, pattern := range routes {
		ops, dash := got[2*i], got[2*i+1]
		if ops.Route != pattern || ops.Token != "ops" || dash.Route != pattern || dash.Token != "dash" || dash.Status != 403 {
			t.Errorf("%s: entries %+v / %+v", pattern, ops, dash)
		}
	}
}

// TestAuditSurvivesRestart: a new process on the same directory reads the
// entries back through the API and numbers on from them.
func TestAuditSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e, al := auditedEnv(t, dir)
	as(t, opsSecret, "POST", e.URL+"/v1/users/bob/enable", "", nil)
	as(t, opsSecret, "POST", e.URL+"/v1/users/alice/balance", `{"set":"7"}`, nil)
	if err := al.Close(); err != nil {
		t.Fatal(err)
	}
	e2, _ := auditedEnv(t, dir)
	as(t, opsSecret, "POST", e2.URL+"/v1/users/bob/disable", "", nil)
	got := readAudit(t, e2.URL, opsSecret, 2)
	if len(got) != 3 || got[0].Path != "/v1/users/bob/enable" || got[1].Request["set"] != "7" ||
		got[2].Seq != 3 || got[2].Path != "/v1/users/bob/disable" {
		t.Fatalf("after restart: %+v", got)
	}
}

func TestAuditQuery(t *testing.T) {
	e, _ := auditedEnv(t, t.TempDir())
	for range 3 {
		as(t, opsSecret, "POST", e.URL+"/v1/users/bob/enable", "", nil)
	}
	var page admin.AuditPage
	if st, raw := as(t, opsSecret, "GET", e.URL+"/v1/audit?limit=2", "", &page); st != 200 || len(page.Entries) != 2 || !page.More || page.NextAfter != 2 {
		t.Fatalf("first page: %d %s", st, raw)
	}
	if st, raw := as(t, opsSecret, "GET", e.URL+"/v1/audit?after=2", "", &page); st != 200 || len(page.Entries) != 1 || page.More {
		t.Fatalf("second page: %d %s", st, raw)
	}
	if st, raw := as(t, opsSecret, "GET", e.URL+"/v1/audit?since=1h", "", &page); st != 200 || len(page.Entries) != 3 {
		t.Errorf("since=1h: %d %s", st, raw)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if st, raw := as(t, opsSecret, "GET", e.URL+"/v1/audit?since="+future, "", &page); st != 200 || len(page.Entries) != 0 || page.Entries == nil {
		t.Errorf("since the future: %d %s", st, raw)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "after=-1", "since=yesterday", "since=-1h"} {
		if st, raw := as(t, opsSecret, "GET", e.URL+"/v1/audit?"+q, "", nil); st != 400 || !strings.Contains(raw, "bad_request") {
			t.Errorf("%s: %d %s", q, st, raw)
		}
	}
	unaudited := admintest.Start(t, admintest.Spec{})
	if st, _ := as(t, "", "GET", unaudited.URL+"/v1/audit", "", nil); st != 503 {
		t.Errorf("without an audit log: %d, want 503", st)
	}
}
