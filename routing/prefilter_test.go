package routing

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The literals found for each kind of regexp, and none where a match may
// lack every literal.
func TestPrefilterLiterals(t *testing.T) {
	for _, c := range []struct {
		pat  string
		want []string
		fold bool
	}{
		{"4477[0-9]+$", []string{"4477"}, false},
		{"^4477", []string{"4477"}, false},
		{"casino", []string{"casino"}, false},
		{"(?i)free money", []string{"free money"}, true},
		{"(?i)casino", []string{"ino"}, true}, // 's' folds to the long s (U+017F)
		{"(?i)kk", nil, false},                // 'k' folds to the Kelvin sign (U+212A)
		{"win (cash|prize)", []string{"win "}, false},
		{"(cash|prize)s?", []string{"cash", "prize"}, false},
		{"(cash|(?i)prize)", []string{"cash", "prize"}, true},
		{"(ab)+c", []string{"ab"}, false},
		{"x{2,}y", []string{"x"}, false},
		{"[0-9]+", nil, false},
		{"a|b*", nil, false},
		{"(a|b|c|d|e|f|g|h|i)z", []string{"z"}, false},
		{"(a|b|c|d|e|f|g|h|i)", nil, false}, // more than maxRequired
		{"héllo", []string{"héllo"}, false},
		{"\uFFFD", nil, false},
		{".*", nil, false},
		{"(?i)abcdefghijlmnopqrtuvwxyz", []string{"abcdefghijlmnopq"}, true}, // the first 16 octets
	} {
		re := regexp.MustCompile(c.pat)
		p := NewPrefilter(re)
		if got := p.Literals(); !slices.Equal(got, c.want) || len(got) > 0 && p.fold != c.fold {
			t.Errorf("%q: literals %q fold %v, want %q fold %v", c.pat, got, p.fold, c.want, c.fold)
		}
	}
}

// The prefilter never turns a match away: for every pattern and text the
// guarded match is the regexp's own.
func TestPrefilterNeverMissesAMatch(t *testing.T) {
	pats := []string{"4477[0-9]+$", "casino", "(?i)casino", "(?i)kasino", "(?i)free money", "win (cash|prize)",
		"(cash|prize)s?", "(ab)+c", "héllo", "(?i)STOP", "77|88", "^49(170)(\\d+)$", "x{2,}y",
		"(ÉTÉ|(?i)stop)", "(\u212A\u212A|(?i)bb)", "(İİ|(?i)xy)"} // exact non-ASCII literals beside a (?i) branch
	texts := []string{"", "447712345", "4917012345", "CASINO night", "caſino", "\u212Aasino", "KASINO", "Free Money!",
		"win cash now", "win prize", "prizes", "ababc", "héllo", "h\xe9llo", "please stop", "9977", "491701234567",
		"xxy", "xy", "\xff\xfe", "ÉTÉ", "été", "\u212A\u212A", "İİ"}
	for _, pat := range pats {
		re := regexp.MustCompile(pat)
		g := newGuarded(re)
		for _, s := range texts {
			if got, want := g.match([]byte(s)), re.MatchString(s); got != want {
				t.Errorf("%q on %q: guarded %v, regexp %v", pat, s, got, want)
			}
		}
	}
}

// The prefilter never turns a match away, on random patterns mixing exact
// and (?i) parts, ASCII letters whose folds leave ASCII (k, s), non-ASCII
// letters with and without a case (É, İ, the Kelvin sign, the long s),
// classes, repeats and anchors, over random texts of the same runes and
// invalid octets (a fixed seed: a failure is reproducible).
func TestPrefilterRandomPatterns(t *testing.T) {
	atoms := []string{"a", "A", "b", "ab", "k", "K", "s", "S", "\u212A", "\u017F", "é", "É", "İ", "i", "1", "x",
		".", "(?s:.)", "[ab]", "[^a]", "\\d", "\\x{212A}", "^", "$", "\\b", "(?m:^)"}
	runes := []string{"a", "A", "b", "B", "k", "K", "s", "S", "\u212A", "\u017F", "é", "É", "İ", "i", "I", "1", "x", "X",
		"\xff", "\xc3", " "}
	rng := rand.New(rand.NewPCG(20, 7))
	var gen func(depth int) string
	gen = func(depth int) string {
		if depth == 0 {
			return atoms[rng.IntN(len(atoms))]
		}
		switch rng.IntN(8) {
		case 0:
			return "(" + gen(depth-1) + "|" + gen(depth-1) + ")"
		case 1:
			return "(?i:" + gen(depth-1) + ")"
		case 2:
			return "(" + gen(depth-1) + ")" + []string{"*", "+", "?", "{2}", "{1,3}", "{0,2}"}[rng.IntN(6)]
		}
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(gen(depth - 1))
		}
		return b.String()
	}
	var text strings.Builder
	for range 10000 {
		pat := gen(1 + rng.IntN(3))
		if rng.IntN(4) == 0 {
			pat = "(?i)" + pat
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			continue
		}
		g := newGuarded(re)
		for range 20 {
			text.Reset()
			for range rng.IntN(12) {
				text.WriteString(runes[rng.IntN(len(runes))])
			}
			if s := text.String(); g.match([]byte(s)) != re.MatchString(s) {
				t.Fatalf("%q on %q: guarded %v, regexp %v (literals %q, fold %v)", pat, s, !re.MatchString(s), re.MatchString(s),
					g.pre.Literals(), g.pre.fold)
			}
		}
	}
}

// A prefilter that turns the text away allocates nothing, nor does one
// that lets it through to a regexp without a match.
func TestPrefilterDoesNotAllocate(t *testing.T) {
	g := newGuarded(regexp.MustCompile("(?i)casino|lottery"))
	txt := []byte("hello, your code is 1234")
	if n := testing.AllocsPerRun(1000, func() { g.match(txt) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
