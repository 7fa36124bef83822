package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/bench"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(strings.Fields("-host 10.0.0.1 -port 2000 -user u -password p -bind tx -sessions 8 -window 50 -count 1000 -rate 5000 -mix gsm7:1,long:1 -warmup 2s -json"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.Addr != "10.0.0.1:2000" || c.SystemID != "u" || c.Password != "p" || c.Bind != bench.BindTransmitter ||
		c.Sessions != 8 || c.Window != 50 || c.Count != 1000 || c.Rate != 5000 || c.Mix != "gsm7:1,long:1" ||
		c.Warmup != 2*time.Second || !o.json || c.Duration != 0 {
		t.Fatalf("parsed %+v json=%v", c, o.json)
	}
	o, err = parseFlags(nil, io.Discard)
	if err != nil || o.cfg.Duration != 10*time.Second || o.cfg.Bind != bench.BindTransceiver || o.cfg.Addr != "127.0.0.1:2775" {
		t.Fatalf("defaults: %+v %v", o.cfg, err)
	}
	o, err = parseFlags(strings.Fields("-port 2779 -idle 10000 -hold 30s -parallel 16"), io.Discard)
	if err != nil || o.idle != 10000 || o.hold != 30*time.Second || o.parallel != 16 {
		t.Fatalf("idle: %+v %v", o, err)
	}
	for _, bad := range []string{"-bind rx", "-port 0", "-window 0", "-mix sms", "-dlr -bind tx", "extra", "-sessions x",
		"-idle -1", "-hold -1s", "-parallel 0"} {
		if _, err := parseFlags(strings.Fields(bad), io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSummaryAndGroup(t *testing.T) {
	if g := group(1234567); g != "1,234,567" {
		t.Fatalf("group = %q", g)
	}
	if g := group(12); g != "12" {
		t.Fatalf("group = %q", g)
	}
	var b strings.Builder
	res := &bench.Result{Addr: "a:1", Bind: "trx", Sessions: 1, Window: 1, Mix: "gsm7:1", Receipts: true,
		OK: 10, Submitted: 10, Statuses: map[string]uint64{"ESME_RTHROTTLED": 2},
		SubmitResp: bench.Latency{Count: 10, P50: 12.5, P90: 1500, P99: 2e6, P999: 2e6, Max: 2e6, Mean: 3}}
	writeSummary(&b, res, &bench.Config{})
	out := b.String()
	for _, want := range []string{"p50 12.5 µs", "p90 1.50 ms", "p99 2.00 s", "ESME_RTHROTTLED 2", "submit→receipt (none)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}
