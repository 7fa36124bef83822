package accounts

// SourceSet is a compiled list of source_addrs patterns in the users
// file's syntax (compilePattern), for the levels above a user: the traffic
// policy's group and global senders use the same rules as a user's own.
type SourceSet struct {
	pats []srcPattern
}

// CompileSourceSet compiles pats; an error names the bad pattern.
func CompileSourceSet(pats []string) (SourceSet, error) {
	src, err := compileSource(pats)
	if err != nil {
		return SourceSet{}, err
	}
	return SourceSet{pats: src}, nil
}

// Len is the number of patterns.
func (s *SourceSet) Len() int { return len(s.pats) }

// Allowed reports whether src matches one pattern; an empty set allows
// nothing. It does not allocate and is safe for concurrent use.
func (s *SourceSet) Allowed(src []byte) bool { return matchSource(s.pats, src) }

// matchSource reports whether src matches one of pats.
func matchSource(pats []srcPattern, src []byte) bool {
	for i := range pats {
		p := &pats[i]
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
