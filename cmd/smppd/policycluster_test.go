package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/cluster"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/policy"
)

// List edits from the cluster (another node's admin API) are applied to
// this node's list file and put in force with one reload; an edit this
// node has already made changes nothing, and one naming a list this
// node's policy lacks is logged and skipped. Outside a cluster nothing is
// shared.
func TestApplyListEditsFromTheCluster(t *testing.T) {
	cfgPath, _, _, _ := demoDir(t)
	dir := filepath.Dir(cfgPath)
	must(t, os.WriteFile(filepath.Join(dir, "policy.toml"), []byte("[[list]]\nname = \"blocked\"\nkind = \"block\"\nfield = \"dest\"\nfile = \"blocked.txt\"\n"), 0o600))
	listPath := filepath.Join(dir, "blocked.txt")
	must(t, os.WriteFile(listPath, []byte("4916*\n"), 0o600))
	src, err := os.ReadFile(cfgPath)
	must(t, err)
	must(t, os.WriteFile(cfgPath, []byte(strings.Replace(string(src), "\nfile = \"\" ", "\nfile = \"policy.toml\" ", 1)), 0o600))
	cfg, err := config.Load(cfgPath)
	must(t, err)
	logs := &syncBuf{}
	d, err := newDaemon(cfg, zerolog.New(logs), func(o *engine.Options) { o.Addr, o.EventLoops = "127.0.0.1:0", 2 })
	must(t, err)
	must(t, d.start())
	stopAtEnd(t, d)
	if d.pex.lists != nil || d.pex.shareListEdit("blocked", "4917*", true) != nil {
		t.Fatal("a node outside a cluster shares list edits")
	}
	before := d.pex.holder.Load()
	d.applyListEdits([]cluster.ListEdit{
		{List: "blocked", Entry: "4917*", Add: true},
		{List: "blocked", Entry: "4916*"},
		{List: "gone", Entry: "1", Add: true},
	})
	p := d.pex.holder.Load()
	if p == before {
		t.Fatal("the policy was not loaded again")
	}
	on17, _ := p.TestList("blocked", []byte("49171234567"))
	on16, _ := p.TestList("blocked", []byte("49161234567"))
	body, err := os.ReadFile(listPath)
	must(t, err)
	if !on17 || on16 || string(body) != "4917*\n" {
		t.Fatalf("after the edits: 4917 listed %v, 4916 listed %v, file %q", on17, on16, body)
	}
	if !strings.Contains(logs.String(), `"list":"gone"`) || !strings.Contains(logs.String(), `"edits":2`) {
		t.Fatalf("log:\n%s", logs)
	}
	// The same edits again (this node's own, seen back): no reload.
	d.applyListEdits([]cluster.ListEdit{{List: "blocked", Entry: "4917*", Add: true}})
	if d.pex.holder.Load() != p {
		t.Fatal("an edit already made loaded the policy again")
	}
}

// Two cluster nodes in one process (embedded JetStream, loopback): a list
// edit through node 1's admin API reaches node 2's list file and policy,
// a removal through node 2's reaches node 1's; each node's [[limit]]
// bucket allows half the configured burst.
func TestPolicyListEditsAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("two cluster nodes")
	}
	src := "[[list]]\nname = \"blocked\"\nkind = \"block\"\nfield = \"dest\"\nfile = \"blocked.txt\"\n\n[[limit]]\nsender = \"BANK\"\nrate = 10\nburst = 10\n"
	ds, admins, dirs := clusterPair(t, src, map[string]string{"blocked.txt": "4916*\n"}, [2]*syncBuf{{}, {}})
	lists := []string{filepath.Join(dirs[0], "blocked.txt"), filepath.Join(dirs[1], "blocked.txt")}
	listed := func(d *daemon, number string) bool {
		on, err := d.pex.holder.Load().TestList("blocked", []byte(number))
		return err == nil && on
	}
	eventuallyTrue := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 15s", what)
			}
		}
	}
	code, raw := adminReq(t, admins[0], "", "POST", "/v1/policy/lists/blocked/entries", `{"entry":"4917*"}`)
	if code != 200 || !strings.Contains(raw, `"changed": true`) || !listed(ds[0], "49171234567") {
		t.Fatalf("POST on node 1: %d %s", code, raw)
	}
	eventuallyTrue("node 1's add on node 2", func() bool { return listed(ds[1], "49171234567") })
	code, raw = adminReq(t, admins[1], "", "DELETE", "/v1/policy/lists/blocked/entries/4916*", "")
	if code != 200 || listed(ds[1], "49161234567") {
		t.Fatalf("DELETE on node 2: %d %s", code, raw)
	}
	eventuallyTrue("node 2's removal on node 1", func() bool { return !listed(ds[0], "49161234567") })
	for i, f := range lists {
		if b, err := os.ReadFile(f); err != nil || string(b) != "4917*\n" {
			t.Fatalf("node %d's list file: %q %v", i+1, b, err)
		}
	}
	// Two live nodes: each BANK bucket holds 5 of the 10.
	at := time.Now().Add(time.Hour).UnixNano()
	eventuallyTrue("half the burst on node 1", func() bool {
		at += int64(time.Hour) // a full bucket each try
		n := 0
		for ; n < 20 && ds[0].pex.limits.Take([]byte("BANK"), "", 1, at) == policy.NoLimit; n++ {
		}
		return n == 5
	})
}
