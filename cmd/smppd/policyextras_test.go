package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smppd/smppd/metrics"
	"github.com/smppd/smppd/policy"
)

// A policy load's [lookup] and [[limit]] reach the long-lived parts; a bad
// table keeps the previous one and names the key.
func TestPolicyExtrasApply(t *testing.T) {
	x := newPolicyExtras()
	defer x.close()
	ported := filepath.Join(t.TempDir(), "ported")
	if err := os.WriteFile(ported, []byte("4917* netA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if net, _ := x.lookup.Resolve([]byte("4917123"), true, 0); net != "" {
		t.Fatalf("before any policy: %q", net)
	}
	if err := x.apply(policy.LookupConfig{PortedFile: ported}, []policy.LimitConfig{{Sender: "BANK", Rate: 1, Burst: 1}}); err != nil {
		t.Fatal(err)
	}
	if net, _ := x.lookup.Resolve([]byte("4917123"), true, 0); net != "netA" {
		t.Fatalf("after apply: %q", net)
	}
	if !x.limits.Active() {
		t.Fatal("limits not applied")
	}
	err := x.apply(policy.LookupConfig{PortedFile: ported, Workers: -1}, []policy.LimitConfig{{Sender: "BANK"}})
	if err == nil || !strings.Contains(err.Error(), "lookup.workers") || !strings.Contains(err.Error(), "limit[0].rate") {
		t.Fatalf("bad tables: %v", err)
	}
	if net, _ := x.lookup.Resolve([]byte("4917123"), true, 0); net != "netA" || !x.limits.Active() {
		t.Fatal("a bad table replaced the one in force")
	}
	var src metrics.Sources
	x.metricsSources(&src)
	if src.Routes == nil || src.Lookup == nil || src.Limits == nil {
		t.Fatal("options not filled")
	}
	if len(x.stages()) != 1 {
		t.Fatal("the lookup is not a stage")
	}
}
