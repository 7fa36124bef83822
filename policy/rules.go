package policy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/routing"
)

// rule is one compiled [[rule]]; its filters live in the Policy's rule
// table (a routing.Table whose routes are the rules, so the filters are
// the routes' own and every dest_prefixes of every rule shares one trie).
type rule struct {
	name, stage    string
	srcFrom, srcTo []byte // prefix rewrite; srcFrom nil = none
	dstFrom, dstTo []byte
	srcRe, dstRe   *regexp.Regexp
	srcTpl, dstTpl []byte
	srcPre, dstPre []string          // literal prefixes every match of srcRe / dstRe starts with; nil = unknown
	srcLit, dstLit routing.Prefilter // literals every match of srcRe / dstRe contains
	priority       int               // -1 = unchanged
	dataCoding     int               // -1 = unchanged
	validity       time.Duration
	tags           []string
	reject         codec.Status
}

// ruleConnector is the one placeholder connector of the rule table.
const ruleConnector = "rule"

// compileRules builds the rule table and the rules' actions.
func compileRules(cfg []RuleConfig) (*routing.Table, []rule, error) {
	if len(cfg) == 0 {
		return nil, nil, nil
	}
	var errs []error
	routes := make([]routing.MTRouteConfig, len(cfg))
	rules := make([]rule, len(cfg))
	for i := range cfg {
		rc := &cfg[i]
		routes[i] = routing.MTRouteConfig{Name: rc.Name, Kind: "static", Connectors: []string{ruleConnector}, FilterConfig: rc.FilterConfig}
		if f := &routes[i].FilterConfig; f.DestRegex != "" && len(f.DestPrefixes) == 0 {
			// An anchored dest_regex's literal prefixes go into the shared
			// trie: the rule is then no candidate for a destination that
			// cannot match, and its regexp is not run (BENCHMARKS.md).
			f.DestPrefixes = anchoredPrefixes(f.DestRegex)
		}
		r, err := compileRule(rc)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule[%d] (%q): %w", i, rc.Name, err))
		}
		rules[i] = r
	}
	t, err := routing.Compile(routing.Config{MT: routes, Connectors: []string{ruleConnector}})
	if err != nil {
		// The routing package names the rules "mt_route[i]".
		errs = append(errs, errors.New(strings.ReplaceAll(strings.ReplaceAll(err.Error(), "routing: mt_route[", "rule["), "mt_route", "rule")))
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return t, rules, nil
}

func compileRule(rc *RuleConfig) (rule, error) {
	r := rule{name: rc.Name, stage: "rule:" + rc.Name, priority: -1, dataCoding: -1, tags: rc.Tags}
	var err error
	if r.srcFrom, r.srcTo, err = prefixPair("source_prefix", rc.SourcePrefix); err != nil {
		return r, err
	}
	if r.dstFrom, r.dstTo, err = prefixPair("dest_prefix", rc.DestPrefix); err != nil {
		return r, err
	}
	if r.srcRe, r.srcTpl, err = rewritePair("source_rewrite", rc.SourceRewrite); err != nil {
		return r, err
	}
	if r.dstRe, r.dstTpl, err = rewritePair("dest_rewrite", rc.DestRewrite); err != nil {
		return r, err
	}
	if r.srcRe != nil {
		r.srcPre, r.srcLit = anchoredPrefixes(rc.SourceRewrite[0]), routing.NewPrefilter(r.srcRe)
	}
	if r.dstRe != nil {
		r.dstPre, r.dstLit = anchoredPrefixes(rc.DestRewrite[0]), routing.NewPrefilter(r.dstRe)
	}
	if r.srcFrom != nil && r.srcRe != nil || r.dstFrom != nil && r.dstRe != nil {
		return r, errors.New("a prefix and a regexp rewrite of the same address: use one")
	}
	if p := rc.Priority; p != nil {
		if *p < 0 || *p > 3 {
			return r, fmt.Errorf("set_priority: %d not in 0..3 (SMPP 3.4 §5.2.14)", *p)
		}
		r.priority = *p
	}
	if d := rc.DataCoding; d != nil {
		if *d < 0 || *d > 255 {
			return r, fmt.Errorf("set_data_coding: %d not in 0..255", *d)
		}
		r.dataCoding = *d
	}
	if v := rc.Validity; v != nil {
		if v.D() <= 0 {
			return r, fmt.Errorf("set_validity: %s must be > 0", v.D())
		}
		r.validity = v.D()
	}
	for j, t := range rc.Tags {
		if !validName(t) {
			return r, fmt.Errorf("set_tags[%d]: %q: 1..64 of A-Z a-z 0-9 _ . : -", j, t)
		}
	}
	if rc.Reject != "" {
		if r.reject, err = parseStatus(rc.Reject, 0); err != nil {
			return r, fmt.Errorf("reject: %w", err)
		}
		if r.srcFrom != nil || r.dstFrom != nil || r.srcRe != nil || r.dstRe != nil || r.priority >= 0 ||
			r.dataCoding >= 0 || r.validity > 0 || len(r.tags) > 0 {
			return r, errors.New("reject takes no other action")
		}
		return r, nil
	}
	if r.srcFrom == nil && r.dstFrom == nil && r.srcRe == nil && r.dstRe == nil && r.priority < 0 &&
		r.dataCoding < 0 && r.validity == 0 && len(r.tags) == 0 {
		return r, errors.New("no action: set a rewrite, set_priority, set_validity, set_data_coding, set_tags or reject")
	}
	return r, nil
}

func prefixPair(key string, v []string) (from, to []byte, err error) {
	switch {
	case len(v) == 0:
		return nil, nil, nil
	case len(v) != 2 || v[0] == "" || len(v[0]) > MaxAddr || len(v[1]) > MaxAddr:
		return nil, nil, fmt.Errorf(`%s: want ["from", "to"], from not empty, both at most %d octets`, key, MaxAddr)
	}
	return []byte(v[0]), []byte(v[1]), nil
}

func rewritePair(key string, v []string) (*regexp.Regexp, []byte, error) {
	if len(v) == 0 {
		return nil, nil, nil
	}
	if len(v) != 2 || v[0] == "" {
		return nil, nil, fmt.Errorf(`%s: want ["RE2", "replacement"]`, key)
	}
	re, err := regexp.Compile(v[0])
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", key, err)
	}
	return re, []byte(v[1]), nil
}

// applyRules runs the first rule whose filters match m.
func (p *Policy) applyRules(m *Msg) Verdict {
	i := p.matchRule(m)
	if i < 0 {
		return Verdict{}
	}
	p.ruleHits[i].Add(1)
	return p.rule[i].apply(m)
}

// TryRules runs the rule table alone on m, as a message would meet it
// after the sender, normalisation and list stages, without counting a
// hit: the rule that applies ("" for none) and its verdict; m is changed
// as the rule changes it (the admin API's rule test).
func (p *Policy) TryRules(m *Msg) (string, Verdict) {
	if p == nil || p.rules == nil {
		return "", Verdict{}
	}
	i := p.matchRule(m)
	if i < 0 {
		return "", Verdict{}
	}
	return p.rule[i].name, p.rule[i].apply(m)
}

// matchRule is the index of the first rule whose filters match m, -1 for
// none.
func (p *Policy) matchRule(m *Msg) int {
	mt := routing.MT{User: m.User, Group: m.Group, Source: m.Src, Dest: m.Dst, Content: m.Content,
		DataCoding: m.DataCoding, Now: m.Now}
	d, ok := p.rules.RouteMT(&mt, nil)
	if !ok {
		return -1
	}
	return d.Route.Index
}

// apply does what r does to a message its filters matched.
func (r *rule) apply(m *Msg) Verdict {
	if r.reject != 0 {
		return Verdict{Action: Refuse, Status: r.reject, Stage: r.stage}
	}
	switch {
	case r.srcFrom != nil:
		if hasPrefix(m.Src, r.srcFrom) {
			m.SetSrc(append(append(m.SrcScratch(), r.srcTo...), m.Src[len(r.srcFrom):]...))
		}
	case r.srcRe != nil && hasAnyPrefix(m.Src, r.srcPre) && r.srcLit.May(m.Src):
		if out, ok := rewrite(m.SrcScratch(), r.srcRe, r.srcTpl, m.Src); ok {
			m.SetSrc(out)
		}
	}
	switch {
	case r.dstFrom != nil:
		if hasPrefix(m.Dst, r.dstFrom) {
			m.SetDst(append(append(m.DstScratch(), r.dstTo...), m.Dst[len(r.dstFrom):]...))
		}
	case r.dstRe != nil && hasAnyPrefix(m.Dst, r.dstPre) && r.dstLit.May(m.Dst):
		if out, ok := rewrite(m.DstScratch(), r.dstRe, r.dstTpl, m.Dst); ok {
			m.SetDst(out)
		}
	}
	if r.priority >= 0 {
		m.Priority = uint8(r.priority)
		m.Changed |= ChangedPriority
	}
	if r.dataCoding >= 0 {
		m.DataCoding = uint8(r.dataCoding)
		m.Changed |= ChangedDataCoding
	}
	if r.validity > 0 {
		m.Validity = r.validity
		m.Changed |= ChangedValidity
	}
	if r.tags != nil {
		m.Tags = r.tags
	}
	return Verdict{}
}

// rewrite replaces re's first match in addr by tpl (with $n references)
// into buf. FindSubmatchIndex allocates its result: the one allocation a
// policy may make per message, measured apart (BenchmarkPolicyRegexpRewrite);
// a regexp is not run (nor allocates) for an address without its anchored
// literal prefix (rule.srcPre, dstPre) or a literal every match contains
// (rule.srcLit, dstLit).
func rewrite(buf []byte, re *regexp.Regexp, tpl, addr []byte) ([]byte, bool) {
	idx := re.FindSubmatchIndex(addr)
	if idx == nil {
		return nil, false
	}
	out := append(buf, addr[:idx[0]]...)
	out = re.Expand(out, tpl, addr, idx)
	out = append(out, addr[idx[1]:]...)
	if len(out) > MaxAddr {
		out = out[:MaxAddr]
	}
	return out, true
}

// validName is the routes' name rule: 1..64 of A-Z a-z 0-9 _ . : -.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}
