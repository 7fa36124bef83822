package config

// MTRoute is one [[mt_route]], mirroring routing.MTRouteConfig. Config checks
// only that the connectors, users and groups it names exist; routing.Compile
// checks the rest (kinds, counts, regexps, windows).
type MTRoute struct {
	Name       string   `toml:"name"`
	Kind       string   `toml:"kind"` // static, default, roundrobin, weighted, failover
	Connectors []string `toml:"connectors"`
	Weights    []int    `toml:"weights"` // weighted only: one per connector
	// Rate is charged per message part on this route; 0 = free.
	Rate float64 `toml:"rate"`

	RouteFilter
}

// MORoute is one [[mo_route]], mirroring routing.MORouteConfig: it names
// a user or a url (with method, ack_body and secret).
type MORoute struct {
	Name    string `toml:"name"`
	User    string `toml:"user"`     // system_id that receives the matched MO
	URL     string `toml:"url"`      // or the http(s) URL it is sent to
	Method  string `toml:"method"`   // "GET" or "POST" (default)
	AckBody string `toml:"ack_body"` // the 2xx answer's body, "" = any
	Secret  string `toml:"secret"`   // signs the requests; "file:"/"env:" allowed

	RouteFilter
}

// RouteFilter holds a route's filter keys, which sit directly in the
// route's table. Its fields are those of routing.FilterConfig, in the same
// order and of the same types, so cmd/smppd converts with
// routing.FilterConfig(r.RouteFilter); keep them in step.
type RouteFilter struct {
	Users          []string `toml:"users"`           // MT only
	Groups         []string `toml:"groups"`          // MT only
	FromConnectors []string `toml:"from_connectors"` // MO only
	SourceAddrs    []string `toml:"source_addrs"`    // exact or "re:<RE2>"
	DestPrefixes   []string `toml:"dest_prefixes"`
	DestRegex      string   `toml:"dest_regex"`
	ContentRegex   string   `toml:"content_regex"`
	DataCodings    []int    `toml:"data_codings"`
	Networks       []string `toml:"networks"`    // MT only: the policy lookup's network
	Tags           []string `toml:"tags"`        // MT only: a policy rule's set_tags
	TimeWindow     string   `toml:"time_window"` // "HH:MM-HH:MM[,...]"
	Days           string   `toml:"days"`        // "mon-fri", "sat,sun"
	DateWindow     string   `toml:"date_window"` // "YYYY-MM-DD/YYYY-MM-DD"
	TimeZone       string   `toml:"time_zone"`   // IANA name; "" = Local
}
