package accounts

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// srcPattern is one compiled entry of User.SourceAddrs.
type srcPattern struct {
	kind srcKind
	s    string         // the exact address or the prefix
	re   *regexp.Regexp // srcRegexp only
}

type srcKind uint8

const (
	srcExact srcKind = iota
	srcPrefix
	srcRegexp
)

// compileSource parses User.SourceAddrs patterns.
func compileSource(pats []string) ([]srcPattern, error) {
	out := make([]srcPattern, 0, len(pats))
	for _, p := range pats {
		switch {
		case strings.HasPrefix(p, "re:"):
			expr := p[len("re:"):]
			if expr == "" {
				return nil, errors.New("accounts: empty source_addrs regexp")
			}
			// Anchored: an allow-list entry "re:336" must not admit "1336".
			re, err := regexp.Compile(`^(?:` + expr + `)$`)
			if err != nil {
				return nil, fmt.Errorf("accounts: source_addrs %q: %w", p, err)
			}
			out = append(out, srcPattern{kind: srcRegexp, re: re})
		case p == "":
			return nil, errors.New("accounts: empty source_addrs pattern")
		case strings.IndexByte(p, '*') == len(p)-1:
			out = append(out, srcPattern{kind: srcPrefix, s: p[:len(p)-1]})
		case strings.IndexByte(p, '*') >= 0:
			return nil, fmt.Errorf("accounts: source_addrs %q: '*' is allowed only at the end", p)
		default:
			out = append(out, srcPattern{kind: srcExact, s: p})
		}
	}
	return out, nil
}

// SourceAllowed reports whether src (a submit's source_addr, without the
// NUL) passes u.SourceAddrs. An empty SourceAddrs allows everything. A user
// with patterns that Prepare has not compiled (a record not from a Store,
// or one whose Prepare failed) allows nothing. It does not allocate and is
// safe for concurrent use on a published record.
func (u *User) SourceAllowed(src []byte) bool {
	if len(u.SourceAddrs) == 0 {
		return true
	}
	if !u.compiled {
		return false
	}
	for i := range u.src {
		p := &u.src[i]
		switch p.kind {
		case srcExact:
			if string(src) == p.s {
				return true
			}
		case srcPrefix:
			if len(src) >= len(p.s) && string(src[:len(p.s)]) == p.s {
				return true
			}
		case srcRegexp:
			if p.re.Match(src) {
				return true
			}
		}
	}
	return false
}
