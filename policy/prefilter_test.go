package policy

import "testing"

// Unanchored regexp rules still decide as their regexps do behind the
// prefilter: a content_regex ignoring case, a dest_regex inside the
// number, an unanchored rewrite.
func TestUnanchoredRegexpRules(t *testing.T) {
	p := load(t, "[[rule]]\nname = \"spam\"\ncontent_regex = \"(?i)casino|lottery\"\nreject = \"ESME_RX_R_APPN\"\n\n"+
		"[[rule]]\nname = \"mid\"\ndest_regex = \"77[0-9]{4}$\"\nset_priority = 2\n\n"+
		"[[rule]]\nname = \"rw\"\nusers = [\"alice\"]\ndest_rewrite = [\"0049(\\\\d+)\", \"49${1}\"]\n", nil)
	for _, c := range []struct {
		dst, text, rule, out string
	}{
		{"491701234567", "Win at the CASINO", "rule:spam", "491701234567"},
		{"491701234567", "ca\u017fino", "rule:spam", "491701234567"}, // the long s folds to s
		{"491701234567", "your LoTtErY ticket", "rule:spam", "491701234567"},
		{"491701771234", "hello", "", "491701771234"},   // mid: priority set
		{"00491701234567", "hello", "", "491701234567"}, // rw
		{"491701234567", "hello", "", "491701234567"},   // rw's regexp finds nothing
	} {
		m := mt("Shop", c.dst)
		m.Content = []byte(c.text)
		v := p.MT(m)
		if v.Stage != c.rule || string(m.Dst) != c.out {
			t.Errorf("%s %q: %+v dest %s, want stage %q dest %s", c.dst, c.text, v, m.Dst, c.rule, c.out)
		}
	}
	m := mt("Shop", "491701771234")
	if p.MT(m); m.Priority != 2 {
		t.Errorf("mid: priority %d", m.Priority)
	}
}
