package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// smppctl policy rules* against a stand-in for smppd's /v1/policy/rules
// (cmd/smppd/policyrules_test.go drives the real ones): each command sends
// the request the API documents, the TOML text in a JSON body, and prints
// the answer.
func TestPolicyRulesCommands(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Content-Type")+" "+string(bytes.TrimSpace(body)))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "GET" && r.URL.Path == "/v1/policy/rules":
			io.WriteString(w, `{"source":"cluster","file":"/etc/smppd/rules.toml","revision":12,"rules":[{"name":"uk-fix","hits":4}],"toml":"[[rule]]\nname = \"uk-fix\"\n"}`)
		case r.Method == "PUT" && strings.Contains(string(body), "set_priority = 9"):
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"code":"bad_rules","message":"rule[0] (\"x\"): set_priority: 9 not in 0..3"}}`)
		case r.Method == "PUT" && r.URL.Query().Get("check") == "true":
			io.WriteString(w, `{"valid":true,"rules":1}`)
		case r.Method == "PUT", r.Method == "POST", r.Method == "DELETE":
			io.WriteString(w, `{"rules":1,"revision":13,"source":"cluster"}`)
		case r.Method == "GET" && r.URL.Path == "/v1/policy/rules/test":
			io.WriteString(w, `{"rule":"uk-fix","action":"pass","source":"Shop","dest":"44701","priority":2}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"not_found","message":"no"}}`)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.toml"), filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(good, []byte("[[rule]]\nname = \"x\"\nset_priority = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("[[rule]]\nname = \"x\"\nset_priority = 9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctl := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := run(args, &out, &errOut, func(k string) string {
			if k == "SMPPCTL_ADDR" {
				return srv.URL
			}
			return ""
		})
		return out.String(), errOut.String(), code
	}
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"policy", "rules"}, "source: cluster /etc/smppd/rules.toml, revision 12\n#  RULE    HITS\n0  uk-fix  4", 0},
		{[]string{"policy", "rules", "--toml"}, "[[rule]]\nname = \"uk-fix\"\n", 0},
		{[]string{"policy", "rules-check", good}, "rule table valid: 1 rules", 0},
		{[]string{"policy", "rules-set", good}, "rule table replaced: 1 rules, cluster revision 13", 0},
		{[]string{"policy", "rules-set", bad}, "", 1},
		{[]string{"policy", "rules-add", good, "--position", "0"}, "rule added: 1 rules", 0},
		{[]string{"policy", "rules-remove", "uk-fix"}, "rule uk-fix removed", 0},
		{[]string{"policy", "rules-test", "44701", "--user", "alice", "--source", "Shop"}, "rule uk-fix: action=pass source=Shop dest=44701 priority=2", 0},
		{[]string{"policy", "rules-set"}, "", 2},
	} {
		out, errOut, code := ctl(c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("smppctl %s: %d %q %q, want %q", strings.Join(c.args, " "), code, out, errOut, c.want)
		}
		if c.code == 1 && !strings.Contains(errOut, `rule[0] ("x"): set_priority`) {
			t.Errorf("smppctl %s: stderr %q", strings.Join(c.args, " "), errOut)
		}
	}
	want := []string{
		"GET /v1/policy/rules",
		"GET /v1/policy/rules",
		`PUT /v1/policy/rules?check=true application/json {"toml":"[[rule]]\nname = \"x\"\nset_priority = 1\n"}`,
		`PUT /v1/policy/rules application/json {"toml":"[[rule]]\nname = \"x\"\nset_priority = 1\n"}`,
		`PUT /v1/policy/rules application/json {"toml":"[[rule]]\nname = \"x\"\nset_priority = 9\n"}`,
		`POST /v1/policy/rules application/json {"position":0,"toml":"[[rule]]\nname = \"x\"\nset_priority = 1\n"}`,
		"DELETE /v1/policy/rules/uk-fix",
		"GET /v1/policy/rules/test?dest=44701&source=Shop&user=alice",
	}
	mu.Lock()
	defer mu.Unlock()
	for i, w := range want {
		if i >= len(seen) || strings.TrimSpace(seen[i]) != w {
			t.Errorf("request %d: %q, want %q", i, seen[min(i, len(seen)-1)], w)
		}
	}
}
