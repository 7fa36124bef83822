package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sent is one request smppctl made.
type sent struct {
	method, path, contentType string
	body                      []byte
}

// Every request smppctl sends with a body declares it as JSON (the admin
// API refuses anything else with 415), and the body is JSON. Each command
// runs against a recorder, so this sees what goes on the wire rather than
// what the server accepts.
func TestEveryBodyIsSentAsJSON(t *testing.T) {
	var mu sync.Mutex
	var got []sent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, sent{r.Method, r.URL.Path, r.Header.Get("Content-Type"), b})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	}))
	t.Cleanup(srv.Close)

	rulesFile := filepath.Join(t.TempDir(), "rules.toml")
	if err := os.WriteFile(rulesFile, []byte("[[rule]]\nname = \"uk\"\nset_priority = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// One invocation per command; every command of every group must be here.
	runs := map[string][]string{
		"health":                {"health"},
		"sessions list":         {"sessions", "list"},
		"sessions kick":         {"sessions", "kick", "7"},
		"users list":            {"users", "list"},
		"users show":            {"users", "show", "alice"},
		"users add":             {"users", "add", "carol", "--password", "pw", "--throughput", "5"},
		"users set":             {"users", "set", "alice", "--receipts=false"},
		"users enable":          {"users", "enable", "alice"},
		"users disable":         {"users", "disable", "alice"},
		"users topup":           {"users", "topup", "alice", "5"},
		"users balance-set":     {"users", "balance-set", "alice", "unlimited"},
		"users callback-secret": {"users", "callback-secret", "alice", "--remove"},
		"connectors list":       {"connectors", "list"},
		"connectors stop":       {"connectors", "stop", "sim1"},
		"connectors start":      {"connectors", "start", "sim1"},
		"connectors set":        {"connectors", "set", "sim3", "--type", "sim", "--set", "receipt_delay=1s"},
		"connectors remove":     {"connectors", "remove", "sim3"},
		"routes show":           {"routes", "show"},
		"routes reload":         {"routes", "reload"},
		"mo inject":             {"mo", "inject", "--from", "336", "--to", "1234", "--text", "hi"},
		"msg show":              {"msg", "show", "0000000000000001"},
		"msg find":              {"msg", "find", "--to", "4917012345678"},
		"msg erase":             {"msg", "erase", "4917012345678", "--yes", "--wait", "0"},
		"audit":                 {"audit"},
		"held list":             {"held", "list", "--kind", "mo"},
		"held show":             {"held", "show", "4294967297"},
		"held retry":            {"held", "retry", "4294967297"},
		"held purge":            {"held", "purge", "4294967297"},
		"dead list":             {"dead", "list"},
		"dead retry":            {"dead", "retry", "1796611375060400597"},
		"dead purge":            {"dead", "purge", "1796611375060400597"},
		"reload":                {"reload"},
		"queues list":           {"queues", "list"},
		"queues purge":          {"queues", "purge", "sim1"},
		"policy lists":          {"policy", "lists"},
		"policy test":           {"policy", "test", "premium", "4919123"},
		"policy add":            {"policy", "add", "premium", "4919*"},
		"policy remove":         {"policy", "remove", "premium", "4919*"},
		"policy rules":          {"policy", "rules"},
		"policy rules-set":      {"policy", "rules-set", rulesFile},
		"policy rules-check":    {"policy", "rules-check", rulesFile},
		"policy rules-add":      {"policy", "rules-add", rulesFile, "--position", "0"},
		"policy rules-remove":   {"policy", "rules-remove", "uk"},
		"policy rules-test":     {"policy", "rules-test", "44701"},
		"cluster":               {"cluster"},
	}
	for _, g := range groups {
		for _, c := range g.cmds {
			name := strings.TrimSpace(g.name + " " + c.name)
			if _, ok := runs[name]; !ok {
				t.Errorf("command %q is not exercised here: add it", name)
			}
		}
	}

	bodies := map[string]bool{}
	for name, args := range runs {
		mu.Lock()
		got = got[:0]
		mu.Unlock()
		var out, errOut bytes.Buffer
		run(append([]string{"--addr", srv.URL}, args...), &out, &errOut, func(string) string { return "" })
		mu.Lock()
		reqs := append([]sent(nil), got...)
		mu.Unlock()
		if len(reqs) == 0 {
			t.Errorf("%s: sent no request (stderr %q)", name, errOut.String())
		}
		for _, r := range reqs {
			if len(r.body) == 0 {
				continue
			}
			bodies[r.method+" "+r.path] = true
			if r.contentType != "application/json" {
				t.Errorf("%s: %s %s with a body sent Content-Type %q", name, r.method, r.path, r.contentType)
			}
			if !json.Valid(r.body) {
				t.Errorf("%s: %s %s body is not JSON: %q", name, r.method, r.path, r.body)
			}
		}
	}
	for _, want := range []string{"POST /v1/users", "PATCH /v1/users/alice", "POST /v1/users/alice/balance", "POST /v1/mo", "POST /v1/messages/erase", "POST /v1/policy/lists/premium/entries", "PUT /v1/policy/rules", "POST /v1/policy/rules"} {
		if !bodies[want] {
			t.Errorf("no request with a body to %s: the check above saw %v", want, bodies)
		}
	}
}
