package policy

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestAnchoredPrefixes(t *testing.T) {
	for _, c := range []struct {
		pat  string
		want []string
	}{
		{`^4477[0-9]+$`, []string{"4477"}},
		{`^4477`, []string{"4477"}},
		{`\A4477\d{6}`, []string{"4477"}},
		{`^(4477|4478)\d+$`, []string{"4477", "4478"}},
		{`^44(7[78]|90)`, []string{"4477", "4478", "4490"}},
		{`^49(151)(\d+)$`, []string{"49151"}},
		{`^\+44`, []string{"+44"}},
		{`^[12]0`, []string{"10", "20"}},
		{`^4[0-9]`, []string{"4"}},
		{`^4[5-7]1`, []string{"451", "461", "471"}},
		{`^(44)+1`, []string{"44"}},
		{`4477`, nil},      // unanchored
		{`(?m)^4477`, nil}, // ^ is a line start
		{`(?i)^abc`, nil},  // case folded
		{`^\d+`, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
		{`^.44`, nil},                        // any first octet
		{`^(44)?77`, nil},                    // may start with 77
		{`^(44|)77`, nil},                    // an empty alternative
		{`^44*`, []string{"4"}},              // the star may be empty: "4" only
		{`^[a-z]`, nil},                      // 26 > maxLitPrefixes? no: 26 letters
		{`^é`, nil},                          // not ASCII
		{`^\x00`, nil},                       // not printable
		{`^+`, nil},                          // not a regexp
		{`^` + strings.Repeat("1", 65), nil}, // longer than the trie takes
	} {
		got := anchoredPrefixes(c.pat)
		if c.pat == `^[a-z]` {
			if len(got) != 26 {
				t.Errorf("%s: %q", c.pat, got)
			}
			continue
		}
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", c.pat, got, want)
		}
	}
}

// TestRegexpRuleTrieSameAnswers: a dest_regex rule put in the trie by its
// literal prefixes matches exactly the destinations its regexp matches,
// and a regexp rewrite behind its prefixes rewrites exactly as before.
func TestRegexpRuleTrieSameAnswers(t *testing.T) {
	pats := []string{`^4477[0-9]+$`, `^(4477|4478)\d+$`, `^44(7[78]|90)`, `^\+44`, `^[12]0`, `^(44)+1`, `^44*`, `^\d{3}99`}
	var b strings.Builder
	for i, p := range pats {
		fmt.Fprintf(&b, "[[rule]]\nname = \"r%d\"\ndest_regex = %q\nset_tags = [\"t%d\"]\n\n", i, p, i)
	}
	b.WriteString("[[rule]]\nname = \"rw\"\nsource_rewrite = [\"^(44)(\\\\d)\", \"0${2}\"]\n")
	p := load(t, b.String(), nil)
	res := make([]*regexp.Regexp, len(pats))
	for i, pat := range pats {
		res[i] = regexp.MustCompile(pat)
	}
	rw := regexp.MustCompile(`^(44)(\d)`)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := "0124789+"
	for range 20000 {
		n := 1 + rng.IntN(8)
		d := make([]byte, n)
		for j := range d {
			d[j] = alphabet[rng.IntN(len(alphabet))]
		}
		m := mt(string(d), string(d))
		if v := p.MT(m); v.Action != Pass {
			t.Fatalf("%s: %+v", d, v)
		}
		want := "none"
		for i, re := range res {
			if re.Match(d) {
				want = fmt.Sprintf("t%d", i)
				break
			}
		}
		got := "none"
		if len(m.Tags) == 1 {
			got = m.Tags[0]
		}
		if want == "none" {
			// No dest_regex rule: the rewrite rule applies.
			wantSrc := string(rw.ReplaceAll(d, []byte("0${2}")))
			if string(m.Src) != wantSrc {
				t.Fatalf("%s: source %s, want %s", d, m.Src, wantSrc)
			}
		}
		if got != want {
			t.Fatalf("%s: tag %s, want %s", d, got, want)
		}
	}
}
