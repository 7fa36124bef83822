package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/config"
)

// config checks scope names the admin API gives meaning to: one list.
func TestAdminScopesAgree(t *testing.T) {
	if !slices.Equal(config.AdminScopes, admin.ScopeNames()) {
		t.Errorf("config scopes %v, admin scopes %v", config.AdminScopes, admin.ScopeNames())
	}
	if config.AdminLegacyTokenName != admin.LegacyTokenName {
		t.Errorf("legacy token name: config %q, admin %q", config.AdminLegacyTokenName, admin.LegacyTokenName)
	}
}

const adminTokensTOML = `
[[admin.tokens]]
name = "prometheus"
scopes = ["metrics"]
token = "prom-secret-0123456789"

[[admin.tokens]]
name = "dashboard"
scopes = ["read"]
token = "dash-secret-0123456789"

[[admin.tokens]]
name = "alice"
scopes = ["operator"]
token = "alice-secret-0123456789"
`

// adminReq does one request to the daemon's admin API with a token.
func adminReq(t *testing.T, port int, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://127.0.0.1:"+strconv.Itoa(port)+path, strings.NewReader(body))
	must(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// TestDaemonTokensAndAudit: the demo config with [[admin.tokens]]: each
// token does what its scopes allow, the changes land in <storage.dir>/audit
// and read back after a restart, /metrics counts them, and a SIGHUP
// rotates a token.
func TestDaemonTokensAndAudit(t *testing.T) {
	cfgPath, _, _, port := demoDir(t)
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString(adminTokensTOML)
	must(t, err)
	must(t, f.Close())
	d, _, stop := runConfig(t, cfgPath)
	steps := []struct {
		token, method, path, body string
		want                      int
	}{
		{"prom-secret-0123456789", "GET", "/v1/users", "", 403},
		{"dash-secret-0123456789", "GET", "/v1/users", "", 200},
		{"dash-secret-0123456789", "POST", "/v1/users/demo/balance", `{"topup":"5"}`, 403},
		{"alice-secret-0123456789", "POST", "/v1/users/demo/balance", `{"set":"20"}`, 200},
		{"wrong-secret-0123456789", "POST", "/v1/users/demo/disable", "", 401},
	}
	for _, s := range steps {
		if st, raw := adminReq(t, port, s.token, s.method, s.path, s.body); st != s.want {
			t.Errorf("%s %s: %d %s, want %d", s.method, s.path, st, raw, s.want)
		}
	}
	st, metrics := adminReq(t, port, "prom-secret-0123456789", "GET", "/metrics", "")
	if st != 200 || !strings.Contains(metrics, "smppd_admin_audit_entries_total 2") ||
		!strings.Contains(metrics, "smppd_admin_forbidden_total 2") || !strings.Contains(metrics, "smppd_admin_auth_failures_total 1") {
		t.Errorf("metrics: %d\n%s", st, grepLines(metrics, "smppd_admin_"))
	}
	stop()

	dir := filepath.Join(d.cfg.Storage.Dir, "audit")
	if names, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl")); len(names) != 1 {
		t.Fatalf("audit files in %s: %v", dir, names)
	}
	d, _, _ = runConfig(t, cfgPath)
	st, raw := adminReq(t, port, "dash-secret-0123456789", "GET", "/v1/audit", "")
	var page struct {
		Entries []struct {
			Seq    uint64 `json:"seq"`
			Token  string `json:"token"`
			Path   string `json:"path"`
			Status int    `json:"status"`
		} `json:"entries"`
	}
	if st != 200 || json.Unmarshal([]byte(raw), &page) != nil || len(page.Entries) != 2 ||
		page.Entries[0].Token != "dashboard" || page.Entries[0].Status != 403 ||
		page.Entries[1].Token != "alice" || page.Entries[1].Status != 200 || page.Entries[1].Path != "/v1/users/demo/balance" {
		t.Fatalf("audit after restart: %d %s", st, raw)
	}
	// A SIGHUP rotates the dashboard's token: the old one is refused at once.
	src, err := os.ReadFile(cfgPath)
	must(t, err)
	must(t, os.WriteFile(cfgPath, []byte(strings.Replace(string(src), "dash-secret-0123456789", "dash-secret-rotated-9876", 1)), 0o600))
	d.reload()
	if st, _ := adminReq(t, port, "dash-secret-0123456789", "GET", "/v1/users", ""); st != 401 {
		t.Errorf("rotated-out token after SIGHUP: %d, want 401", st)
	}
	if st, _ := adminReq(t, port, "dash-secret-rotated-9876", "GET", "/v1/users", ""); st != 200 {
		t.Errorf("new token after SIGHUP: %d, want 200", st)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
