package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/smppd/smppd/internal/atomicfile"
)

// MaxRulesText bounds a rule table's TOML text (a rules file, an admin
// API body, the cluster bucket's value; JetStream's messages are 1 MiB).
const MaxRulesText = 512 << 10

// Where the rule table in force comes from (docs/POLICY.md, "Editing the
// rules").
const (
	RulesInline  = "policy_file" // the policy file's own [[rule]] tables
	RulesFile    = "rules_file"  // the file its rules_file names
	RulesCluster = "cluster"     // the cluster's bucket (smppd_policy_rules)
)

// RuleTable is a rule table as TOML text ([[rule]] tables only) and, for
// the cluster's, the bucket revision that holds it.
type RuleTable struct {
	Text     []byte
	Revision uint64
	// Shared: the cluster's table; else an edit for the rules file.
	Shared bool
}

// ErrNoRulesFile: the table cannot be edited on a node outside a cluster
// whose policy names no rules_file to write it to.
var ErrNoRulesFile = errors.New("policy: the policy file names no rules_file to write the rule table to")

// ErrNoRule: no rule of that name.
var ErrNoRule = errors.New("policy: no such rule")

// rulesDoc is a rules file.
type rulesDoc struct {
	Rule []RuleConfig `toml:"rule"`
}

// ParseRules decodes a rule table's TOML text; unknown keys are refused,
// naming the rule. It does not compile the rules (CheckRules does).
func ParseRules(src []byte) ([]RuleConfig, error) {
	if len(src) > MaxRulesText {
		return nil, fmt.Errorf("rule table: %d octets, at most %d", len(src), MaxRulesText)
	}
	var doc rulesDoc
	md, err := toml.Decode(string(src), &doc)
	if err != nil {
		return nil, fmt.Errorf("rule table: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, unknownRuleKey(src, und[0])
	}
	return doc.Rule, nil
}

// unknownRuleKey names the first rule holding a key RuleConfig lacks, as
// the decoder's own report does not say which rule.
func unknownRuleKey(src []byte, key toml.Key) error {
	var raw struct {
		Rule []map[string]any `toml:"rule"`
	}
	if _, err := toml.Decode(string(src), &raw); err == nil && len(key) > 0 && key[0] == "rule" {
		known := ruleKeys()
		for i, r := range raw.Rule {
			names := make([]string, 0, len(r))
			for k := range r {
				names = append(names, k)
			}
			slices.Sort(names)
			for _, k := range names {
				if !known[k] {
					name, _ := r["name"].(string)
					return fmt.Errorf("rule[%d] (%q): unknown key %s", i, name, k)
				}
			}
		}
	}
	return fmt.Errorf("rule table: unknown key %s (a rule table holds [[rule]] tables only)", key.String())
}

// ruleKeys are RuleConfig's TOML keys, its filters' included.
func ruleKeys() map[string]bool {
	keys := make(map[string]bool)
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag != "" {
				keys[tag] = true
			}
		}
	}
	walk(reflect.TypeFor[RuleConfig]())
	return keys
}

// CheckRules parses and compiles a rule table alone: the error names the
// rule (index and name) and the key, as the policy's load does.
func CheckRules(src []byte) ([]RuleConfig, error) {
	rules, err := ParseRules(src)
	if err != nil {
		return nil, err
	}
	if _, _, err := compileRules(rules); err != nil {
		return nil, err
	}
	return rules, nil
}

// EncodeRules is rules as a rule table's TOML text, keys left at their
// zero value omitted (they decode the same).
func EncodeRules(rules []RuleConfig) ([]byte, error) {
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(rulesDoc{Rule: rules}); err != nil {
		return nil, err
	}
	full := b.Bytes()
	var short bytes.Buffer
	for line := range bytes.Lines(full) {
		if !bytes.HasSuffix(bytes.TrimSpace(line), []byte(`= ""`)) {
			short.Write(line)
		}
	}
	// Keep the short form only when it reads back the same.
	if again, err := ParseRules(short.Bytes()); err == nil && reflect.DeepEqual(again, rules) {
		return short.Bytes(), nil
	}
	return full, nil
}

// rulesSource picks the rule table of a policy file (docs/POLICY.md,
// "Editing the rules"): the cluster's when o gives one, else the
// rules_file when it exists (or an edit of it o gives), else the file's
// own [[rule]] tables. It also
// returns the node's own table's text (the rules file's, or the inline
// rules encoded), which a cluster node compares with the cluster's.
func rulesSource(cfg *Config, dir string, o Options) (rules []RuleConfig, from, file string, text, local []byte, err error) {
	if cfg.RulesFile != "" {
		file = resolve(dir, cfg.RulesFile)
	}
	from, rules = RulesInline, cfg.Rule
	var src []byte
	rerr := fs.ErrNotExist
	if file != "" {
		src, rerr = os.ReadFile(file)
	}
	switch {
	case rerr == nil:
		if rules, err = ParseRules(src); err != nil {
			return nil, "", "", nil, nil, fmt.Errorf("rules_file %s: %w", file, err)
		}
		from, local = RulesFile, src
	case errors.Is(rerr, fs.ErrNotExist):
		// Not written yet: the inline rules until the first edit.
	default:
		return nil, "", "", nil, nil, fmt.Errorf("rules_file: %w", rerr)
	}
	if local == nil {
		if local, err = EncodeRules(cfg.Rule); err != nil {
			return nil, "", "", nil, nil, fmt.Errorf("rule: %w", err)
		}
	}
	text = local
	switch {
	case o.Rules == nil:
	case o.Rules.Shared:
		if rules, err = ParseRules(o.Rules.Text); err != nil {
			return nil, "", "", nil, nil, fmt.Errorf("the cluster's rule table (revision %d): %w", o.Rules.Revision, err)
		}
		from, text = RulesCluster, o.Rules.Text
	default:
		if rules, err = ParseRules(o.Rules.Text); err != nil {
			return nil, "", "", nil, nil, err
		}
		from, text, local = RulesFile, o.Rules.Text, o.Rules.Text
	}
	return rules, from, file, text, local, nil
}

// RulesInfo describes the rule table in force for the admin API.
type RulesInfo struct {
	Source   string     `json:"source"` // policy_file, rules_file or cluster
	File     string     `json:"file,omitempty"`
	Revision uint64     `json:"revision,omitempty"` // the cluster bucket's
	Rules    []RuleInfo `json:"rules"`
	Text     string     `json:"toml"`
}

// RuleInfo is one rule, in order.
type RuleInfo struct {
	Name string `json:"name"`
	Hits uint64 `json:"hits"` // messages it applied to since the policy loaded
}

// Rules describes p's rule table; zero for a nil p.
func (p *Policy) Rules() RulesInfo {
	if p == nil {
		return RulesInfo{Rules: []RuleInfo{}}
	}
	in := RulesInfo{Source: p.rulesFrom, File: p.rulesFile, Revision: p.rulesRev, Text: string(p.rulesText), Rules: make([]RuleInfo, len(p.rule))}
	for i := range p.rule {
		in.Rules[i] = RuleInfo{Name: p.rule[i].name, Hits: p.ruleHits[i].Load()}
	}
	return in
}

// RulesText is the TOML text of the rule table in force.
func (p *Policy) RulesText() []byte {
	if p == nil {
		return nil
	}
	return p.rulesText
}

// LocalRulesText is the node's own rule table (its rules file, or its
// policy file's [[rule]] tables encoded), whatever table is in force.
func (p *Policy) LocalRulesText() []byte {
	if p == nil {
		return nil
	}
	return p.localRules
}

// RulesFile is the resolved rules_file ("" for none).
func (p *Policy) RulesFile() string {
	if p == nil {
		return ""
	}
	return p.rulesFile
}

// RuleCount is the number of rules in force.
func (p *Policy) RuleCount() int {
	if p == nil {
		return 0
	}
	return len(p.rule)
}

// RulesRevision is the cluster bucket's revision of the rule table in
// force, 0 outside a cluster (read at each metrics scrape: Rules copies
// the table's text).
func (p *Policy) RulesRevision() uint64 {
	if p == nil {
		return 0
	}
	return p.rulesRev
}

// WriteRulesFile writes text to p's rules file atomically (a temporary
// file, fsync, rename, fsync of the folder), as the list files.
func (p *Policy) WriteRulesFile(text []byte) error {
	if p.RulesFile() == "" {
		return ErrNoRulesFile
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(p.rulesFile); err == nil {
		mode = fi.Mode().Perm()
	}
	return atomicfile.Write(p.rulesFile, text, mode)
}

// WithRule is p's rule table with rc inserted at position pos (0 first;
// past the end or negative: last), as TOML text. A name in use is refused.
func (p *Policy) WithRule(rc RuleConfig, pos int) ([]byte, error) {
	cur := p.ruleConfigs()
	for _, r := range cur {
		if r.Name == rc.Name {
			return nil, fmt.Errorf("rule %q: the name is in use", rc.Name)
		}
	}
	if pos < 0 || pos > len(cur) {
		pos = len(cur)
	}
	return EncodeRules(slices.Insert(slices.Clone(cur), pos, rc))
}

// WithoutRule is p's rule table without the rule called name, as TOML
// text; ErrNoRule when there is none.
func (p *Policy) WithoutRule(name string) ([]byte, error) {
	cur := p.ruleConfigs()
	i := slices.IndexFunc(cur, func(r RuleConfig) bool { return r.Name == name })
	if i < 0 {
		return nil, ErrNoRule
	}
	return EncodeRules(slices.Delete(slices.Clone(cur), i, i+1))
}

func (p *Policy) ruleConfigs() []RuleConfig {
	if p == nil {
		return nil
	}
	return p.ruleCfg
}

// InlineRulesIgnored is the number of the policy file's own [[rule]]
// tables left out because the rules file's or the cluster's table is in
// force.
func (p *Policy) InlineRulesIgnored() int {
	if p == nil {
		return 0
	}
	return p.inlineIgnored
}

// SetRulesRevision records the cluster revision of p's rule table, known
// once the table is shared; only before p is put in force.
func (p *Policy) SetRulesRevision(rev uint64) { p.rulesRev = rev }
