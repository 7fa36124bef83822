package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/BurntSushi/toml"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/routing"
)

// Policy is one compiled policy file. It is immutable (but for its hit
// counters) and safe for concurrent use; a nil *Policy passes everything.
type Policy struct {
	path string

	norm         []normaliser
	senders      []senderLevel // group levels, in file order
	globalSender *senderLevel
	lists        []*list
	rules        *routing.Table
	rule         []rule
	ruleHits     []atomic.Uint64
	stages       []Stage
	lookup       LookupConfig  // for the lookup stage's Configure (cmd/smppd)
	limits       []LimitConfig // for Limits.Apply (cmd/smppd)

	// The rule table's configuration (for an edit of one rule) and where
	// it came from (ruletable.go): its source, the rules_file, the cluster
	// revision, its text, the node's own table's text (the same unless the
	// cluster's is in force), and the inline rules left out.
	ruleCfg               []RuleConfig
	rulesFrom, rulesFile  string
	rulesRev              uint64
	rulesText, localRules []byte
	inlineIgnored         int

	hasMTLists, hasMOLists bool
}

// Options are what a Load needs besides the file.
type Options struct {
	// Stages run after the built-in ones, in order (another package's:
	// number portability, ...).
	Stages []Stage
	// Prev is the policy in force: its lists' hit counters carry over to
	// lists of the same name.
	Prev *Policy
	// Rules, when set, is the rule table in force instead of the file's
	// (a cluster's, or an admin API edit being put in force).
	Rules *RuleTable
}

// Load reads and compiles the policy file at path. Relative list and
// source files are read from path's directory. Every problem is reported,
// joined, naming the table and key.
func Load(path string, o Options) (*Policy, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var cfg Config
	md, err := toml.Decode(string(src), &cfg)
	if err != nil {
		return nil, fmt.Errorf("policy: %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("policy: %s: unknown key %s", path, und[0].String())
	}
	p, err := Compile(&cfg, filepath.Dir(path), o)
	if err != nil {
		return nil, fmt.Errorf("policy: %s: %w", path, err)
	}
	p.path = path
	return p, nil
}

// Compile builds a Policy from cfg; dir anchors relative file names.
func Compile(cfg *Config, dir string, o Options) (*Policy, error) {
	p := &Policy{stages: o.Stages}
	var errs []error
	for i := range cfg.Normalise {
		n, err := compileNormaliser(&cfg.Normalise[i])
		if err != nil {
			errs = append(errs, fmt.Errorf("normalise[%d]: %w", i, err))
		}
		p.norm = append(p.norm, n)
	}
	for i := range cfg.Sender {
		l, err := compileSender(&cfg.Sender[i], dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("sender[%d]: %w", i, err))
			continue
		}
		if l.groups != nil {
			p.senders = append(p.senders, l)
		} else if p.globalSender != nil {
			errs = append(errs, fmt.Errorf("sender[%d]: a second global level (no groups)", i))
		} else {
			p.globalSender = &l
		}
	}
	names := make(map[string]bool)
	for i := range cfg.List {
		lc := &cfg.List[i]
		if names[lc.Name] {
			errs = append(errs, fmt.Errorf("list[%d]: name %q used twice", i, lc.Name))
			continue
		}
		names[lc.Name] = true
		l, err := compileList(lc, dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("list[%d] (%q): %w", i, lc.Name, err))
			continue
		}
		l.hits = new(atomic.Uint64)
		if old := o.Prev.list(lc.Name); old != nil {
			l.hits = old.hits
		}
		p.lists = append(p.lists, l)
		p.hasMTLists = true
		p.hasMOLists = p.hasMOLists || l.mo
	}
	if err := cfg.Lookup.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := ValidateLimits(cfg.Limits); err != nil {
		errs = append(errs, err)
	}
	if cfg.Lookup.PortedFile != "" {
		cfg.Lookup.PortedFile = resolve(dir, cfg.Lookup.PortedFile) // beside the policy file, as the lists
	}
	p.lookup, p.limits = cfg.Lookup, cfg.Limits
	rcs, from, file, text, local, err := rulesSource(cfg, dir, o)
	if err != nil {
		errs = append(errs, err)
	}
	t, rules, err := compileRules(rcs)
	if err != nil {
		switch from {
		case RulesFile:
			err = fmt.Errorf("rules_file %s: %w", file, err)
		case RulesCluster:
			err = fmt.Errorf("the cluster's rule table (revision %d): %w", o.Rules.Revision, err)
		}
		errs = append(errs, err)
	}
	p.rules, p.rule, p.ruleHits, p.ruleCfg = t, rules, make([]atomic.Uint64, len(rules)), rcs
	p.rulesFrom, p.rulesFile, p.rulesText, p.localRules = from, file, text, local
	if o.Rules != nil {
		p.rulesRev = o.Rules.Revision
	}
	if from != RulesInline {
		p.inlineIgnored = len(cfg.Rule)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func set(names []string) map[string]struct{} {
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(names))
	for _, n := range names {
		m[n] = struct{}{}
	}
	return m
}

func compileNormaliser(c *NormaliseConfig) (normaliser, error) {
	n := normaliser{users: set(c.Users), groups: set(c.Groups), conns: set(c.Connectors),
		minD: 8, maxD: 15, shortMax: 6, alnum: true}
	n.every = n.users == nil && n.groups == nil && n.conns == nil
	if c.CountryCode == "" || len(c.CountryCode) > 3 || !allDigits([]byte(c.CountryCode)) || c.CountryCode[0] == '0' {
		return n, fmt.Errorf("country_code: %q: 1..3 digits, not starting with 0 (ITU-T E.164)", c.CountryCode)
	}
	n.cc = []byte(c.CountryCode)
	var err error
	if n.natPfx, err = digitPrefix("national_prefix", c.NationalPrefix, "0"); err != nil {
		return n, err
	}
	if n.intlPfx, err = digitPrefix("international_prefix", c.InternationalPrefix, "00"); err != nil {
		return n, err
	}
	switch c.Fields {
	case "", "both":
		n.src, n.dst = true, true
	case "source":
		n.src = true
	case "dest":
		n.dst = true
	default:
		return n, fmt.Errorf(`fields: %q: "both", "source" or "dest"`, c.Fields)
	}
	if c.MinDigits != 0 {
		n.minD = c.MinDigits
	}
	if c.MaxDigits != 0 {
		n.maxD = c.MaxDigits
	}
	if n.minD < 1 || n.maxD > MaxAddr || n.minD > n.maxD {
		return n, fmt.Errorf("min_digits %d, max_digits %d: want 1 <= min_digits <= max_digits <= %d", n.minD, n.maxD, MaxAddr)
	}
	switch c.Alphanumeric {
	case "", "allow":
	case "refuse":
		n.alnum = false
	default:
		return n, fmt.Errorf(`alphanumeric: %q: "allow" or "refuse"`, c.Alphanumeric)
	}
	if c.ShortCodeMax != nil {
		if *c.ShortCodeMax < 0 || *c.ShortCodeMax >= n.minD {
			return n, fmt.Errorf("short_code_max: %d: 0..min_digits-1 (%d)", *c.ShortCodeMax, n.minD-1)
		}
		n.shortMax = *c.ShortCodeMax
	}
	if n.shortMax >= n.minD {
		n.shortMax = n.minD - 1
	}
	if n.srcStatus, err = parseStatus(c.SourceStatus, codec.StatusInvSrcAdr); err != nil {
		return n, fmt.Errorf("source_status: %w", err)
	}
	if n.dstStatus, err = parseStatus(c.DestStatus, codec.StatusInvDstAdr); err != nil {
		return n, fmt.Errorf("dest_status: %w", err)
	}
	switch c.Outbound {
	case "", "international":
	case "plus":
		n.out = outPlus
	case "national":
		n.out = outNational
	default:
		return n, fmt.Errorf(`outbound: %q: "international", "plus" or "national"`, c.Outbound)
	}
	if c.Outbound != "" && n.conns == nil {
		return n, errors.New("outbound: only with connectors")
	}
	return n, nil
}

func digitPrefix(key, v, def string) ([]byte, error) {
	switch {
	case v == "":
		v = def
	case v == "-":
		return nil, nil
	}
	if len(v) > 4 || !allDigits([]byte(v)) {
		return nil, fmt.Errorf(`%s: %q: 1..4 digits, or "-" for none`, key, v)
	}
	return []byte(v), nil
}

func compileSender(c *SenderConfig, dir string) (senderLevel, error) {
	l := senderLevel{groups: set(c.Groups)}
	pats := c.SourceAddrs
	if c.SourceFile != "" {
		more, err := readPatterns(resolve(dir, c.SourceFile))
		if err != nil {
			return l, fmt.Errorf("source_file: %w", err)
		}
		pats = append(append([]string(nil), pats...), more...)
	}
	var err error
	if l.set, err = accounts.CompileSourceSet(pats); err != nil {
		return l, err
	}
	if c.DefaultSource != "" {
		if len(c.DefaultSource) > 20 {
			return l, fmt.Errorf("default_source: %q: at most 20 octets (SMPP 3.4 §5.2.8)", c.DefaultSource)
		}
		if l.set.Len() > 0 && !l.set.Allowed([]byte(c.DefaultSource)) {
			return l, fmt.Errorf("default_source: %q is not allowed by source_addrs", c.DefaultSource)
		}
		l.def = []byte(c.DefaultSource)
	}
	switch c.NotAllowed {
	case "", "refuse":
	case "replace":
		if l.def == nil {
			return l, errors.New(`not_allowed = "replace" needs default_source`)
		}
		l.replace = true
	default:
		return l, fmt.Errorf(`not_allowed: %q: "refuse" or "replace"`, c.NotAllowed)
	}
	if l.status, err = parseStatus(c.Status, codec.StatusInvSrcAdr); err != nil {
		return l, fmt.Errorf("status: %w", err)
	}
	return l, nil
}

func compileList(c *ListConfig, dir string) (*list, error) {
	if !validName(c.Name) {
		return nil, fmt.Errorf("name: %q: 1..64 of A-Z a-z 0-9 _ . : -", c.Name)
	}
	l := &list{name: c.Name, stage: "list:" + c.Name, users: set(c.Users), mo: c.MO}
	switch c.Kind {
	case "block":
		l.block = true
	case "allow":
	default:
		return nil, fmt.Errorf(`kind: %q: "block" or "allow"`, c.Kind)
	}
	def := codec.StatusInvDstAdr
	switch c.Field {
	case "dest":
		l.dest = true
	case "source":
		def = codec.StatusInvSrcAdr
	default:
		return nil, fmt.Errorf(`field: %q: "dest" or "source"`, c.Field)
	}
	var err error
	if l.status, err = parseStatus(c.Status, def); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	size := len(c.Entries)
	if c.File != "" {
		l.file = resolve(dir, c.File)
		if fi, err := os.Stat(l.file); err == nil {
			size += int(min(fi.Size()/8, MaxListEntries)) // about a line per 8 octets
		}
	}
	l.exact, l.prefix = newNumSet(size), newNumSet(0)
	for j, e := range c.Entries {
		if err := l.addEntry([]byte(e)); err != nil {
			return nil, fmt.Errorf("entries[%d]: %w", j, err)
		}
	}
	if l.file != "" {
		if err := l.readFile(l.file); err != nil {
			return nil, fmt.Errorf("file: %w", err)
		}
	}
	return l, nil
}

func resolve(dir, name string) string {
	if filepath.IsAbs(name) || dir == "" {
		return name
	}
	return filepath.Join(dir, name)
}

// list is the list called name, nil when p has none.
func (p *Policy) list(name string) *list {
	if p == nil {
		return nil
	}
	for _, l := range p.lists {
		if l.name == name {
			return l
		}
	}
	return nil
}

// LookupConfig is the [lookup] table, defaults filled in; zero for a nil p.
func (p *Policy) LookupConfig() LookupConfig {
	if p == nil {
		return LookupConfig{}
	}
	return p.lookup
}

// LimitConfigs are the [[limit]] tables; nil for a nil p.
func (p *Policy) LimitConfigs() []LimitConfig {
	if p == nil {
		return nil
	}
	return p.limits
}

// Path is the file p was loaded from.
func (p *Policy) Path() string { return p.path }

// MT runs the policy on an MT message: sender, normalisation, lists,
// rules, then the added stages; the first refusal ends it. m's fields are
// changed in place (see Msg). It allocates nothing but a regexp rewrite's
// match.
func (p *Policy) MT(m *Msg) Verdict {
	if p == nil {
		return Verdict{}
	}
	if l := p.senderFor(m.Group); l != nil {
		if v := l.apply(m); v.Action != Pass {
			return v
		}
	}
	for i := range p.norm {
		if n := &p.norm[i]; n.selectsMT(m.User, m.Group) {
			if v := n.apply(m); v.Action != Pass {
				return v
			}
			break
		}
	}
	if p.hasMTLists {
		if v := p.checkLists(m, false); v.Action != Pass {
			return v
		}
	}
	if p.rules != nil {
		if v := p.applyRules(m); v.Action != Pass {
			return v
		}
	}
	return p.runStages(m)
}

// MO runs the policy on an MO message: the arriving connector's
// normalisation, the lists marked mo, then the added stages.
func (p *Policy) MO(m *Msg) Verdict {
	if p == nil {
		return Verdict{}
	}
	if n := p.connNormaliser(m.Connector); n != nil {
		if v := n.apply(m); v.Action != Pass {
			return v
		}
	}
	if p.hasMOLists {
		if v := p.checkLists(m, true); v.Action != Pass {
			return v
		}
	}
	return p.runStages(m)
}

func (p *Policy) runStages(m *Msg) Verdict {
	for _, s := range p.stages {
		if v := s.Check(m); v.Action != Pass {
			return v
		}
	}
	return Verdict{}
}

// connNormaliser is the first [[normalise]] naming connector c.
func (p *Policy) connNormaliser(c string) *normaliser {
	for i := range p.norm {
		if _, ok := p.norm[i].conns[c]; ok {
			return &p.norm[i]
		}
	}
	return nil
}

// Outbound rewrites an MT message routed to connector into the form that
// connector's [[normalise]] outbound asks for; false when none applies.
func (p *Policy) Outbound(connector string, m *Msg) bool {
	if p == nil {
		return false
	}
	n := p.connNormaliser(connector)
	if n == nil || n.out == outInternational {
		return false
	}
	n.outbound(m)
	return true
}

// checkLists runs every list that applies: a block list hit, or an allow
// list miss, refuses.
func (p *Policy) checkLists(m *Msg, mo bool) Verdict {
	for _, l := range p.lists {
		if mo && !l.mo || !mo && !l.applies(m.User) {
			continue
		}
		addr := m.Src
		if l.dest {
			addr = m.Dst
		}
		if l.contains(addr) == l.block {
			l.hits.Add(1)
			return Verdict{Action: Refuse, Status: l.status, Stage: l.stage}
		}
	}
	return Verdict{}
}

// Holder publishes the policy in force. The zero value holds none.
type Holder struct {
	p atomic.Pointer[Policy]
}

// Load returns the policy in force (nil: none).
func (h *Holder) Load() *Policy {
	if h == nil {
		return nil
	}
	return h.p.Load()
}

// Swap puts p in force.
func (h *Holder) Swap(p *Policy) { h.p.Store(p) }
