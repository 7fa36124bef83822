package routing

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// maxRequired bounds the literals of one prefilter (an alternation of
// more is run without one).
const maxRequired = 8

// maxLiteral bounds a literal's length: a prefix of a required literal is
// required too, and a short one keeps the case-insensitive scan linear in
// the text (a message's content is the sender's to choose).
const maxLiteral = 16

// Prefilter is a set of literals one of which every match of a regexp
// contains: a text with none of them cannot match, and the regexp (a
// machine from its pool, a scan) is not run. The zero Prefilter lets
// everything through. May allocates nothing.
type Prefilter struct {
	lits [][]byte
	fold bool // ASCII case-insensitive: lits are lower case
}

// NewPrefilter finds re's required literals; none found gives the zero
// Prefilter.
func NewPrefilter(re *regexp.Regexp) Prefilter {
	if re == nil {
		return Prefilter{}
	}
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return Prefilter{}
	}
	lits, fold := required(tree.Simplify())
	if lits == nil {
		return Prefilter{}
	}
	p := Prefilter{fold: fold}
	for _, l := range lits {
		b := []byte(l[:min(len(l), maxLiteral)])
		if fold {
			// ASCII only, as indexFold folds the text: an exact literal
			// of an alternation with a (?i) branch keeps its other octets
			// (strings.ToLower would turn "É" into "é", the Kelvin sign
			// into "k", and the text's "É" would no longer be found).
			for i, c := range b {
				if 'A' <= c && c <= 'Z' {
					b[i] = c + 'a' - 'A'
				}
			}
		}
		p.lits = append(p.lits, b)
	}
	return p
}

// Literals are the required literals (one of them), nil for none.
func (p *Prefilter) Literals() []string {
	var out []string
	for _, l := range p.lits {
		out = append(out, string(l))
	}
	return out
}

// May reports whether b holds one of the literals (true for none).
func (p *Prefilter) May(b []byte) bool {
	if p.lits == nil {
		return true
	}
	for _, l := range p.lits {
		if p.fold && indexFold(b, l) >= 0 || !p.fold && bytes.Contains(b, l) {
			return true
		}
	}
	return false
}

// indexFold is bytes.Index under ASCII case folding; lit is lower case.
func indexFold(b, lit []byte) int {
	n := len(lit)
	for i := 0; i+n <= len(b); i++ {
		j := 0
		for ; j < n; j++ {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lit[j] {
				break
			}
		}
		if j == n {
			return i
		}
	}
	return -1
}

// required returns literals one of which occurs in every match of re, and
// whether they are to be found ignoring ASCII case; nil when there is no
// such set. It errs only towards nil (a missing prefilter), never towards
// a literal a match may lack.
func required(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		fold := re.Flags&syntax.FoldCase != 0
		if fold {
			return foldSafe(re.Rune)
		}
		var b []byte
		for _, r := range re.Rune {
			if r == utf8.RuneError { // matches any invalid octet, which Index cannot find
				return nil, false
			}
			b = utf8.AppendRune(b, r)
		}
		if len(b) == 0 {
			return nil, false
		}
		return []string{string(b)}, false
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		bestFold := false
		for _, s := range re.Sub {
			if lits, fold := required(s); lits != nil && better(lits, best) {
				best, bestFold = lits, fold
			}
		}
		return best, bestFold
	case syntax.OpAlternate:
		var all []string
		anyFold := false
		for _, s := range re.Sub {
			lits, fold := required(s)
			if lits == nil || len(all)+len(lits) > maxRequired {
				return nil, false
			}
			all, anyFold = append(all, lits...), anyFold || fold
		}
		// A case-insensitive search finds the exact literals too.
		return all, anyFold
	}
	return nil, false
}

// better prefers the set whose shortest literal is longer (fewer false
// candidates), then the smaller set.
func better(a, b []string) bool {
	if b == nil {
		return true
	}
	ma, mb := minLen(a), minLen(b)
	return ma > mb || ma == mb && len(a) < len(b)
}

func minLen(s []string) int {
	m := len(s[0])
	for _, x := range s[1:] {
		m = min(m, len(x))
	}
	return m
}

// foldSafe is the longest run of rs a case-insensitive match must contain
// as ASCII: letters whose case folds reach past ASCII (k: the Kelvin sign,
// s: the long s) and non-ASCII runes split the literal.
func foldSafe(rs []rune) ([]string, bool) {
	best, cur := "", []byte(nil)
	for _, r := range append(rs, -1) {
		if r >= 0 && r < utf8.RuneSelf && asciiFold(r) {
			cur = append(cur, byte(r))
			continue
		}
		if len(cur) > len(best) {
			best = string(cur)
		}
		cur = cur[:0]
	}
	if best == "" {
		return nil, false
	}
	return []string{best}, true
}

// asciiFold reports whether every case fold of the ASCII rune r is ASCII.
func asciiFold(r rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
