package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/cdr"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage/memory"
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

// TestCDRBacklogReadyAndMetrics: while the CDR queue is past its
// high-water mark the hub's flag (the stream's) is up and the
// smppd_cdr_backlog gauge is 1 at once; GET /v1/ready says why only once
// that has lasted [cdr] ready_grace. Without a stream: neither.
func TestCDRBacklogReadyAndMetrics(t *testing.T) {
	if backlogOf(nil) != nil || cdrReady(nil, time.Now()) != nil {
		t.Fatal("no stream: a flag or a readiness error")
	}
	store := memory.New(memory.Options{MaxRecords: 1024, TTL: time.Hour})
	grace := config.DefaultCDR().ReadyGrace.D()
	s, err := cdr.Open(cdr.Options{Dir: t.TempDir(), QueueSize: 1024, HighWater: 10, ReadyGrace: grace, Messages: store, Logger: zerolog.Nop()})
	must(t, err)
	t.Cleanup(func() { _ = s.Close() })
	reg := prometheus.NewRegistry()
	must(t, registerCDR(reg, s))
	gauge := func() (backlog, total float64) {
		t.Helper()
		mfs, err := reg.Gather()
		must(t, err)
		for _, mf := range mfs {
			switch mf.GetName() {
			case "smppd_cdr_backlog":
				backlog = mf.GetMetric()[0].GetGauge().GetValue()
			case "smppd_cdr_backlogs_total":
				total = mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return backlog, total
	}
	if err := cdrReady(s, time.Now()); err != nil {
		t.Fatalf("idle stream not ready: %v", err)
	}
	if b, n := gauge(); b != 0 || n != 0 {
		t.Fatalf("idle: smppd_cdr_backlog %v, smppd_cdr_backlogs_total %v", b, n)
	}
	raised := time.Now()
	for i := range 102 { // 10% of 1024: the writer is not started
		s.Final(msg.Final{ID: msg.ID(i + 1), State: msg.StateDelivered, Done: 1})
	}
	if backlogOf(s) != s.Backlog() || !backlogOf(s).Load() {
		t.Fatal("the hub's flag is not the stream's, or not raised")
	}
	if err := cdrReady(s, raised.Add(grace/2)); err != nil {
		t.Fatalf("a backlog shorter than ready_grace (%v) ejects the node: ready %v", grace, err)
	}
	if err := cdrReady(s, time.Now().Add(grace)); err == nil || !strings.Contains(err.Error(), "ESME_RTHROTTLED") {
		t.Fatalf("backlogged stream past ready_grace: ready %v", err)
	}
	if b, n := gauge(); b != 1 || n != 1 {
		t.Fatalf("backlogged: smppd_cdr_backlog %v, smppd_cdr_backlogs_total %v", b, n)
	}
}
