package config

import (
	"strconv"
	"strings"
)

// keyLines maps every key of a TOML document to the line it is defined on.
// BurntSushi/toml parses and type-checks the document, but its MetaData has
// no public key positions (and keeps one position per key name, so the
// n-th [[user]] table is not told apart from the last). This scanner runs
// after toml has accepted the document, so it may assume valid syntax; on
// anything it does not follow it stops and returns what it has, and errors
// then carry no line.
//
// Keys are written as dotted paths with a [i] index on each element of an
// array of tables: "smpp-server.port", "user[2].allow_ips". A table header
// maps to its own line ("smpp-server.tls", "user[0]").
func keyLines(src string) map[string]int {
	s := &scanner{src: src, line: 1, lines: make(map[string]int), arrays: make(map[string]int)}
	s.document()
	return s.lines
}

type scanner struct {
	src    string
	i      int
	line   int
	lines  map[string]int
	arrays map[string]int // array-of-tables path -> index of the current element
	table  string         // current table prefix, with indices
}

func (s *scanner) eof() bool { return s.i >= len(s.src) }

func (s *scanner) peek() byte {
	if s.i < len(s.src) {
		return s.src[s.i]
	}
	return 0
}

func (s *scanner) adv() {
	if s.src[s.i] == '\n' {
		s.line++
	}
	s.i++
}

// blank skips spaces and tabs, and also newlines and comments if nl.
func (s *scanner) blank(nl bool) {
	for !s.eof() {
		switch c := s.peek(); {
		case c == ' ' || c == '\t' || c == '\r':
			s.adv()
		case c == '\n' && nl:
			s.adv()
		case c == '#':
			for !s.eof() && s.peek() != '\n' {
				s.adv()
			}
		default:
			return
		}
	}
}

func (s *scanner) document() {
	for {
		s.blank(true)
		if s.eof() {
			return
		}
		if s.peek() == '[' {
			if !s.header() {
				return
			}
			continue
		}
		if !s.keyValue(s.table) {
			return
		}
	}
}

// header reads [a.b] or [[a.b]].
func (s *scanner) header() bool {
	line := s.line
	s.adv()
	array := s.peek() == '['
	if array {
		s.adv()
	}
	parts, ok := s.key()
	if !ok {
		return false
	}
	for range 1 + btoi(array) {
		if s.peek() != ']' {
			return false
		}
		s.adv()
	}
	// Resolve each prefix that is an array of tables to its current element.
	var b strings.Builder
	raw := ""
	for n, p := range parts {
		if n > 0 {
			raw += "."
			b.WriteByte('.')
		}
		raw += p
		b.WriteString(p)
		last := n == len(parts)-1
		if last && array {
			idx := 0
			if cur, seen := s.arrays[raw]; seen {
				idx = cur + 1
			}
			s.arrays[raw] = idx
			b.WriteString("[" + strconv.Itoa(idx) + "]")
		} else if idx, isArr := s.arrays[raw]; isArr {
			b.WriteString("[" + strconv.Itoa(idx) + "]")
		}
	}
	s.table = b.String()
	s.lines[s.table] = line
	return true
}

// keyValue reads key = value within prefix.
func (s *scanner) keyValue(prefix string) bool {
	line := s.line
	parts, ok := s.key()
	if !ok {
		return false
	}
	s.blank(false)
	if s.peek() != '=' {
		return false
	}
	s.adv()
	s.blank(false)
	path := join(prefix, strings.Join(parts, "."))
	s.lines[path] = line
	return s.value(path)
}

// key reads a possibly dotted key of bare and quoted parts.
func (s *scanner) key() ([]string, bool) {
	var parts []string
	for {
		s.blank(false)
		switch c := s.peek(); {
		case c == '"' || c == '\'':
			str, ok := s.str()
			if !ok {
				return nil, false
			}
			parts = append(parts, str)
		case isBare(c):
			start := s.i
			for !s.eof() && isBare(s.peek()) {
				s.adv()
			}
			parts = append(parts, s.src[start:s.i])
		default:
			return nil, false
		}
		s.blank(false)
		if s.peek() != '.' {
			return parts, true
		}
		s.adv()
	}
}

// value skips one value, recording the keys of inline tables under path.
func (s *scanner) value(path string) bool {
	switch s.peek() {
	case '"', '\'':
		_, ok := s.str()
		return ok
	case '[':
		s.adv()
		for n := 0; ; n++ {
			s.blank(true)
			if s.peek() == ']' {
				s.adv()
				return true
			}
			elem := path + "[" + strconv.Itoa(n) + "]"
			if s.peek() == '{' {
				s.lines[elem] = s.line
			}
			if !s.value(elem) {
				return false
			}
			s.blank(true)
			if s.peek() == ',' {
				s.adv()
			}
		}
	case '{':
		s.adv()
		for {
			s.blank(false)
			if s.peek() == '}' {
				s.adv()
				return true
			}
			if !s.keyValue(path) {
				return false
			}
			s.blank(false)
			if s.peek() == ',' {
				s.adv()
			}
		}
	default:
		start := s.i
		for !s.eof() {
			c := s.peek()
			if c == ',' || c == ']' || c == '}' || c == '#' || c == '\n' || c == '\r' {
				break
			}
			s.adv()
		}
		return s.i > start
	}
}

// str reads a basic, literal or multi-line string and returns its raw
// content (escapes are left as written; keys with escapes are rare enough
// that a missed line number is acceptable).
func (s *scanner) str() (string, bool) {
	q := s.peek()
	triple := strings.HasPrefix(s.src[s.i:], string([]byte{q, q, q}))
	if triple {
		s.adv()
		s.adv()
	}
	s.adv()
	start := s.i
	for !s.eof() {
		c := s.peek()
		if c == '\\' && q == '"' {
			s.adv()
			if !s.eof() {
				s.adv()
			}
			continue
		}
		if c == q {
			if !triple {
				out := s.src[start:s.i]
				s.adv()
				return out, true
			}
			if strings.HasPrefix(s.src[s.i:], string([]byte{q, q, q})) {
				out := s.src[start:s.i]
				s.adv()
				s.adv()
				s.adv()
				// A closing delimiter may be followed by up to two more quotes
				// that belong to the content.
				for range 2 {
					if s.peek() == q {
						s.adv()
					}
				}
				return out, true
			}
		}
		if c == '\n' && !triple {
			return "", false
		}
		s.adv()
	}
	return "", false
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
