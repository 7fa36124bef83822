package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// TestDaemonWritesCDRs: the demo config writes a CDR line per final
// state into <storage.dir>/cdr: a receipt's (registered_delivery 1) and a
// state the simulator decided at acceptance (no receipt asked); the admin
// API finds both; at stop the file is closed, and the metrics counted.
func TestDaemonWritesCDRs(t *testing.T) {
	cfgPath, _, _, adminPort := demoDir(t)
	d, _, stop := runConfig(t, cfgPath)
	c, st := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	submit := func(seq uint32, reg byte, text string) string {
		body := smpptest.SubmitBody("ACME", "4917012345678", text)
		body[len(body)-len(text)-5] = reg // registered_delivery
		must(t, c.Send(codec.SubmitSMID, 0, seq, body))
		_, resp, err := c.Expect(5*time.Second, codec.SubmitSMRespID, codec.StatusOK)
		must(t, err)
		var r codec.SubmitSMResp
		must(t, r.Decode(resp[codec.HeaderLen:]))
		return string(r.MessageID)
	}
	withReceipt := submit(2, 1, "receipt please")
	expectDeliver(t, c)
	decided := submit(3, 0, "no receipt")

	deadline := time.Now().Add(5 * time.Second)
	for {
		_, metrics := adminReq(t, adminPort, "", "GET", "/metrics", "")
		if strings.Contains(metrics, "smppd_cdr_written_total 2") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CDR metrics after 5s:\n%s", grepLines(metrics, "smppd_cdr_"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, raw := adminReq(t, adminPort, "", "GET", "/v1/messages/"+withReceipt, "")
	if code != 200 || !strings.Contains(raw, `"state": "DELIVERED"`) || !strings.Contains(raw, `"connector": "sim"`) {
		t.Fatalf("GET /v1/messages/%s: %d %s", withReceipt, code, raw)
	}
	code, raw = adminReq(t, adminPort, "", "GET", "/v1/messages?to=%2B4917012345678", "")
	if code != 200 || !strings.Contains(raw, withReceipt) || !strings.Contains(raw, decided) {
		t.Fatalf("GET /v1/messages?to=: %d %s", code, raw)
	}

	must(t, c.Close()) // the stop's unbind would wait for an answer otherwise
	stop()
	dir := filepath.Join(d.cfg.Storage.Dir, "cdr")
	files, err := filepath.Glob(filepath.Join(dir, "cdr-*.jsonl"))
	must(t, err)
	if len(files) != 1 {
		t.Fatalf("closed CDR files in %s: %v", dir, files)
	}
	f, err := os.Open(files[0])
	must(t, err)
	defer f.Close()
	lines := map[string]map[string]any{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		must(t, json.Unmarshal(sc.Bytes(), &m))
		lines[m["id"].(string)] = m
	}
	if len(lines) != 2 {
		t.Fatalf("CDR lines: %v", lines)
	}
	r, dcd := lines[withReceipt], lines[decided]
	if r["state"] != "DELIVERED" || r["user"] != "demo" || r["destination"] != "4917012345678" || r["final"] == nil ||
		r["refunded"] != false || r["v"] != 1.0 || r["text"] != "receipt please" || r["route"] == "" {
		t.Errorf("receipt's line: %v", r)
	}
	if dcd == nil || dcd["state"] == nil || dcd["state"] == "ENROUTE" || dcd["upstream_id"] == "" {
		t.Errorf("decided state's line: %v", dcd)
	}
}
