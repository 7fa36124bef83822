package routing

import (
	"regexp"
	"time"
)

// Field names a filter, for Explain and errors.
type Field uint8

// Filters in the order a route evaluates them: the precomputed prefix hit
// and exact lookups first, clocks next, regular expressions last.
const (
	FieldNone Field = iota // every filter matched
	FieldDestPrefixes
	FieldUsers
	FieldGroups
	FieldFromConnectors
	FieldDataCodings
	FieldDateWindow
	FieldDays
	FieldTimeWindow
	FieldSourceAddrs
	FieldDestRegex
	FieldContentRegex
	FieldNetworks
	FieldTags
)

var fieldNames = [...]string{"", "dest_prefixes", "users", "groups", "from_connectors", "data_codings",
	"date_window", "days", "time_window", "source_addrs", "dest_regex", "content_regex", "networks", "tags"}

// String returns the TOML key of the filter ("" for FieldNone).
func (f Field) String() string {
	if int(f) < len(fieldNames) {
		return fieldNames[f]
	}
	return "Field(?)"
}

// subject is the union of MT and MO as the filters see it.
type subject struct {
	user, group, conn string
	network           string
	tags              []string
	src, dst, content []byte
	dc                byte
	now               time.Time
}

// filter is a compiled FilterConfig. A nil set or regexp is no filter.
type filter struct {
	users, groups, conns map[string]struct{}
	networks, tags       map[string]struct{}
	srcExact             map[string]struct{}
	srcRes               []guarded
	hasSrc               bool
	hasPrefix            bool // the route owns entries in the table's prefix trie
	destRe, contentRe    *guarded
	hasDC                bool
	dcs                  [4]uint64 // bitmap of accepted data_coding values
	clock                *clockFilter
}

// match returns the first filter that rejects s, or FieldNone. prefixHit is
// whether the table's prefix trie found one of this route's prefixes in the
// destination; it is ignored unless hasPrefix.
func (f *filter) match(s *subject, prefixHit bool) Field {
	if f.hasPrefix && !prefixHit {
		return FieldDestPrefixes
	}
	if f.users != nil {
		if _, ok := f.users[s.user]; !ok {
			return FieldUsers
		}
	}
	if f.groups != nil {
		if _, ok := f.groups[s.group]; !ok {
			return FieldGroups
		}
	}
	if f.conns != nil {
		if _, ok := f.conns[s.conn]; !ok {
			return FieldFromConnectors
		}
	}
	if f.networks != nil {
		if _, ok := f.networks[s.network]; !ok {
			return FieldNetworks
		}
	}
	if f.tags != nil && !anyIn(f.tags, s.tags) {
		return FieldTags
	}
	if f.hasDC && f.dcs[s.dc>>6]&(1<<(s.dc&63)) == 0 {
		return FieldDataCodings
	}
	if f.clock != nil {
		if r := f.clock.match(s.now); r != FieldNone {
			return r
		}
	}
	if f.hasSrc && !f.matchSource(s.src) {
		return FieldSourceAddrs
	}
	if f.destRe != nil && !f.destRe.match(s.dst) {
		return FieldDestRegex
	}
	if f.contentRe != nil && !f.contentRe.match(s.content) {
		return FieldContentRegex
	}
	return FieldNone
}

// anyIn reports whether one of tags is in set.
func anyIn(set map[string]struct{}, tags []string) bool {
	for _, t := range tags {
		if _, ok := set[t]; ok {
			return true
		}
	}
	return false
}

// guarded is a filter's regexp behind its prefilter: a text without one
// of the literals every match needs is no match, and the regexp is not run
// for it (docs/ROUTING.md).
type guarded struct {
	re  *regexp.Regexp
	pre Prefilter
}

func newGuarded(re *regexp.Regexp) *guarded {
	if re == nil {
		return nil
	}
	return &guarded{re: re, pre: NewPrefilter(re)}
}

func (g *guarded) match(b []byte) bool { return g.pre.May(b) && g.re.Match(b) }

func (f *filter) matchSource(src []byte) bool {
	// The string(src) map index is compiled without a copy.
	if _, ok := f.srcExact[string(src)]; ok {
		return true
	}
	for i := range f.srcRes {
		if f.srcRes[i].match(src) {
			return true
		}
	}
	return false
}
