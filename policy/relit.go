package policy

import (
	"regexp/syntax"
	"unicode/utf8"
)

// maxLitPrefixes bounds the literal prefixes taken from one regexp: past
// it (a class of many characters, a long alternation) the regexp runs on
// every message as before.
const maxLitPrefixes = 32

// anchoredPrefixes returns literal prefixes of which every match of the
// RE2 expression pat must start with one, when pat is anchored at the
// start of the text (^ without the m flag, or \A); nil when there is no
// such set (unanchored, a case-folded or non-ASCII start, an empty
// prefix possible, or more than maxLitPrefixes). A rule's dest_regex with
// such prefixes is put in the rule table's prefix trie, so the regexp is
// run only for destinations that can match it.
func anchoredPrefixes(pat string) []string {
	re, err := syntax.Parse(pat, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return nil
	}
	out, _ := litPrefixes(re.Sub[1:], []string{""})
	seen := make(map[string]bool, len(out))
	uniq := out[:0]
	for _, p := range out {
		// The trie's own rule: 1..64 printable octets after one '+'.
		if len(p) > maxPrefix || !printable(p) || len(p) == 0 || p == "+" {
			return nil
		}
		if !seen[p] {
			seen[p] = true
			uniq = append(uniq, p)
		}
	}
	return uniq
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// hasAnyPrefix reports whether b starts with one of pre (true for none).
func hasAnyPrefix(b []byte, pre []string) bool {
	if pre == nil {
		return true
	}
	for _, p := range pre {
		if len(b) >= len(p) && string(b[:len(p)]) == p {
			return true
		}
	}
	return false
}

// maxPrefix is the routing trie's longest prefix.
const maxPrefix = 64

// litPrefixes extends each of pre by the literal prefixes of the
// concatenation subs. whole reports that every string of pre now ends
// where subs end (each sub was a literal or a small class), so a next
// element may extend them further. A nil result means no bound set.
func litPrefixes(subs []*syntax.Regexp, pre []string) (out []string, whole bool) {
	for _, s := range subs {
		alts, full := litSet(s)
		if alts == nil {
			return pre, false
		}
		// A wide class after a literal lengthens the prefixes without
		// narrowing the candidates much: stop there.
		if len(pre)*len(alts) > maxLitPrefixes || len(alts) > 4 && pre[0] != "" {
			return pre, false
		}
		next := make([]string, 0, len(pre)*len(alts))
		for _, p := range pre {
			for _, a := range alts {
				next = append(next, p+a)
			}
		}
		pre = next
		if !full {
			return pre, false
		}
	}
	return pre, true
}

// litSet is the set of literal strings one of which begins every match of
// s (full: s matches exactly one of them), or nil when s can start with
// anything (or begins with an empty match).
func litSet(s *syntax.Regexp) (set []string, full bool) {
	switch s.Op {
	case syntax.OpLiteral:
		if s.Flags&syntax.FoldCase != 0 || !ascii(s.Rune) {
			return nil, false
		}
		b := make([]byte, len(s.Rune))
		for i, r := range s.Rune {
			b[i] = byte(r)
		}
		return []string{string(b)}, true
	case syntax.OpCharClass:
		n := 0
		for i := 0; i < len(s.Rune); i += 2 {
			n += int(s.Rune[i+1]-s.Rune[i]) + 1
			if s.Rune[i+1] >= utf8.RuneSelf || n > maxLitPrefixes {
				return nil, false
			}
		}
		for i := 0; i < len(s.Rune); i += 2 {
			for r := s.Rune[i]; r <= s.Rune[i+1]; r++ {
				set = append(set, string(rune(r)))
			}
		}
		return set, len(set) > 0
	case syntax.OpCapture:
		return litSet(s.Sub[0])
	case syntax.OpConcat:
		out, whole := litPrefixes(s.Sub, []string{""})
		for _, p := range out {
			if p == "" {
				return nil, false
			}
		}
		return out, whole
	case syntax.OpPlus:
		if set, _ := litSet(s.Sub[0]); set != nil {
			return set, false // at least one repetition begins every match
		}
	case syntax.OpAlternate:
		full = true
		for _, sub := range s.Sub {
			a, f := litSet(sub)
			if a == nil {
				return nil, false
			}
			set, full = append(set, a...), full && f
			if len(set) > maxLitPrefixes {
				return nil, false
			}
		}
		return set, full
	}
	return nil, false
}

func ascii(rs []rune) bool {
	for _, r := range rs {
		if r >= utf8.RuneSelf {
			return false
		}
	}
	return len(rs) > 0
}
