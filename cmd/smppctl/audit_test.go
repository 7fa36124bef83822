package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/audit"
	"github.com/smppd/smppd/internal/admintest"
)

// ctlAs runs smppctl against e with SMPPCTL_TOKEN set to token.
func ctlAs(t *testing.T, e *admintest.Env, token string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut, func(k string) string {
		switch k {
		case "SMPPCTL_ADDR":
			return e.URL
		case "SMPPCTL_TOKEN":
			return token
		}
		return ""
	})
	return out.String(), errOut.String(), code
}

const (
	opsToken  = "ops-secret-0123456789"
	dashToken = "dash-secret-0123456789"
)

func TestAuditCommand(t *testing.T) {
	al, err := audit.Open(audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := admintest.Start(t, admintest.Spec{Audit: al, Tokens: []admin.Token{
		{Name: "ops", SHA256: admin.HashToken(opsToken), Scopes: admin.ScopeOperator},
		{Name: "dash", SHA256: admin.HashToken(dashToken), Scopes: admin.ScopeRead},
	}})
	for _, c := range []struct {
		token string
		args  []string
		code  int
		err   string
	}{
		{opsToken, []string{"users", "topup", "alice", "5"}, 0, ""},
		{opsToken, []string{"users", "disable", "bob"}, 0, ""},
		{dashToken, []string{"users", "topup", "alice", "5"}, 1, `forbidden (HTTP 403): token "dash" may not POST /v1/users/alice/balance`},
		{"wrong-secret-0123456789", []string{"audit"}, 1, "unauthorized (HTTP 401)"},
	} {
		_, errOut, code := ctlAs(t, e, c.token, c.args...)
		if code != c.code || !strings.Contains(errOut, c.err) {
			t.Errorf("smppctl %s: status %d %q, want %d %q", strings.Join(c.args, " "), code, errOut, c.code, c.err)
		}
	}
	out, errOut, code := ctlAs(t, e, dashToken, "audit")
	if code != 0 {
		t.Fatalf("audit: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "SEQ") {
		t.Fatalf("audit table:\n%s", out)
	}
	for i, want := range [][]string{
		{"1 ", "ops", "127.0.0.1:", "200", "POST /v1/users/alice/balance", `{"topup":"5"}`},
		{"2 ", "ops", "200", "POST /v1/users/bob/disable", " -"},
		{"3 ", "dash", "403", "POST /v1/users/alice/balance"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("row %d: no %q in %q", i+1, w, lines[i+1])
			}
		}
	}
	out, _, _ = ctlAs(t, e, dashToken, "audit", "--limit", "1")
	if n := strings.Count(strings.TrimSpace(out), "\n"); n != 1 || !strings.Contains(out, "alice/balance") {
		t.Errorf("--limit 1:\n%s", out)
	}
	out, _, code = ctlAs(t, e, dashToken, "audit", "--after", "1", "--since", "", "--json")
	var j struct {
		Entries []struct {
			Seq      uint64         `json:"seq"`
			Response map[string]any `json:"response"`
		} `json:"entries"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &j) != nil || len(j.Entries) != 2 || j.Entries[0].Seq != 2 || j.Entries[0].Response == nil {
		t.Errorf("--after 1 --json: %d\n%s", code, out)
	}
	if _, errOut, code := ctlAs(t, e, dashToken, "audit", "--since", "yesterday"); code != 1 || !strings.Contains(errOut, "bad_request") {
		t.Errorf("--since yesterday: %d %q", code, errOut)
	}
	if _, _, code := ctlAs(t, e, dashToken, "audit", "--limit", "-1"); code != 2 {
		t.Errorf("--limit -1: status %d, want 2", code)
	}
}
