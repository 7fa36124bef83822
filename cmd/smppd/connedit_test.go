package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/smppd/smppd/config"
)

// send makes an admin request with a JSON body and returns the status and
// the answer.
func send(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	must(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(t, err)
	return res.StatusCode, string(b)
}

// TestAdminConnectorEdits: PUT adds a connector (written to the
// connectors file, audited), a bad entry is 422 and changes nothing, a
// SIGHUP keeps the API's change, DELETE of a connector a route names is
// refused, DELETE of another removes it, and a restart runs what the API
// left, with the ids it gave.
func TestAdminConnectorEdits(t *testing.T) {
	d, cfgPath, _, adminPort := startDemo(t)
	api := "http://127.0.0.1:" + strconv.Itoa(adminPort) + "/v1/connectors/"
	file := filepath.Join(filepath.Dir(cfgPath), "smppd.connectors.toml")

	st, body := send(t, "PUT", api+"sim2", `{"type":"sim","queue":1024,"settings":{"receipt_delay":"10ms","outcomes":{"delivered":100}}}`)
	var res reloadResult
	if st != 200 || json.Unmarshal([]byte(body), &res) != nil || strings.Join(res.Added, ",") != "sim2" {
		t.Fatalf("PUT sim2: %d %s", st, body)
	}
	saved := readFile(t, file)
	if !strings.Contains(saved, `name = "sim2"`) || !strings.Contains(saved, `receipt_delay = "10ms"`) || !strings.Contains(saved, `name = "sim"`) {
		t.Fatalf("connectors file:\n%s", saved)
	}
	if got := connectorNamesOf(d); got != "sim sim2" {
		t.Fatalf("running: %s", got)
	}
	if d.connectorName(1) != "sim2" { // the receipts' connector parameter (HTTP callbacks)
		t.Fatalf("id 1 is named %q", d.connectorName(1))
	}
	if st, body := send(t, "PUT", api+"sim2", `{"type":"sim","settings":{"no_such_key":1}}`); st != 422 || !strings.Contains(body, "no_such_key") {
		t.Fatalf("bad entry: %d %s", st, body)
	}
	if readFile(t, file) != saved {
		t.Fatal("a refused change rewrote the connectors file")
	}
	// A CA file the connector could not start with is refused by the
	// check, before the file is written (a refused change once reached
	// the next start, which then failed).
	ca := strconv.Quote(cfgPath) // a file, but not PEM
	if st, body := send(t, "PUT", api+"up9", `{"type":"smpp","settings":{"host":"127.0.0.1","system_id":"up","tls":true,"tls_ca_file":`+ca+`}}`); st != 422 || !strings.Contains(body, "no PEM certificate") {
		t.Fatalf("CA file without a certificate: %d %s", st, body)
	}
	if readFile(t, file) != saved {
		t.Fatal("a refused connector reached the connectors file")
	}
	if st, _ := send(t, "PUT", api+"sim2", `{"type":"sim","unknown":1}`); st != 400 {
		t.Fatalf("unknown field: %d", st)
	}

	// SIGHUP reads the connectors file: the API's change stays.
	res, err := d.reload()
	must(t, err)
	if len(res.Removed) != 0 || connectorNamesOf(d) != "sim sim2" {
		t.Fatalf("SIGHUP after PUT: %+v, running %s", res, connectorNamesOf(d))
	}

	if st, body := send(t, "DELETE", api+"sim", ""); st != 422 || !strings.Contains(body, "sim") {
		t.Fatalf("DELETE of the default route's connector: %d %s", st, body)
	}
	if st, _ := send(t, "DELETE", api+"nosuch", ""); st != 404 {
		t.Fatalf("DELETE of an unknown connector: %d", st)
	}
	st, body = send(t, "DELETE", api+"sim2", "")
	res = reloadResult{}
	if st != 200 || json.Unmarshal([]byte(body), &res) != nil || strings.Join(res.Removed, ",") != "sim2" {
		t.Fatalf("DELETE sim2: %d %s", st, body)
	}
	if strings.Contains(readFile(t, file), "sim2") || connectorNamesOf(d) != "sim" {
		t.Fatal("sim2 not removed from the file or the hub")
	}

	var audit struct {
		Entries []struct {
			Method string `json:"method"`
			Path   string `json:"path"`
			Status int    `json:"status"`
		} `json:"entries"`
	}
	if st := call(t, "GET", "http://127.0.0.1:"+strconv.Itoa(adminPort)+"/v1/audit", &audit); st != 200 {
		t.Fatalf("GET /v1/audit: %d", st)
	}
	var edits []string
	for _, e := range audit.Entries {
		if strings.HasPrefix(e.Path, "/v1/connectors/") {
			edits = append(edits, e.Method+" "+e.Path+" "+strconv.Itoa(e.Status))
		}
	}
	want := "PUT /v1/connectors/sim2 200|PUT /v1/connectors/sim2 422|PUT /v1/connectors/up9 422|PUT /v1/connectors/sim2 400|DELETE /v1/connectors/sim 422|DELETE /v1/connectors/nosuch 404|DELETE /v1/connectors/sim2 200"
	if strings.Join(edits, "|") != want {
		t.Fatalf("audit entries:\n%s\nwant\n%s", strings.Join(edits, "\n"), strings.ReplaceAll(want, "|", "\n"))
	}

	// What a restart reads: the file's connectors; sim2 keeps its id.
	cfg, err := config.Load(cfgPath)
	must(t, err)
	if !cfg.ConnectorsFromFile || len(cfg.Connectors) != 1 || len(cfg.Warnings) == 0 {
		t.Fatalf("restart: from file %v, %d connectors, warnings %v", cfg.ConnectorsFromFile, len(cfg.Connectors), cfg.Warnings)
	}
	ids, err := openConnIDs(cfg)
	must(t, err)
	if id, ok := ids.id("sim2"); !ok || id != 1 {
		t.Fatalf("sim2's id after a restart: %d %v", id, ok)
	}
}

func connectorNamesOf(d *daemon) string {
	var out []string
	for _, in := range d.hub.Connectors() {
		out = append(out, in.Name)
	}
	return strings.Join(out, " ")
}
