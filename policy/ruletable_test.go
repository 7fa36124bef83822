package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A rule table is refused naming the rule (index and name) and the key.
func TestCheckRulesNamesTheRuleAndKey(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"ok", "[[rule]]\nname = \"a\"\ndest_prefixes = [\"44\"]\nset_priority = 1\n", ""},
		{"empty", "", ""},
		{"comments only", "# nothing yet\n", ""},
		{"priority", "[[rule]]\nname = \"a\"\nset_priority = 1\n[[rule]]\nname = \"b\"\nset_priority = 7\n", `rule[1] ("b"): set_priority: 7 not in 0..3`},
		{"unknown key", "[[rule]]\nname = \"a\"\nset_priority = 1\n[[rule]]\nname = \"b\"\nset_prio = 1\n", `rule[1] ("b"): unknown key set_prio`},
		{"no action", "[[rule]]\nname = \"a\"\ndest_prefixes = [\"44\"]\n", `rule[0] ("a"): no action`},
		{"bad regexp", "[[rule]]\nname = \"a\"\ndest_rewrite = [\"(\", \"x\"]\n", `rule[0] ("a"): dest_rewrite: error parsing regexp`},
		{"bad status", "[[rule]]\nname = \"a\"\nreject = \"ESME_RNOPE\"\n", `rule[0] ("a"): reject:`},
		{"bad filter", "[[rule]]\nname = \"a\"\ndest_regex = \"[\"\nreject = \"ESME_RINVDSTADR\"\n", `rule[0]`},
		{"duplicate name", "[[rule]]\nname = \"a\"\nset_priority = 1\n[[rule]]\nname = \"a\"\nset_priority = 2\n", `rule[1]`},
		{"other table", "[[list]]\nname = \"x\"\n", "unknown key list"},
		{"not toml", "[[rule]\n", "rule table:"},
		{"too long", strings.Repeat("#", MaxRulesText+1), "at most"},
	} {
		_, err := CheckRules([]byte(c.src))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
		}
	}
}

// Which table is in force: the cluster's over the rules file, the rules
// file (once it exists) over the policy file's own rules; a rules file
// that does not load refuses the policy.
func TestRulesSourcePrecedence(t *testing.T) {
	inline := "rules_file = \"rules.toml\"\n[[rule]]\nname = \"inline\"\nset_priority = 1\n"
	p := load(t, inline, nil)
	if in := p.Rules(); in.Source != RulesInline || len(in.Rules) != 1 || in.Rules[0].Name != "inline" || p.InlineRulesIgnored() != 0 {
		t.Fatalf("no rules file yet: %+v", in)
	}
	if !strings.Contains(string(p.RulesText()), `name = "inline"`) || strings.Contains(string(p.RulesText()), `= ""`) {
		t.Fatalf("inline rules as text:\n%s", p.RulesText())
	}
	fromFile := "[[rule]]\nname = \"file\"\nset_priority = 2\n"
	p = load(t, inline, map[string]string{"rules.toml": fromFile})
	if in := p.Rules(); in.Source != RulesFile || in.Rules[0].Name != "file" || in.Text != fromFile || p.InlineRulesIgnored() != 1 ||
		!strings.HasSuffix(in.File, "rules.toml") {
		t.Fatalf("rules file: %+v", in)
	}
	dir := filepath.Dir(p.RulesFile())
	cl := &RuleTable{Text: []byte("[[rule]]\nname = \"cluster\"\nset_priority = 3\n"), Revision: 7, Shared: true}
	p, err := Load(filepath.Join(dir, "policy.toml"), Options{Rules: cl})
	if err != nil {
		t.Fatal(err)
	}
	if in := p.Rules(); in.Source != RulesCluster || in.Revision != 7 || in.Rules[0].Name != "cluster" || string(p.LocalRulesText()) != fromFile {
		t.Fatalf("cluster: %+v, local %q", in, p.LocalRulesText())
	}
	m := mt("Shop", "4917012345")
	if name, v := p.TryRules(m); name != "cluster" || v.Action != Pass || m.Priority != 3 {
		t.Fatalf("TryRules: %q %+v priority %d", name, v, m.Priority)
	}
	must(t, os.WriteFile(filepath.Join(dir, "rules.toml"), []byte("[[rule]]\nname = \"bad\"\nset_priority = 9\n"), 0o600))
	if _, err := Load(filepath.Join(dir, "policy.toml"), Options{}); err == nil || !strings.Contains(err.Error(), `rules.toml: rule[0] ("bad"): set_priority`) {
		t.Fatalf("bad rules file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "policy.toml"), Options{Rules: &RuleTable{Text: []byte("[[rule]]\nname = 1\n"), Revision: 9, Shared: true}}); err == nil ||
		!strings.Contains(err.Error(), "revision 9") {
		t.Fatalf("bad cluster table: %v", err)
	}
}

// One rule added at a position or removed by name; the result reads back
// as the same rules, and the rules file is written atomically.
func TestEditOneRule(t *testing.T) {
	p := load(t, "rules_file = \"rules.toml\"\n", map[string]string{"rules.toml": "[[rule]]\nname = \"a\"\nusers = [\"alice\"]\nset_priority = 1\n\n[[rule]]\nname = \"c\"\nreject = \"ESME_RX_R_APPN\"\n"})
	add, err := ParseRules([]byte("[[rule]]\nname = \"b\"\ndest_prefixes = [\"44\"]\nset_validity = \"2h\"\nset_tags = [\"uk\"]\n"))
	must(t, err)
	text, err := p.WithRule(add[0], 1)
	must(t, err)
	rules, err := CheckRules(text)
	must(t, err)
	if len(rules) != 3 || rules[0].Name != "a" || rules[1].Name != "b" || rules[2].Name != "c" || rules[1].Validity.D().Hours() != 2 {
		t.Fatalf("after the add:\n%s", text)
	}
	if _, err := p.WithRule(add[0], 0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WithRule(RuleConfig{Name: "a"}, 0); err == nil {
		t.Fatal("a second rule a")
	}
	text, err = p.WithoutRule("a")
	must(t, err)
	if rules, err := CheckRules(text); err != nil || len(rules) != 1 || rules[0].Name != "c" {
		t.Fatalf("after the removal: %v\n%s", err, text)
	}
	if _, err := p.WithoutRule("zz"); err != ErrNoRule {
		t.Fatalf("removing a rule that is not there: %v", err)
	}
	must(t, p.WriteRulesFile(text))
	p2, err := Load(filepath.Join(filepath.Dir(p.RulesFile()), "policy.toml"), Options{})
	must(t, err)
	if in := p2.Rules(); len(in.Rules) != 1 || in.Rules[0].Name != "c" {
		t.Fatalf("reloaded: %+v", in)
	}
	if err := load(t, "", nil).WriteRulesFile(text); err != ErrNoRulesFile {
		t.Fatalf("no rules_file: %v", err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
