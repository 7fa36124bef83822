package routing

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Limits checked by Compile.
const (
	maxNameLen        = 64
	maxRouteConns     = 64     // connectors per route (weighted schedule entries are uint8)
	maxWeight         = 10000  // per connector
	maxWeightSum      = 100000 // bounds the precomputed schedule
	maxPrefixLen      = 64     // destination_addr is at most 64 octets (data_sm)
	regexPrefix       = "re:"
	maxRegexSourceLen = 4096
)

// Compile validates cfg and builds an immutable Table. All problems are
// reported together: the error is an errors.Join of *ConfigError, each
// wrapping one of the Err* sentinels. Compile does not keep references to
// cfg's slices.
func Compile(cfg Config) (*Table, error) {
	c := compiler{t: &Table{ids: map[string]int{}}}
	if cfg.Connectors != nil {
		c.fixedConns = true
		for i, name := range cfg.Connectors {
			if name == "" {
				// A vacant id (a removed connector's): kept so the
				// others' ids do not move; no route can name it.
				c.t.names = append(c.t.names, "")
				continue
			}
			if _, dup := c.t.ids[name]; dup {
				c.fail("connectors["+strconv.Itoa(i)+"]", "", ErrConnectorName, "empty or listed twice: "+quote(name))
				continue
			}
			c.t.ids[name] = len(c.t.names)
			c.t.names = append(c.t.names, name)
		}
	}
	c.users = toSet(cfg.Users)
	c.groups = toSet(cfg.Groups)

	var mtTrie, moTrie trieBuilder
	seen := map[string]int{}
	for i := range cfg.MT {
		if r := c.mtRoute(i, &cfg.MT[i], len(cfg.MT), seen, &mtTrie); r != nil {
			c.t.mt = append(c.t.mt, r)
		}
	}
	clear(seen)
	for i := range cfg.MO {
		if r := c.moRoute(i, &cfg.MO[i], len(cfg.MO), seen, &moTrie); r != nil {
			c.t.mo = append(c.t.mo, r)
		}
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	c.t.mtPrefix = mtTrie.build()
	c.t.moPrefix = moTrie.build()
	for i, r := range c.t.mt {
		if !r.filter.hasPrefix {
			c.t.mtOpen = append(c.t.mtOpen, int32(i))
		}
	}
	for i, r := range c.t.mo {
		if !r.filter.hasPrefix {
			c.t.moOpen = append(c.t.moOpen, int32(i))
		}
	}
	return c.t, nil
}

type compiler struct {
	t             *Table
	fixedConns    bool
	users, groups map[string]struct{} // nil: not checked
	errs          []error

	key, route string // the route being compiled, for fail
}

func (c *compiler) fail(key, route string, err error, detail string) {
	c.errs = append(c.errs, &ConfigError{Key: key, Route: route, Err: err, Detail: detail})
}

// failf reports a problem with a key of the current route ("" = the route
// as a whole).
func (c *compiler) failf(field string, err error, detail string) {
	key := c.key
	if field != "" {
		key += "." + field
	}
	c.fail(key, c.route, err, detail)
}

func (c *compiler) mtRoute(i int, rc *MTRouteConfig, count int, seen map[string]int, trie *trieBuilder) *MTRoute {
	c.key, c.route = "mt_route["+strconv.Itoa(i)+"]", rc.Name
	nerr := len(c.errs)
	c.nameAt(rc.Name, seen, i, "mt_route")
	r := &MTRoute{Name: rc.Name, Index: i, Rate: rc.Rate}

	kind, ok := ParseKind(rc.Kind)
	if !ok {
		c.failf("kind", ErrUnknownKind, "got "+quote(rc.Kind))
	}
	r.Kind = kind
	if kind == KindDefault {
		if i != count-1 {
			c.failf("kind", ErrDefaultNotLast, "it is mt_route["+strconv.Itoa(i)+"] of "+strconv.Itoa(count))
		}
		if !rc.FilterConfig.empty() {
			c.failf("kind", ErrDefaultFilters, "remove the filter keys or use kind = \"static\"")
		}
	} else if ok && rc.FilterConfig.empty() && i != count-1 {
		c.failf("", ErrUnreachable, "add filters, or move it to the end (kind = \"default\" says so explicitly)")
	}
	if math.IsNaN(rc.Rate) || math.IsInf(rc.Rate, 0) || rc.Rate < 0 {
		c.failf("rate", ErrRate, "got "+strconv.FormatFloat(rc.Rate, 'g', -1, 64))
	}
	c.connectors(r, rc)
	c.weights(r, rc)

	if len(rc.FromConnectors) > 0 {
		c.failf("from_connectors", ErrNotForMT, "it filters MO routes by the connector the MO came from")
	}
	r.filter = c.filter(&rc.FilterConfig, true)
	c.prefixes(&r.filter, rc.DestPrefixes, i, trie)
	if len(c.errs) > nerr {
		return nil
	}
	return r
}

func (c *compiler) moRoute(i int, rc *MORouteConfig, count int, seen map[string]int, trie *trieBuilder) *MORoute {
	c.key, c.route = "mo_route["+strconv.Itoa(i)+"]", rc.Name
	nerr := len(c.errs)
	c.nameAt(rc.Name, seen, i, "mo_route")
	switch {
	case rc.User == "" && rc.URL == "":
		c.failf("user", ErrUser, "an MO route needs the system_id that receives the message, or a url")
	case rc.User != "" && rc.URL != "":
		c.failf("url", ErrURL, "a route names a user or a url, not both")
	case rc.User != "" && c.users != nil && !has(c.users, rc.User):
		c.failf("user", ErrUser, quote(rc.User)+" is not a configured user")
	}
	method := c.moTarget(rc)
	if rc.FilterConfig.empty() && i != count-1 {
		c.failf("", ErrUnreachable, "add filters, or move it to the end")
	}
	if len(rc.Users) > 0 {
		c.failf("users", ErrNotForMO, "an MO has no submitting user; the route's user key is the target")
	}
	if len(rc.Groups) > 0 {
		c.failf("groups", ErrNotForMO, "an MO has no submitting user or group")
	}
	r := &MORoute{Name: rc.Name, Index: i, User: rc.User, URL: rc.URL, Method: method, AckBody: rc.AckBody, Secret: rc.Secret}
	r.filter = c.filter(&rc.FilterConfig, false)
	c.prefixes(&r.filter, rc.DestPrefixes, i, trie)
	if len(c.errs) > nerr {
		return nil
	}
	return r
}

// nameAt checks a route name; seen maps names to their route index.
func (c *compiler) nameAt(name string, seen map[string]int, i int, section string) {
	if !validName(name) {
		c.failf("name", ErrName, "must be 1..64 of A-Z a-z 0-9 _ . : -, got "+quote(name))
		return
	}
	if j, dup := seen[name]; dup {
		c.failf("name", ErrDuplicateName, quote(name)+" is already the name of "+section+"["+strconv.Itoa(j)+"]")
		return
	}
	seen[name] = i
}

func (c *compiler) connectors(r *MTRoute, rc *MTRouteConfig) {
	n := len(rc.Connectors)
	switch {
	case (r.Kind == KindStatic || r.Kind == KindDefault) && n != 1:
		c.failf("connectors", ErrConnectorCount, "kind "+r.Kind.String()+" takes exactly one connector, got "+strconv.Itoa(n))
		return
	case n == 0:
		c.failf("connectors", ErrConnectorCount, "list at least one connector")
		return
	case n > maxRouteConns:
		c.failf("connectors", ErrConnectorCount, "at most 64 connectors per route, got "+strconv.Itoa(n))
		return
	}
	r.Connectors = make([]int, 0, n)
	for _, name := range rc.Connectors {
		id, known := c.t.ids[name]
		switch {
		case name == "":
			c.failf("connectors", ErrConnectorName, "empty connector name")
			continue
		case !known && c.fixedConns:
			c.failf("connectors", ErrUnknownConnector, quote(name)+" is not a configured connector")
			continue
		case !known:
			id = len(c.t.names)
			c.t.ids[name] = id
			c.t.names = append(c.t.names, name)
		}
		for _, prev := range r.Connectors {
			if prev == id {
				c.failf("connectors", ErrConnectorName, quote(name)+" is listed twice (use weights to favour a connector)")
			}
		}
		r.Connectors = append(r.Connectors, id)
	}
	r.ring = append(append(make([]int, 0, 2*n), r.Connectors...), r.Connectors...)
}

func (c *compiler) weights(r *MTRoute, rc *MTRouteConfig) {
	if r.Kind != KindWeighted {
		if len(rc.Weights) > 0 {
			c.failf("weights", ErrWeights, "weights are only for kind \"weighted\"")
		}
		return
	}
	if len(rc.Weights) != len(rc.Connectors) {
		c.failf("weights", ErrWeights, "need one weight per connector: "+strconv.Itoa(len(rc.Connectors))+" connectors, "+strconv.Itoa(len(rc.Weights))+" weights")
		return
	}
	g, sum := 0, 0
	for _, w := range rc.Weights {
		if w < 1 || w > maxWeight {
			c.failf("weights", ErrWeights, "each weight must be 1..10000, got "+strconv.Itoa(w))
			return
		}
		g, sum = gcd(g, w), sum+w
	}
	if sum > maxWeightSum {
		c.failf("weights", ErrWeights, "the weights add up to more than 100000")
		return
	}
	r.Weights = append([]int(nil), rc.Weights...)
	reduced := make([]int, len(r.Weights)) // same proportions, shorter schedule
	for i, w := range r.Weights {
		reduced[i] = w / g
	}
	r.sched = smoothSchedule(reduced)
}

// filter compiles the filters shared by MT and MO routes.
func (c *compiler) filter(fc *FilterConfig, mt bool) filter {
	var f filter
	if mt {
		f.users = c.nameSet("users", fc.Users, c.users, ErrUser)
		f.groups = c.nameSet("groups", fc.Groups, c.groups, ErrGroup)
		f.networks = c.names("networks", fc.Networks, ErrNetwork)
		f.tags = c.names("tags", fc.Tags, ErrTag)
	} else {
		f.conns = c.nameSet("from_connectors", fc.FromConnectors, nil, ErrConnectorName)
		if len(fc.Networks) > 0 {
			c.failf("networks", ErrNotForMO, "an MO's network is not looked up")
		}
		if len(fc.Tags) > 0 {
			c.failf("tags", ErrNotForMO, "the policy's rules tag MT messages only")
		}
	}
	for _, s := range fc.SourceAddrs {
		f.hasSrc = true
		if pat, ok := strings.CutPrefix(s, regexPrefix); ok {
			if re := c.regex("source_addrs", pat); re != nil {
				f.srcRes = append(f.srcRes, *newGuarded(re))
			}
			continue
		}
		if s == "" || len(s) > maxPrefixLen {
			c.failf("source_addrs", ErrAddress, "an exact source address must be 1..64 octets, got "+quote(s))
			continue
		}
		if f.srcExact == nil {
			f.srcExact = map[string]struct{}{}
		}
		f.srcExact[s] = struct{}{}
	}
	if fc.DestRegex != "" {
		f.destRe = newGuarded(c.regex("dest_regex", fc.DestRegex))
	}
	if fc.ContentRegex != "" {
		f.contentRe = newGuarded(c.regex("content_regex", fc.ContentRegex))
	}
	for _, dc := range fc.DataCodings {
		if dc < 0 || dc > 255 {
			c.failf("data_codings", ErrDataCoding, "got "+strconv.Itoa(dc))
			continue
		}
		f.hasDC = true
		f.dcs[dc>>6] |= 1 << (dc & 63)
	}
	clock, field, err := compileClock(fc)
	if err != nil {
		switch field {
		case FieldTimeWindow:
			c.failf("time_window", ErrTimeWindow, err.Error())
		case FieldDays:
			c.failf("days", ErrDays, err.Error())
		case FieldDateWindow:
			c.failf("date_window", ErrDateWindow, err.Error())
		default:
			c.failf("time_zone", ErrTimeZone, err.Error())
		}
	}
	f.clock = clock
	return f
}

// prefixes validates a route's dest_prefixes and adds them to the trie.
func (c *compiler) prefixes(f *filter, prefixes []string, route int, trie *trieBuilder) {
	for _, p := range prefixes {
		p = strings.TrimPrefix(p, "+")
		if p == "" || len(p) > maxPrefixLen || !printableASCII(p) {
			c.failf("dest_prefixes", ErrAddress, "a prefix must be 1..64 printable ASCII octets (after an optional '+'), got "+quote(p))
			continue
		}
		f.hasPrefix = true
		trie.add(p, route)
	}
}

// names compiles an MT networks or tags filter: names as route names,
// so a typo is refused rather than matching nothing.
func (c *compiler) names(field string, names []string, err error) map[string]struct{} {
	for _, n := range names {
		if !validName(n) {
			c.failf(field, err, "must be 1..64 of A-Z a-z 0-9 _ . : -, got "+quote(n))
		}
	}
	return c.nameSet(field, names, nil, err)
}

func (c *compiler) nameSet(field string, names []string, known map[string]struct{}, err error) map[string]struct{} {
	if len(names) == 0 {
		return nil
	}
	set := make(map[string]struct{}, len(names))
	for _, n := range names {
		switch {
		case n == "":
			c.failf(field, err, "empty name")
		case known != nil && !has(known, n):
			c.failf(field, err, quote(n)+" is not configured")
		default:
			set[n] = struct{}{}
		}
	}
	return set
}

func (c *compiler) regex(field, pat string) *regexp.Regexp {
	if pat == "" || len(pat) > maxRegexSourceLen {
		c.failf(field, ErrRegex, "a regular expression must be 1..4096 characters")
		return nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		c.failf(field, ErrRegex, err.Error())
		return nil
	}
	return re
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '.' || b == ':' || b == '-') {
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func toSet(names []string) map[string]struct{} {
	if names == nil {
		return nil
	}
	m := make(map[string]struct{}, len(names))
	for _, n := range names {
		m[n] = struct{}{}
	}
	return m
}

func has(m map[string]struct{}, k string) bool { _, ok := m[k]; return ok }

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func quote(s string) string { return strconv.Quote(s) }
