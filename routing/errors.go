package routing

import (
	"errors"
	"strconv"
)

// Sentinel errors of Compile, each wrapped in a *ConfigError that names the
// route and the key; match with errors.Is.
var (
	ErrName             = errors.New("routing: bad or missing route name")
	ErrDuplicateName    = errors.New("routing: route name used twice")
	ErrUnknownKind      = errors.New("routing: unknown route kind (use static, default, roundrobin, weighted or failover)")
	ErrDefaultNotLast   = errors.New("routing: a default route must be the last MT route")
	ErrDefaultFilters   = errors.New("routing: a default route takes no filters")
	ErrUnreachable      = errors.New("routing: route has no filters, so it matches everything and the routes after it can never match")
	ErrConnectorCount   = errors.New("routing: wrong number of connectors for this kind")
	ErrConnectorName    = errors.New("routing: bad connector name")
	ErrUnknownConnector = errors.New("routing: unknown connector")
	ErrWeights          = errors.New("routing: bad weights")
	ErrRate             = errors.New("routing: rate must be a finite number >= 0")
	ErrUser             = errors.New("routing: bad or unknown user")
	ErrGroup            = errors.New("routing: bad or unknown group")
	ErrNotForMT         = errors.New("routing: filter does not apply to MT routes")
	ErrNotForMO         = errors.New("routing: filter does not apply to MO routes")
	ErrRegex            = errors.New("routing: bad regular expression")
	ErrAddress          = errors.New("routing: bad address or prefix")
	ErrDataCoding       = errors.New("routing: data coding must be 0..255")
	ErrTimeWindow       = errors.New("routing: bad time window")
	ErrDays             = errors.New("routing: bad days")
	ErrDateWindow       = errors.New("routing: bad date window")
	ErrTimeZone         = errors.New("routing: bad time zone")
	ErrURL              = errors.New("routing: bad MO route url, method, ack_body or secret")
	ErrNetwork          = errors.New("routing: bad network name")
	ErrTag              = errors.New("routing: bad tag")
)

// ConfigError is one problem found by Compile. Key is the config key in the
// config package's notation ("mt_route[3].dest_regex"), so a caller can map
// it to a file position; Route is the route's name when it has one.
type ConfigError struct {
	Key    string
	Route  string
	Detail string // what exactly is wrong with the value ("" when Err says it all)
	Err    error  // one of the sentinels above
}

// Error formats e as `routing: mt_route[3] "fr": dest_regex: <sentinel text>: <detail>`.
func (e *ConfigError) Error() string {
	s := "routing: " + e.Key
	if e.Route != "" {
		s += " (" + strconv.Quote(e.Route) + ")"
	}
	msg := e.Err.Error()
	if len(msg) > len("routing: ") && msg[:len("routing: ")] == "routing: " {
		msg = msg[len("routing: "):]
	}
	s += ": " + msg
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the sentinel.
func (e *ConfigError) Unwrap() error { return e.Err }
