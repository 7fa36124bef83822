package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/smppd/smppd/codec"
)

// MaxListEntries bounds one list (its file and entries together).
const MaxListEntries = 1_000_000

// list is one compiled [[list]].
type list struct {
	name, stage string // stage: "list:<name>", the Verdict's
	block, dest bool
	mo          bool
	users       map[string]struct{} // nil: everyone
	file        string
	status      codec.Status

	exact, prefix numSet
	prefixLens    uint32              // bit n: a prefix of n digits exists
	alnum         map[string]struct{} // exact entries that are not digits
	entries       int

	hits *atomic.Uint64 // kept across reloads by name (Policy.carry)
}

// parseEntry classifies one list entry: a number (digits after an optional
// '+'), a prefix (the same with a trailing '*') or an alphanumeric sender.
func parseEntry(e []byte) (key uint64, prefix bool, alnum string, err error) {
	if len(e) > 0 && e[0] == '+' {
		e = e[1:]
	}
	if len(e) == 0 {
		return 0, false, "", errors.New("empty entry")
	}
	if e[len(e)-1] == '*' {
		k, ok := digitKey(e[:len(e)-1])
		if !ok {
			return 0, false, "", fmt.Errorf("prefix %q: 1..%d digits and '*'", e, maxKeyDigits)
		}
		return k, true, "", nil
	}
	if k, ok := digitKey(e); ok {
		return k, false, "", nil
	}
	if len(e) > MaxAddr || bytes.ContainsAny(e, "* \t") {
		return 0, false, "", fmt.Errorf("entry %q: digits (at most %d), digits and '*', or a sender name without spaces or '*' of at most %d octets", e, maxKeyDigits, MaxAddr)
	}
	for _, c := range e {
		if c < 0x20 || c == 0x7F {
			return 0, false, "", fmt.Errorf("entry %q: control character", e)
		}
	}
	return 0, false, string(e), nil
}

// addEntry adds one entry (any form parseEntry takes).
func (l *list) addEntry(e []byte) error {
	key, prefix, alnum, err := parseEntry(e)
	if err != nil {
		return err
	}
	if l.entries >= MaxListEntries {
		return fmt.Errorf("more than %d entries", MaxListEntries)
	}
	var added bool
	switch {
	case alnum != "":
		if l.alnum == nil {
			l.alnum = make(map[string]struct{})
		}
		_, dup := l.alnum[alnum]
		l.alnum[alnum], added = struct{}{}, !dup
	case prefix:
		added = l.prefix.add(key)
		l.prefixLens |= 1 << (key & 31)
	default:
		added = l.exact.add(key)
	}
	if added {
		l.entries++
	}
	return nil
}

// readFile adds the entries of a list file: one a line, '#' starts a
// comment, blank lines skipped. An error names the line.
func (l *list) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 4096)
	for line := 1; sc.Scan(); line++ {
		e := entryOfLine(sc.Bytes())
		if len(e) == 0 {
			continue
		}
		if err := l.addEntry(e); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// entryOfLine is a file line without its comment and spaces.
func entryOfLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '#'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimSpace(b)
}

// contains reports whether addr is on the list: equal to an entry, or
// starting with a prefix entry. One leading '+' is ignored.
func (l *list) contains(addr []byte) bool {
	if len(addr) > 0 && addr[0] == '+' {
		addr = addr[1:]
	}
	var v uint64
	for i, c := range addr {
		if c < '0' || c > '9' {
			if l.alnum == nil {
				return false
			}
			_, ok := l.alnum[string(addr)]
			return ok
		}
		if i >= maxKeyDigits {
			return false // no entry is this long; prefixes were checked below
		}
		v = v*10 + uint64(c-'0')
		if n := i + 1; l.prefixLens&(1<<n) != 0 && l.prefix.has(numKey(v, n)) {
			return true
		}
	}
	return len(addr) > 0 && len(addr) <= maxKeyDigits && l.exact.has(numKey(v, len(addr)))
}

// applies reports whether the list judges a message of user.
func (l *list) applies(user string) bool {
	if l.users == nil {
		return true
	}
	_, ok := l.users[user]
	return ok
}
