package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
)

const rulesPolicy = `
[[rule]]
name = "no-premium"
dest_prefixes = ["49900"]
reject = "ESME_RINVDSTADR"

[[rule]]
name = "fr-fix"
users = ["alice"]
dest_prefixes = ["0033"]
dest_prefix = ["0033", "33"]
set_tags = ["fr"]

[[rule]]
name = "brand"
source_addrs = ["re:^shop$"]
source_rewrite = ["^shop$", "Shop"]
set_priority = 2
set_validity = "2h"
set_data_coding = 8

[[rule]]
name = "weekend-reject"
groups = ["retail"]
days = "sat,sun"
time_zone = "UTC"
reject = "0x0400"

[[rule]]
name = "strip-suffix"
dest_regex = "^44"
dest_rewrite = ["^(44\\d+)99$", "${1}"]
`

func TestRules(t *testing.T) {
	p := load(t, rulesPolicy, nil)
	for _, c := range []struct {
		name, user, src, dst string
		now                  time.Time
		st                   codec.Status
		stage                string
		wantSrc, wantDst     string
		check                func(*Msg) bool
	}{
		{name: "reject", user: "bob", src: "a", dst: "499001", st: codec.StatusInvDstAdr, stage: "rule:no-premium"},
		{name: "prefix rewrite and tag", user: "alice", src: "a", dst: "0033612345678", wantSrc: "a", wantDst: "33612345678",
			check: func(m *Msg) bool { return len(m.Tags) == 1 && m.Tags[0] == "fr" && m.Changed&ChangedDst != 0 }},
		{name: "filter users", user: "bob", src: "a", dst: "0033612345678", wantSrc: "a", wantDst: "0033612345678",
			check: func(m *Msg) bool { return m.Tags == nil && m.Changed == 0 }},
		{name: "regexp rewrite and sets", user: "bob", src: "shop", dst: "4917", wantSrc: "Shop", wantDst: "4917",
			check: func(m *Msg) bool {
				return m.Priority == 2 && m.Validity == 2*time.Hour && m.DataCoding == 8 &&
					m.Changed == ChangedSrc|ChangedPriority|ChangedValidity|ChangedDataCoding
			}},
		{name: "time filter: a Saturday", user: "alice", src: "a", dst: "4917",
			now: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), st: 0x400, stage: "rule:weekend-reject"},
		{name: "time filter: a Monday", user: "alice", src: "a", dst: "4917", wantSrc: "a", wantDst: "4917"},
		{name: "regexp with groups", user: "bob", src: "a", dst: "4477001199", wantSrc: "a", wantDst: "44770011"},
		{name: "regexp no match", user: "bob", src: "a", dst: "44770011", wantSrc: "a", wantDst: "44770011"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := mt(c.src, c.dst)
			m.User = c.user
			if !c.now.IsZero() {
				m.Now = c.now
			}
			v := p.MT(m)
			if c.st != 0 {
				if v.Action != Refuse || v.Status != c.st || v.Stage != c.stage {
					t.Fatalf("%+v, want %s by %s", v, c.st, c.stage)
				}
				return
			}
			if v.Action != Pass || string(m.Src) != c.wantSrc || string(m.Dst) != c.wantDst {
				t.Fatalf("%+v %s -> %s, want %s -> %s", v, m.Src, m.Dst, c.wantSrc, c.wantDst)
			}
			if c.check != nil && !c.check(m) {
				t.Fatalf("fields: %+v", m)
			}
		})
	}
	if n := p.ruleHits[1].Load(); n != 1 {
		t.Errorf("fr-fix hits %d", n)
	}
}

func TestRuleErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"[[rule]]\nname = \"a\"\ndest_prefixes = [\"1\"]", "no action"},
		{"[[rule]]\nname = \"a\"\ndest_prefixes = [\"1\"]\nreject = \"ESME_RINVDSTADR\"\nset_priority = 1", "reject takes no other action"},
		{"[[rule]]\nname = \"a\"\ndest_prefixes = [\"1\"]\nset_priority = 4", "set_priority"},
		{"[[rule]]\nname = \"a\"\ndest_prefixes = [\"1\"]\ndest_rewrite = [\"(\", \"x\"]", "dest_rewrite"},
		{"[[rule]]\nname = \"a\"\ndest_prefixes = [\"1\"]\ndest_prefix = [\"1\"]", "dest_prefix"},
		{"[[rule]]\nname = \"a\"\nset_priority = 1\n[[rule]]\nname = \"b\"\nset_priority = 1", "rule[0]"},
		{"[[rule]]\nname = \"a\"\ndest_regex = \"(\"\nset_priority = 1", "rule[0]"},
		{"[[rule]]\nname = \"a\"\ndest_prefixes = [\"1\"]\nreject = \"NOPE\"", "reject"},
		{"[[rule]]\nname = \"a\"\ndest_prefixes = [\"1\"]\nset_tags = [\"a b\"]", "set_tags[0]"},
	} {
		_, err := loadErr(t, c.src, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}
