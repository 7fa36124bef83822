package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// smppctl policy against a stand-in for smppd's /v1/policy endpoints
// (cmd/smppd/policyadmin_test.go drives the real ones): each command
// sends the request the API documents and prints its answer.
func TestPolicyCommands(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	entries := map[string]bool{"4919*": true}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" "+string(bytes.TrimSpace(body)))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "GET" && r.URL.Path == "/v1/policy/lists":
			io.WriteString(w, `{"lists":[{"name":"premium","kind":"block","field":"dest","file":"/etc/smppd/premium.txt","entries":1,"hits":7}]}`)
		case r.Method == "GET" && r.URL.Path == "/v1/policy/lists/premium/test":
			on := strings.HasPrefix(r.URL.Query().Get("number"), "4919")
			json.NewEncoder(w).Encode(map[string]any{"listed": on})
		case r.Method == "POST" && r.URL.Path == "/v1/policy/lists/premium/entries":
			var b struct{ Entry string }
			json.Unmarshal(body, &b)
			json.NewEncoder(w).Encode(map[string]any{"changed": !entries[b.Entry]})
			entries[b.Entry] = true
		case r.Method == "DELETE" && strings.HasPrefix(r.URL.Path, "/v1/policy/lists/premium/entries/"):
			e := strings.TrimPrefix(r.URL.Path, "/v1/policy/lists/premium/entries/")
			json.NewEncoder(w).Encode(map[string]any{"changed": entries[e]})
			delete(entries, e)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"not_found","message":"policy: no such list"}}`)
		}
	}))
	defer srv.Close()
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
		{[]string{"policy", "lists"}, "premium  block  dest   1        7     /etc/smppd/premium.txt", 0},
		{[]string{"policy", "test", "premium", "4919123"}, "4919123 is on list premium", 0},
		{[]string{"policy", "test", "premium", "4917123"}, "4917123 is not on list premium", 0},
		{[]string{"policy", "add", "premium", "4917*"}, "4917* added to list premium; policy reloaded", 0},
		{[]string{"policy", "add", "premium", "4917*"}, "4917* was on list premium already", 0},
		{[]string{"policy", "remove", "premium", "4917*"}, "4917* removed from list premium; policy reloaded", 0},
		{[]string{"policy", "remove", "premium", "4917*"}, "4917* was not on list premium", 0},
	} {
		out, errOut, code := ctl(c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("smppctl %s: %d %q %q, want %q", strings.Join(c.args, " "), code, out, errOut, c.want)
		}
	}
	if _, errOut, code := ctl("policy", "test", "nope", "1"); code == 0 || !strings.Contains(errOut, "no such list") {
		t.Errorf("unknown list: %d %q", code, errOut)
	}
	if _, _, code := ctl("policy", "add", "premium"); code == 0 {
		t.Error("add without an entry succeeded")
	}
	want := []string{
		"GET /v1/policy/lists ",
		"GET /v1/policy/lists/premium/test?number=4919123 ",
		"GET /v1/policy/lists/premium/test?number=4917123 ",
		`POST /v1/policy/lists/premium/entries {"entry":"4917*"}`,
		`POST /v1/policy/lists/premium/entries {"entry":"4917*"}`,
		"DELETE /v1/policy/lists/premium/entries/4917%2A ",
		"DELETE /v1/policy/lists/premium/entries/4917%2A ",
	}
	mu.Lock()
	defer mu.Unlock()
	for i, w := range want {
		if i >= len(seen) || strings.TrimSpace(seen[i]) != strings.TrimSpace(w) {
			t.Errorf("request %d: %q, want %q", i, seen[min(i, len(seen)-1)], w)
		}
	}
}
