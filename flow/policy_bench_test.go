package flow

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/policy"
	"github.com/smppd/smppd/routing"
)

// speedPolicy is the speed setting (docs/BENCHMARKS.md): a
// 1,000,000-entry block list, 100 prefix and exact rules in one trie, 10
// regexp filters every message is tried against, normalisation on; with
// rewrite, a regexp rewrite of the destination matches first.
func speedPolicy(t testing.TB, rewrite bool) *policy.Policy {
	t.Helper()
	dir := t.TempDir()
	var list strings.Builder
	for i := range policy.MaxListEntries {
		fmt.Fprintf(&list, "4917%08d\n", i*7)
	}
	if err := os.WriteFile(filepath.Join(dir, "blocked.txt"), []byte(list.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("[[normalise]]\ncountry_code = \"49\"\n\n[[list]]\nname = \"blocked\"\nkind = \"block\"\nfield = \"dest\"\nfile = \"blocked.txt\"\n\n")
	if rewrite {
		b.WriteString("[[rule]]\nname = \"rw\"\ndest_regex = \"^49151\"\ndest_rewrite = [\"^49(151)(\\\\d+)$\", \"49${1}${2}\"]\n\n")
	}
	for i := range 100 {
		if i%2 == 0 {
			fmt.Fprintf(&b, "[[rule]]\nname = \"p%d\"\ndest_prefixes = [\"33%02d\"]\nreject = \"ESME_RINVDSTADR\"\n\n", i, i)
		} else {
			fmt.Fprintf(&b, "[[rule]]\nname = \"e%d\"\nsource_addrs = [\"Sender%d\"]\ndest_prefixes = [\"4917%02d\"]\nset_priority = 1\n\n", i, i, i)
		}
	}
	for i := range 10 {
		fmt.Fprintf(&b, "[[rule]]\nname = \"re%d\"\ndest_regex = \"^4477%d[0-9]+$\"\nset_tags = [\"uk\"]\n\n", i, i)
	}
	b.WriteString("[[rule]]\nname = \"tag-all\"\nset_tags = [\"all\"]\n")
	path := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// policyAllocHub is allocHub with a policy holder.
func policyAllocHub(t testing.TB, p *policy.Policy) (*testHub, principal) {
	pol := new(policy.Holder)
	pol.Swap(p)
	th := newHub(t, hubSpec{conns: 2, mod: func(o *Options) { o.Policy = &policy.Hook{Holder: pol} }, routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "rr", Kind: "roundrobin", Connectors: []string{"a", "b"}, Rate: 0.01}},
		MO: []routing.MORouteConfig{{Name: "mo", User: "alice"}},
	}})
	for _, c := range th.conns {
		c.auto = true
	}
	th.Deliveries().Attach(&ackOut{dl: th.dl})
	pr := newUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{
		Balance: accounts.Micros(1 << 56), Quota: 1 << 56, Throughput: 1e9}})
	return th, pr
}

// BenchmarkHandleSubmitPolicy is BenchmarkHandleSubmit with the policy
// off, with the speed setting, and with a regexp rewrite on top.
func BenchmarkHandleSubmitPolicy(b *testing.B) {
	for _, c := range []struct {
		name string
		pol  func() *policy.Policy
	}{
		{"off", func() *policy.Policy { return nil }},
		{"on", func() *policy.Policy { return speedPolicy(b, false) }},
		{"regexp", func() *policy.Policy { return speedPolicy(b, true) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			th, p := policyAllocHub(b, c.pol())
			req := engine.SubmitRequest{Command: codec.SubmitSMID, SubmitSM: sm("12345", "4915112345678", "hello world"), Principal: p.Bind}
			res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
			runtime.GC() // the list's build garbage is not the submit's
			b.ReportAllocs()
			for b.Loop() {
				res.MessageID = res.MessageID[:0]
				th.HandleSubmit(&req, res)
			}
			if res.Status != codec.StatusOK {
				b.Fatal(res.Status)
			}
		})
	}
}
