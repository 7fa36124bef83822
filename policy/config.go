package policy

import (
	"github.com/smppd/smppd/internal/units"
	"github.com/smppd/smppd/routing"
)

// Config is a policy file (docs/POLICY.md). Every table is optional; an
// empty file is a policy that passes everything.
type Config struct {
	Normalise []NormaliseConfig `toml:"normalise"`
	Sender    []SenderConfig    `toml:"sender"`
	List      []ListConfig      `toml:"list"`
	Rule      []RuleConfig      `toml:"rule"`
	// RulesFile: a file of [[rule]] tables that, once it exists, is the
	// rule table instead of Rule; the admin API writes the table there
	// (docs/POLICY.md, "Editing the rules"). Relative to the policy file.
	RulesFile string `toml:"rules_file"`

	// Lookup ([lookup]): number portability (lookupconfig.go).
	Lookup LookupConfig `toml:"lookup"`
	// Limits ([[limit]]): per-sender and per-route buckets (limits.go).
	Limits []LimitConfig `toml:"limit"`
}

// NormaliseConfig is one [[normalise]]: how the numbers of the messages it
// selects are brought to the canonical international form (digits, with
// the country code, no '+'; TON 1 international, NPI 1 ISDN). The first
// entry that selects a message applies.
type NormaliseConfig struct {
	// Users, Groups: the MT submitter is one of these (either matches);
	// both empty with no Connectors: every MT message.
	Users  []string `toml:"users"`
	Groups []string `toml:"groups"`
	// Connectors: MO arriving on one of these is normalised by this entry,
	// and MT routed to one of them leaves in Outbound form.
	Connectors []string `toml:"connectors"`

	CountryCode         string `toml:"country_code"`         // 1..3 digits; required
	NationalPrefix      string `toml:"national_prefix"`      // default "0"; "-" = none
	InternationalPrefix string `toml:"international_prefix"` // default "00"; "-" = none
	// Fields: "both" (default), "source" or "dest".
	Fields string `toml:"fields"`
	// MinDigits, MaxDigits bound the canonical number's digits (country
	// code included); defaults 8 and 15 (ITU-T E.164 §6.1).
	MinDigits int `toml:"min_digits"`
	MaxDigits int `toml:"max_digits"`
	// Alphanumeric: "allow" (default) or "refuse" alphanumeric senders.
	Alphanumeric string `toml:"alphanumeric"`
	// ShortCodeMax: a numeric source of at most this many digits is a
	// short code, left as sent (TON 3 network specific). Default 6; 0 = none.
	ShortCodeMax *int `toml:"short_code_max"`
	// DestStatus, SourceStatus: the refusals' SMPP statuses (names such as
	// "ESME_RINVDSTADR" or numbers "0x0B"); defaults ESME_RINVDSTADR and
	// ESME_RINVSRCADR.
	DestStatus   string `toml:"dest_status"`
	SourceStatus string `toml:"source_status"`
	// Outbound, for Connectors: "international" (default: digits, TON 1),
	// "plus" ("+" and digits, TON 1) or "national" (national prefix and the
	// national number when the country code is ours, TON 2).
	Outbound string `toml:"outbound"`
}

// SenderConfig is one [[sender]]: the group level (Groups set) or the
// global level (Groups empty, at most one) of the users file's
// source_addrs and default_source. A user with its own source_addrs is
// judged by them alone.
type SenderConfig struct {
	Groups []string `toml:"groups"`
	// SourceAddrs: the users file's patterns ("exact", "prefix*", "*",
	// "re:<RE2>" anchored).
	SourceAddrs []string `toml:"source_addrs"`
	// SourceFile: more patterns, one a line ('#' comments).
	SourceFile string `toml:"source_file"`
	// DefaultSource replaces an empty source_addr (the user's own
	// default_source comes first), and a refused one under "replace".
	DefaultSource string `toml:"default_source"`
	// NotAllowed: "refuse" (default) or "replace" (by DefaultSource).
	NotAllowed string `toml:"not_allowed"`
	// Status refuses; default ESME_RINVSRCADR.
	Status string `toml:"status"`
}

// ListConfig is one [[list]]: exact numbers and prefixes to block or allow.
type ListConfig struct {
	// Name: 1..64 of A-Z a-z 0-9 _ . : -, unique; it names the list in
	// the admin API, metrics and logs.
	Name string `toml:"name"`
	// Kind: "block" (a hit is refused) or "allow" (a miss is refused).
	Kind string `toml:"kind"`
	// Field: "dest" or "source".
	Field string `toml:"field"`
	// Users: the list applies to these system_ids only; empty = everyone.
	Users []string `toml:"users"`
	// File: entries, one a line: digits (a leading '+' ignored) for an
	// exact number, digits and '*' for a prefix, any other text as an
	// exact alphanumeric sender; '#' comments. Edits through the admin API
	// are written back to it. Up to 1,000,000 entries.
	File string `toml:"file"`
	// Entries: more entries in the same form.
	Entries []string `toml:"entries"`
	// Status: the refusal; default ESME_RINVDSTADR for dest lists,
	// ESME_RINVSRCADR for source lists.
	Status string `toml:"status"`
	// MO: the list applies to MO as well (a source list to the MO's
	// sender, a dest list to the number it was sent to); a hit drops the
	// MO with the status to its connector.
	MO bool `toml:"mo"`
}

// RuleConfig is one [[rule]]: the routes' filters, then what to do to a
// message they match. Rules are tried in order; the first that matches
// applies and the rest are skipped (as routes and Jasmin's interceptors).
type RuleConfig struct {
	Name string `toml:"name"`
	routing.FilterConfig

	// SourcePrefix, DestPrefix: ["from", "to"]: an address starting with
	// from has it replaced by to.
	SourcePrefix []string `toml:"source_prefix"`
	DestPrefix   []string `toml:"dest_prefix"`
	// SourceRegex, DestRegex rewrite: ["RE2", "replacement"] with $1
	// style references; the first match is replaced.
	SourceRewrite []string `toml:"source_rewrite"`
	DestRewrite   []string `toml:"dest_rewrite"`

	// The set_ actions; the filters' own keys (data_codings, tags) stay
	// filters.
	Priority   *int            `toml:"set_priority"`    // 0..3
	Validity   *units.Duration `toml:"set_validity"`    // > 0
	DataCoding *int            `toml:"set_data_coding"` // 0..255
	Tags       []string        `toml:"set_tags"`        // for routes' tags filter
	// Reject: refuse the message with this status instead.
	Reject string `toml:"reject"`
}
