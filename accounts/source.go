package accounts

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/smppd/smppd/msg"
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
		sp, err := compilePattern(p)
		if err != nil {
			return nil, fmt.Errorf("accounts: source_addrs %q: %w", p, err)
		}
		out = append(out, sp)
	}
	return out, nil
}

// compilePattern parses one source_addrs entry: "exact", "prefix*" ("*"
// alone allows any) or "re:<RE2>", which must match the whole address.
func compilePattern(p string) (srcPattern, error) {
	if expr, ok := strings.CutPrefix(p, "re:"); ok {
		if expr == "" {
			return srcPattern{}, errors.New("empty regular expression")
		}
		// Anchored: an allow-list entry "re:336" must not admit "1336".
		re, err := regexp.Compile(`^(?:` + expr + `)$`)
		if err != nil {
			return srcPattern{}, err
		}
		return srcPattern{kind: srcRegexp, re: re}, nil
	}
	lit, prefix := strings.CutSuffix(p, "*")
	switch {
	case p == "":
		return srcPattern{}, errors.New(`empty pattern (leave source_addrs empty, or write "*", to allow any source)`)
	case strings.IndexByte(lit, '*') >= 0:
		return srcPattern{}, errors.New(`'*' is allowed only at the end (use "re:<regexp>" for more)`)
	case len(lit) > maxAddrLen || !msg.NoControl(lit):
		return srcPattern{}, fmt.Errorf("must be at most %d characters without control characters", maxAddrLen)
	case prefix:
		return srcPattern{kind: srcPrefix, s: lit}, nil
	}
	return srcPattern{kind: srcExact, s: lit}, nil
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
	return matchSource(u.src, src)
}
