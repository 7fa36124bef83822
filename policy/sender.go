package policy

import (
	"bufio"
	"fmt"
	"os"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
)

// senderLevel is one compiled [[sender]]: a group level (groups set) or
// the global level.
type senderLevel struct {
	groups  map[string]struct{}
	set     accounts.SourceSet
	def     []byte
	replace bool
	status  codec.Status
}

const stageSender = "sender"

// senderFor is the level judging a user of group: the first [[sender]]
// naming the group, else the global one; nil when neither exists.
func (p *Policy) senderFor(group string) *senderLevel {
	for i := range p.senders {
		if _, ok := p.senders[i].groups[group]; ok {
			return &p.senders[i]
		}
	}
	return p.globalSender
}

// apply judges m's source. The user level (the users file) came first in
// the caller: a user with source_addrs, or whose default_source filled the
// source, is not judged here.
func (l *senderLevel) apply(m *Msg) Verdict {
	if m.UserSources || m.SrcDefaulted {
		return Verdict{}
	}
	if len(m.Src) == 0 {
		if l.def != nil {
			m.SetSrc(l.def)
		}
		return Verdict{}
	}
	if l.set.Len() == 0 || l.set.Allowed(m.Src) {
		return Verdict{}
	}
	if l.replace {
		m.SetSrc(l.def)
		return Verdict{}
	}
	return Verdict{Action: Refuse, Status: l.status, Stage: stageSender}
}

// readPatterns reads a source_file: one pattern a line, '#' comments.
func readPatterns(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if e := entryOfLine(sc.Bytes()); len(e) > 0 {
			if len(out) >= MaxListEntries {
				return nil, fmt.Errorf("%s:%d: more than %d patterns", path, line, MaxListEntries)
			}
			out = append(out, string(e))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}
