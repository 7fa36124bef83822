package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestConnectorSetAndRemove: set sends PUT /v1/connectors/NAME with the
// type, queue and settings typed as JSON (dotted keys nest), remove sends
// DELETE; the answer's lists are printed, a refusal is the server's words.
func TestConnectorSetAndRemove(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/busy") {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"error":{"code":"rejected","message":"route \"default\" names busy"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"reloaded","added":["up1"],"removed":[],"rebuilt":[],"failed":[],"needs_restart":[]}`))
	}))
	defer srv.Close()
	ctlRun := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := run(args, &out, &errOut, func(k string) string {
			if k == "SMPPCTL_ADDR" {
				return srv.URL
			}
			return ""
		})
		return out.String(), errOut.String(), code
	}
	out, errOut, code := ctlRun("connectors", "set", "up1", "--type", "smpp", "--queue", "4096", "--set", "host=10.0.0.5",
		"--set", "port=2775", "--set", "password=env:UP1_PW", "--set", "outcomes.delivered=90", "--settings", `{"binds":2}`)
	if code != 0 || !strings.Contains(out, "added: up1") {
		t.Fatalf("set: %d %q %q", code, out, errOut)
	}
	method, body, _ := strings.Cut(got[0], " {")
	if method != "PUT /v1/connectors/up1 application/json" {
		t.Fatalf("request %q", got[0])
	}
	var spec map[string]any
	if err := json.Unmarshal([]byte("{"+body), &spec); err != nil {
		t.Fatal(err)
	}
	s := spec["settings"].(map[string]any)
	if spec["type"] != "smpp" || spec["queue"] != 4096.0 || s["host"] != "10.0.0.5" || s["port"] != 2775.0 ||
		s["password"] != "env:UP1_PW" || s["binds"] != 2.0 || s["outcomes"].(map[string]any)["delivered"] != 90.0 {
		t.Fatalf("body %v", spec)
	}
	if _, errOut, code := ctlRun("connectors", "set", "up1"); code == 0 || !strings.Contains(errOut, "--type") {
		t.Fatalf("set without --type: %d %q", code, errOut)
	}
	if _, _, code := ctlRun("connectors", "remove", "up1"); code != 0 || got[len(got)-1] != "DELETE /v1/connectors/up1  " {
		t.Fatalf("remove: %d %q", code, got[len(got)-1])
	}
	if _, errOut, code := ctlRun("connectors", "remove", "busy"); code == 0 || !strings.Contains(errOut, `names busy`) {
		t.Fatalf("refused remove: %d %q", code, errOut)
	}
}
