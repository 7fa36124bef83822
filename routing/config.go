package routing

// Config is the routing part of smppd's configuration: the ordered
// [[mt_route]] and [[mo_route]] arrays, plus optional lists of known names
// that the caller fills in from the rest of the config for cross-checks.
type Config struct {
	MT []MTRouteConfig `toml:"mt_route"`
	MO []MORouteConfig `toml:"mo_route"`

	// Connectors, when non-nil, lists every configured connector name; a
	// connector's id is its position here, so ids stay the same across
	// reloads that keep this list, and a route naming any other connector is
	// an error. An empty entry is a vacant id (a removed connector's) that
	// no route may name. When nil, ids are given in order of first appearance in the
	// MT routes.
	Connectors []string `toml:"-"`
	// Users, when non-nil, lists the known system_ids: every MO route's user
	// and every MT users filter entry must be one of them.
	Users []string `toml:"-"`
	// Groups, when non-nil, lists the known groups for MT groups filters.
	Groups []string `toml:"-"`
}

// MTRouteConfig is one [[mt_route]]. The filter keys sit directly in the
// route's table (FilterConfig is embedded, so TOML flattens it).
type MTRouteConfig struct {
	// Name identifies the route in logs, metrics and errors: 1..64 of
	// A-Z a-z 0-9 _ . : -, unique among MT routes. Required.
	Name string `toml:"name"`
	// Kind is static, default, roundrobin, weighted or failover. Required.
	Kind string `toml:"kind"`
	// Connectors are the upstream connector names: exactly one for static
	// and default, one or more (no repeats, at most 64) for the others.
	Connectors []string `toml:"connectors"`
	// Weights, for kind weighted only: one integer 1..10000 per connector.
	Weights []int `toml:"weights"`
	// Rate is the price charged per message part on this route; 0 (the
	// default) is free. Must be finite and >= 0.
	Rate float64 `toml:"rate"`

	FilterConfig
}

// MORouteConfig is one [[mo_route]]: it names the system_id that receives
// the matched MO (User) or the HTTP URL it is sent to (URL), not both.
type MORouteConfig struct {
	// Name as for MT routes, unique among MO routes. Required.
	Name string `toml:"name"`
	// User is the system_id that receives the matched MO.
	User string `toml:"user"`
	// URL is the absolute http:// or https:// URL the matched MO is sent
	// to (Jasmin's HTTP client connector), at most 2048 octets.
	URL string `toml:"url"`
	// Method is "GET" or "POST" (the default), any case; url only.
	Method string `toml:"method"`
	// AckBody, when set, is the body the URL's 2xx answer must carry
	// ("ACK/Jasmin" as Jasmin requires); at most 255 printable ASCII
	// octets; url only.
	AckBody string `toml:"ack_body"`
	// Secret, when set, signs each request (X-Smppd-Signature); 16..1024
	// octets; url only.
	Secret string `toml:"secret"`

	FilterConfig
}

// FilterConfig holds a route's filters. Every field left empty is no filter;
// the fields that are set must all match (AND); a list matches when any of
// its entries does (OR). A route with no filter at all matches everything and
// must therefore be the last of its array.
type FilterConfig struct {
	// Users: the submitting system_id is one of these. MT only.
	Users []string `toml:"users"`
	// Groups: the submitting user's group is one of these. MT only.
	Groups []string `toml:"groups"`
	// FromConnectors: the MO arrived on one of these connectors (Jasmin's
	// ConnectorFilter). MO only.
	FromConnectors []string `toml:"from_connectors"`

	// SourceAddrs: source_addr equals one entry, or matches one entry of the
	// form "re:<regexp>" (Go RE2 syntax, unanchored: write ^ and $).
	SourceAddrs []string `toml:"source_addrs"`
	// DestPrefixes: destination_addr starts with one of these. One leading
	// '+' is ignored on both sides. Thousands are fine: all routes' prefixes
	// share one trie, walked once per message.
	DestPrefixes []string `toml:"dest_prefixes"`
	// DestRegex: destination_addr matches this RE2 regexp (unanchored).
	DestRegex string `toml:"dest_regex"`
	// ContentRegex: the message content matches this RE2 regexp
	// (unanchored, on raw octets; see MT.Content).
	ContentRegex string `toml:"content_regex"`
	// DataCodings: data_coding is one of these (0..255).
	DataCodings []int `toml:"data_codings"`
	// Networks: the destination's current network, as the policy's
	// portability lookup found it, is one of these (1..64 of A-Z a-z 0-9
	// _ . : -). A message with no network known matches no such route. MT
	// only.
	Networks []string `toml:"networks"`
	// Tags: one of the tags a policy rule set on the message (set_tags)
	// is one of these (names as networks). A message with no tags matches
	// no such route. MT only.
	Tags []string `toml:"tags"`

	// TimeWindow: the local time of day is inside one of these windows,
	// "HH:MM-HH:MM" or "HH:MM:SS-HH:MM:SS", comma-separated; start
	// inclusive, end exclusive, "24:00" allowed as an end, a start later than
	// the end wraps past midnight. Jasmin's "HH:MM:SS;HH:MM:SS" is accepted.
	TimeWindow string `toml:"time_window"`
	// Days: the weekday is one of these, e.g. "mon-fri", "sat,sun",
	// "fri-mon". With a window that wraps past midnight, the day is the one
	// the window opened on (Friday's 22:00-06:00 window includes Saturday
	// 03:00).
	Days string `toml:"days"`
	// DateWindow: the local date is inside "YYYY-MM-DD/YYYY-MM-DD" (both
	// ends inclusive), or is "YYYY-MM-DD". Jasmin's ";" separator is
	// accepted.
	DateWindow string `toml:"date_window"`
	// TimeZone is the IANA zone name that TimeWindow, Days and DateWindow
	// are read in, such as "Europe/Paris" or "UTC". Default "Local": the
	// server's zone, as Jasmin does. Setting it without any of those three is
	// an error.
	TimeZone string `toml:"time_zone"`
}

// empty reports whether no filter field is set.
func (f *FilterConfig) empty() bool {
	return len(f.Users) == 0 && len(f.Groups) == 0 && len(f.FromConnectors) == 0 &&
		len(f.SourceAddrs) == 0 && len(f.DestPrefixes) == 0 && f.DestRegex == "" &&
		f.ContentRegex == "" && len(f.DataCodings) == 0 && len(f.Networks) == 0 && len(f.Tags) == 0 && f.TimeWindow == "" &&
		f.Days == "" && f.DateWindow == "" && f.TimeZone == ""
}
