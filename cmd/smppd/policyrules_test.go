package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/policy"
)

// withPolicy writes policy (and files beside it) into the demo config's
// folder and names it in [policy].
func withPolicy(t *testing.T, cfgPath, policy string, files map[string]string) string {
	t.Helper()
	dir := filepath.Dir(cfgPath)
	must(t, os.WriteFile(filepath.Join(dir, "policy.toml"), []byte(policy), 0o600))
	for name, body := range files {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	src, err := os.ReadFile(cfgPath)
	must(t, err)
	must(t, os.WriteFile(cfgPath, []byte(strings.Replace(string(src), "\nfile = \"\" ", "\nfile = \"policy.toml\" ", 1)), 0o600))
	return dir
}

// tomlBody is a rule endpoint's JSON body: the TOML text and, from 0, a
// position.
func tomlBody(text string, pos int) string {
	b := map[string]any{"toml": text}
	if pos >= 0 {
		b["position"] = pos
	}
	out, _ := json.Marshal(b)
	return string(out)
}

type rulesView struct {
	Source   string `json:"source"`
	Revision uint64 `json:"revision"`
	Rules    []struct {
		Name string `json:"name"`
	} `json:"rules"`
	TOML string `json:"toml"`
}

func getRules(t *testing.T, port int) rulesView {
	t.Helper()
	code, raw := adminReq(t, port, "", "GET", "/v1/policy/rules", "")
	var v rulesView
	if code != 200 || json.Unmarshal([]byte(raw), &v) != nil {
		t.Fatalf("GET rules: %d %s", code, raw)
	}
	return v
}

// The rule table on one node's admin API: read, a bad table refused 400
// naming the rule and key (nothing changes), a check that changes
// nothing, a replacement written to the rules file and seen by the next
// submit, one rule added and removed, a message tested; a SIGHUP with a
// rules file that does not load keeps the table in force.
func TestPolicyRulesOnTheAdminAPI(t *testing.T) {
	cfgPath, _, _, admin := demoDir(t)
	dir := withPolicy(t, cfgPath, "rules_file = \"rules.toml\"\n\n[[rule]]\nname = \"inline\"\ndest_prefixes = [\"4990\"]\nreject = \"ESME_RINVDSTADR\"\n", nil)
	rulesPath := filepath.Join(dir, "rules.toml")
	d, _, _ := runConfig(t, cfgPath)
	c, st := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	seq := uint32(1)
	submit := func(dst string) codec.Status {
		t.Helper()
		seq++
		must(t, c.Send(codec.SubmitSMID, 0, seq, smpptest.SubmitBody("1234", dst, "x")))
		h, _, err := c.ReadFrame(5 * time.Second)
		must(t, err)
		return h.Status
	}
	if v := getRules(t, admin); v.Source != "policy_file" || len(v.Rules) != 1 || v.Rules[0].Name != "inline" {
		t.Fatalf("at start: %+v", v)
	}
	if st := submit("4917123456"); st != codec.StatusOK {
		t.Fatalf("before the edit: %v", st)
	}

	bad := "[[rule]]\nname = \"uk\"\ndest_prefixes = [\"44\"]\nset_priority = 1\n\n[[rule]]\nname = \"night\"\ndest_prefixes = [\"4917\"]\nset_priority = 9\n"
	code, raw := adminReq(t, admin, "", "PUT", "/v1/policy/rules", tomlBody(bad, -1))
	if code != 400 || !strings.Contains(raw, `"bad_rules"`) || !strings.Contains(raw, `rule[1] (\"night\"): set_priority`) {
		t.Fatalf("bad table: %d %s", code, raw)
	}
	good := "# the night rule\n[[rule]]\nname = \"block17\"\ndest_prefixes = [\"4917\"]\nreject = \"ESME_RX_R_APPN\"\n"
	if code, raw = adminReq(t, admin, "", "PUT", "/v1/policy/rules?check=true", tomlBody(good, -1)); code != 200 || !strings.Contains(raw, `"valid": true`) {
		t.Fatalf("check: %d %s", code, raw)
	}
	if _, err := os.Stat(rulesPath); !os.IsNotExist(err) || getRules(t, admin).Rules[0].Name != "inline" {
		t.Fatalf("a refused table or a check changed something: %v", err)
	}
	if code, raw = adminReq(t, admin, "", "PUT", "/v1/policy/rules", tomlBody(good, -1)); code != 200 || !strings.Contains(raw, `"source": "rules_file"`) {
		t.Fatalf("PUT: %d %s", code, raw)
	}
	if b, err := os.ReadFile(rulesPath); err != nil || string(b) != good {
		t.Fatalf("rules file: %q %v", b, err)
	}
	if st := submit("4917123456"); st != codec.StatusXRAppn {
		t.Fatalf("after the edit: %v", st)
	}

	one := "[[rule]]\nname = \"vip\"\nusers = [\"demo\"]\ndest_prefixes = [\"491711\"]\nset_priority = 3\n"
	if code, raw = adminReq(t, admin, "", "POST", "/v1/policy/rules", tomlBody(one, 0)); code != 200 {
		t.Fatalf("POST: %d %s", code, raw)
	}
	if code, raw = adminReq(t, admin, "", "POST", "/v1/policy/rules", tomlBody(one, -1)); code != 409 {
		t.Fatalf("POST of a name in use: %d %s", code, raw)
	}
	if v := getRules(t, admin); len(v.Rules) != 2 || v.Rules[0].Name != "vip" || v.Rules[1].Name != "block17" {
		t.Fatalf("after the add: %+v", v)
	}
	if st := submit("4917111111"); st != codec.StatusOK {
		t.Fatalf("vip before block17: %v", st)
	}
	code, raw = adminReq(t, admin, "", "GET", "/v1/policy/rules/test?user=demo&dest=4917111111", "")
	if code != 200 || !strings.Contains(raw, `"rule": "vip"`) || !strings.Contains(raw, `"priority": 3`) {
		t.Fatalf("test vip: %d %s", code, raw)
	}
	code, raw = adminReq(t, admin, "", "GET", "/v1/policy/rules/test?user=other&dest=4917111111", "")
	if code != 200 || !strings.Contains(raw, `"rule": "block17"`) || !strings.Contains(raw, `"status": "ESME_RX_R_APPN"`) {
		t.Fatalf("test block17: %d %s", code, raw)
	}
	if code, raw = adminReq(t, admin, "", "DELETE", "/v1/policy/rules/vip", ""); code != 200 {
		t.Fatalf("DELETE: %d %s", code, raw)
	}
	if code, _ = adminReq(t, admin, "", "DELETE", "/v1/policy/rules/vip", ""); code != 404 {
		t.Fatalf("DELETE again: %d", code)
	}

	// SIGHUP with a rules file that does not load: the table in force stays.
	before := d.pex.holder.Load()
	must(t, os.WriteFile(rulesPath, []byte("[[rule]]\nname = \"x\"\nset_priority = -1\n"), 0o600))
	if _, err := d.reload(); err != nil {
		t.Fatal(err)
	}
	if d.pex.holder.Load() != before || submit("4917123456") != codec.StatusXRAppn {
		t.Fatal("a rules file that does not load was put in force")
	}
}

// Without a rules_file a node outside a cluster has nowhere to keep an
// edit: refused 409, nothing changes.
func TestPolicyRulesNeedARulesFile(t *testing.T) {
	cfgPath, _, _, admin := demoDir(t)
	withPolicy(t, cfgPath, "[[rule]]\nname = \"inline\"\ndest_prefixes = [\"4990\"]\nreject = \"ESME_RINVDSTADR\"\n", nil)
	runConfig(t, cfgPath)
	code, raw := adminReq(t, admin, "", "PUT", "/v1/policy/rules", tomlBody("[[rule]]\nname = \"a\"\nset_priority = 1\n", -1))
	if code != 409 || !strings.Contains(raw, "no_file") || getRules(t, admin).Rules[0].Name != "inline" {
		t.Fatalf("PUT without rules_file: %d %s", code, raw)
	}
}

// clusterPair starts two cluster nodes in one process on one embedded
// JetStream (loopback), each with its own folder and policy file; each
// node's log goes to logs[i] and the test's log.
func clusterPair(t *testing.T, policy string, files map[string]string, logs [2]*syncBuf) (ds [2]*daemon, admins [2]int, dirs [2]string) {
	t.Helper()
	nats, routes := []int{freePort(t), freePort(t)}, []int{freePort(t), freePort(t)}
	routeURLs := `["nats-route://127.0.0.1:` + strconv.Itoa(routes[0]) + `", "nats-route://127.0.0.1:` + strconv.Itoa(routes[1]) + `"]`
	var cfgs [2]*config.Config
	for i := range 2 {
		cfgPath, _, _, adminPort := demoDir(t)
		dirs[i] = withPolicy(t, cfgPath, policy, files)
		src, err := os.ReadFile(cfgPath)
		must(t, err)
		conf := string(src)
		for _, r := range [][2]string{
			{"enabled = false                   # true: messages", "enabled = true # "},
			{"node_id = 0                       # 1..4095", "node_id = " + strconv.Itoa(i+1) + " # "},
			{"replicas = 3 ", "replicas = 2 "},
			{`listen = "127.0.0.1:4222"`, `listen = "127.0.0.1:` + strconv.Itoa(nats[i]) + `"`},
			{`route_listen = "127.0.0.1:6222"`, `route_listen = "127.0.0.1:` + strconv.Itoa(routes[i]) + `"`},
			{"routes = [] ", "routes = " + routeURLs + " "},
		} {
			if !strings.Contains(conf, r[0]) {
				t.Fatalf("the demo config has no %q", r[0])
			}
			conf = strings.Replace(conf, r[0], r[1], 1)
		}
		must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
		cfgs[i], err = config.Load(cfgPath)
		must(t, err)
		admins[i] = adminPort
	}
	var errs [2]error
	var wg sync.WaitGroup
	for i := range 2 { // each waits for the other: a quorum of two
		wg.Go(func() {
			w := io.MultiWriter(logs[i], zerolog.NewTestWriter(t))
			ds[i], errs[i] = newDaemon(cfgs[i], zerolog.New(w).With().Int("node", i+1).Logger(),
				func(o *engine.Options) { o.Addr, o.EventLoops = "127.0.0.1:0", 2 })
		})
	}
	wg.Wait()
	// Every daemon made is released at the test's end whatever fails
	// after it: stopped once started, else what newDaemon opened closed.
	var started [2]bool
	for i, d := range ds {
		if d != nil {
			t.Cleanup(func() {
				if started[i] {
					d.stop()
				} else {
					discard(d)
				}
			})
		}
	}
	for i, d := range ds {
		must(t, errs[i])
		must(t, d.start())
		started[i] = true
	}
	return ds, admins, dirs
}

// discard releases what newDaemon opened for a daemon that never ran (not
// started, or its start failed and undid what it had started): stop would
// wait forever for a hub never started.
func discard(d *daemon) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	d.stopWebhook(ctx)
	cancel()
	closeShared(d.store)
	d.pex.close()
	d.closeCDR()
	d.closeStore()
	if d.audit != nil {
		_ = d.audit.Close()
	}
}

// Two cluster nodes: the table both start with is the cluster's (one
// seeds it); a table put through node 1's admin API reaches node 2 (its
// rules file and its policy, with the revision, logged); a SIGHUP on node
// 2 after its rules file was edited by hand keeps the cluster's table and
// says so; a bad table is refused on node 1 and reaches no one.
func TestPolicyRulesAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("two cluster nodes")
	}
	start := "[[rule]]\nname = \"start\"\ndest_prefixes = [\"4990\"]\nreject = \"ESME_RINVDSTADR\"\n"
	logs := [2]*syncBuf{{}, {}}
	ds, admins, dirs := clusterPair(t, "rules_file = \"rules.toml\"\n", map[string]string{"rules.toml": start}, logs)
	for i := range 2 {
		if v := getRules(t, admins[i]); v.Source != "cluster" || v.Revision == 0 || len(v.Rules) != 1 || v.TOML != start {
			t.Fatalf("node %d at start: %+v", i+1, v)
		}
	}
	next := "[[rule]]\nname = \"block17\"\ndest_prefixes = [\"4917\"]\nreject = \"ESME_RX_R_APPN\"\n"
	code, raw := adminReq(t, admins[0], "", "PUT", "/v1/policy/rules", tomlBody(next, -1))
	var put struct {
		Revision uint64 `json:"revision"`
	}
	if code != 200 || json.Unmarshal([]byte(raw), &put) != nil || put.Revision == 0 {
		t.Fatalf("PUT on node 1: %d %s", code, raw)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if in := ds[1].pex.holder.Load().Rules(); in.Revision == put.Revision && len(in.Rules) == 1 && in.Rules[0].Name == "block17" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 1's table not on node 2 within 15s: %+v", ds[1].pex.holder.Load().Rules())
		}
	}
	if b, err := os.ReadFile(filepath.Join(dirs[1], "rules.toml")); err != nil || string(b) != next {
		t.Fatalf("node 2's rules file: %q %v", b, err)
	}
	if !strings.Contains(logs[1].String(), `"revision":`+strconv.FormatUint(put.Revision, 10)) ||
		!strings.Contains(logs[1].String(), "the cluster's rule table applied") {
		t.Fatalf("node 2's log:\n%s", logs[1])
	}

	// A hand edit and SIGHUP on node 2: the cluster's table stays.
	must(t, os.WriteFile(filepath.Join(dirs[1], "rules.toml"), []byte(start), 0o600))
	if _, err := ds[1].reload(); err != nil {
		t.Fatal(err)
	}
	if in := ds[1].pex.holder.Load().Rules(); in.Revision != put.Revision || in.Rules[0].Name != "block17" ||
		!strings.Contains(logs[1].String(), "differs from the cluster's") {
		t.Fatalf("after SIGHUP on node 2: %+v\n%s", in, logs[1])
	}

	// A bad table: 400 on node 1, nothing shared.
	if code, raw = adminReq(t, admins[0], "", "PUT", "/v1/policy/rules", tomlBody("[[rule]]\nname = \"x\"\nreject = \"NOPE\"\n", -1)); code != 400 ||
		!strings.Contains(raw, `rule[0] (\"x\"): reject`) {
		t.Fatalf("bad table: %d %s", code, raw)
	}
	time.Sleep(200 * time.Millisecond)
	for i := range 2 {
		if in := ds[i].pex.holder.Load().Rules(); in.Revision != put.Revision {
			t.Fatalf("node %d after a refused table: %+v", i+1, in)
		}
	}

	// A rule removed on node 2 while it has not applied the newest
	// revision (made to look so: a revision older than the bucket's): 409,
	// the cluster's table stays. From the newest it is shared.
	ds[1].mu.Lock()
	ds[1].pex.clusterRules = &policy.RuleTable{Text: []byte(start), Revision: put.Revision - 1, Shared: true}
	ds[1].mu.Unlock()
	if code, raw = adminReq(t, admins[1], "", "DELETE", "/v1/policy/rules/block17", ""); code != 409 || !strings.Contains(raw, "conflict") {
		t.Fatalf("a removal made from a stale revision: %d %s", code, raw)
	}
	if v := getRules(t, admins[0]); v.Revision != put.Revision || len(v.Rules) != 1 || v.Rules[0].Name != "block17" {
		t.Fatalf("node 1 after a refused removal: %+v", v)
	}
	ds[1].mu.Lock()
	ds[1].pex.clusterRules = &policy.RuleTable{Text: []byte(next), Revision: put.Revision, Shared: true}
	ds[1].mu.Unlock()
	if code, raw = adminReq(t, admins[1], "", "DELETE", "/v1/policy/rules/block17", ""); code != 200 {
		t.Fatalf("a removal made from the newest revision: %d %s", code, raw)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if v := getRules(t, admins[0]); v.Revision > put.Revision && len(v.Rules) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 2's removal not on node 1 within 15 s: %+v", getRules(t, admins[0]))
		}
	}
}
