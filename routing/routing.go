// Package routing picks where a message goes: ordered MT routes (first match
// wins) choose an upstream connector and a billing rate, ordered MO routes
// choose the user that receives a mobile-originated message.
//
// Compile turns the [[mt_route]] and [[mo_route]] config into an immutable
// Table; a Router holds the current Table behind an atomic pointer so a reload
// builds a new Table and swaps it in while messages keep flowing. Matching is
// pure logic: no I/O, no logging, no locks, and no allocation (see
// allocation_test.go). The only mutable state in a Table is each balancing
// route's atomic position counter.
//
// The filters and route kinds, their TOML shape and the mapping from Jasmin's
// router are documented in docs/ROUTING.md.
package routing

import (
	"strconv"
	"sync/atomic"
	"time"
)

// MT is what an MT route is matched against. The engine fills it from a
// decoded submit_sm (or one destination of a submit_multi, or a data_sm).
//
// The byte slices are views into the caller's buffers: RouteMT reads them
// only during the call and keeps no reference.
type MT struct {
	User  string // system_id of the submitting ESME
	Group string // that user's group ("" when none)

	Source []byte // source_addr octets
	Dest   []byte // destination_addr octets; one leading '+' is ignored by dest_prefixes
	// Content is the text the content_regex sees: short_message, or
	// message_payload when short_message is empty, as raw octets. A caller
	// that wants UCS-2 text matched as UTF-8 transcodes into its own scratch
	// buffer first.
	Content []byte

	DataCoding byte // data_coding octet, SMPP 3.4 §5.2.19
	// Network is the destination's current network from the policy's
	// portability lookup ("" when unknown), for the networks filter.
	Network string
	// Tags are the tags the policy's rules set (a shared read-only slice;
	// nil = none), for the tags filter.
	Tags []string
	// Now is the instant the time filters (time_window, days, date_window)
	// compare against; it must be set whenever the table has such filters.
	Now time.Time
}

// MO is what an MO route is matched against. It has no user or group (the
// route chooses the user); Connector names the upstream connector the
// deliver_sm arrived on ("" for an operator-injected MO), which the
// from_connectors filter checks. Views are kept only during RouteMO.
type MO struct {
	Connector  string
	Source     []byte
	Dest       []byte
	Content    []byte
	DataCoding byte
	Now        time.Time
}

// ConnectorState tells the router whether a connector can take messages now.
// Up is called with ids of the Table being routed on (see Table.ConnectorID),
// possibly from many goroutines at once, and must not block. A nil
// ConnectorState means every connector is up.
type ConnectorState interface {
	Up(id int) bool
}

// UpFunc adapts a function to ConnectorState.
type UpFunc func(id int) bool

// Up calls f(id).
func (f UpFunc) Up(id int) bool { return f(id) }

// Kind is an MT route kind: how a route chooses among its connectors.
type Kind uint8

// Route kinds; the config spelling is in Kind.String.
const (
	// KindStatic has one connector. When it is down the route still answers
	// with it and Decision.AllDown set: the message waits for it.
	KindStatic Kind = iota + 1
	// KindDefault is a static route without filters that matches every
	// message; it must be the last MT route.
	KindDefault
	// KindRoundRobin takes its connectors in turn (an atomic counter per
	// route), skipping those that are down.
	KindRoundRobin
	// KindWeighted spreads messages in proportion to weights, in the smooth
	// weighted round-robin order (nginx's algorithm) precomputed at Compile
	// time; when the scheduled connector is down, the message goes to the
	// connectors that are up in proportion to their weights.
	KindWeighted
	// KindFailover takes the first connector that is up, in the listed order.
	KindFailover
)

var kindNames = [...]string{KindStatic: "static", KindDefault: "default", KindRoundRobin: "roundrobin", KindWeighted: "weighted", KindFailover: "failover"}

// String returns the config spelling ("static", "default", "roundrobin",
// "weighted", "failover").
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	for k, n := range kindNames {
		if n != "" && n == s {
			return Kind(k), true
		}
	}
	return 0, false
}

// Reason says how a routing call ended, for logs and metrics.
type Reason uint8

// Routing outcomes.
const (
	// ReasonRouted: a route matched and the chosen connector is up.
	ReasonRouted Reason = iota
	// ReasonAllDown: a route matched but every connector it may use is down;
	// the Decision still names one, and the message waits for it.
	ReasonAllDown
	// ReasonNoMatch: routes exist but none matched; answer ESME_RINVDSTADR.
	ReasonNoMatch
	// ReasonNoRoutes: the table has no routes of this direction at all;
	// answer ESME_RINVDSTADR.
	ReasonNoRoutes
)

var reasonNames = [...]string{"routed", "all_down", "no_match", "no_routes"}

// String returns a metric-label spelling: routed, all_down, no_match, no_routes.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Decision is the outcome of RouteMT.
type Decision struct {
	// Route is the matched route (nil when none matched). It belongs to the
	// Table that produced the Decision and is read-only.
	Route *MTRoute
	// Connector is the chosen connector id, an index into the producing
	// Table's ConnectorNames. Meaningful only when a route matched.
	Connector int
	// Rate is Route.Rate: the price of one message part on this route.
	Rate float64
	// Failover lists the route's other connectors in the order to try when
	// Connector cannot take the message (its queue is full): the ones after
	// it for failover, the next ones in rotation for round robin and
	// weighted, none for static and default. Connectors that were down at
	// decision time are included, so check ConnectorState again before using
	// one. It is a read-only view into the Table, valid as long as the Table.
	Failover []int
	// AllDown is set when every connector the route may use was down; the
	// caller holds the message for Connector (it expires there if nothing
	// comes back up in time).
	AllDown bool
	// Reason is the outcome, also set when RouteMT returns false.
	Reason Reason
}

// MTRoute is one compiled [[mt_route]]. All fields are read-only.
type MTRoute struct {
	Name       string
	Index      int     // position among the [[mt_route]] entries, from 0
	Kind       Kind    // how a connector is chosen
	Connectors []int   // connector ids, in config order
	Weights    []int   // per connector, KindWeighted only
	Rate       float64 // price of one message part; 0 = free

	filter filter
	ring   []int   // Connectors twice over: rotations for Failover views
	sched  []uint8 // KindWeighted: smooth WRR order, indices into Connectors
	next   atomic.Uint64
}

// MORoute is one compiled [[mo_route]]. All fields are read-only.
type MORoute struct {
	Name  string
	Index int    // position among the [[mo_route]] entries, from 0
	User  string // system_id that receives the matched MO; "" for a URL route
	// URL route: where the matched MO goes, Method "GET" or "POST", the
	// acknowledgement body asked ("" = any 2xx) and the signing secret
	// ("" = unsigned).
	URL, Method, AckBody, Secret string

	filter filter
}

// Table is an immutable compiled routing configuration. Its methods are safe
// for concurrent use. Build one with Compile.
type Table struct {
	mt       []*MTRoute
	mo       []*MORoute
	mtPrefix prefixTrie
	moPrefix prefixTrie
	mtOpen   []int32 // MT routes without dest_prefixes, in order
	moOpen   []int32 // MO routes without dest_prefixes, in order
	names    []string
	ids      map[string]int
}

// ConnectorID returns the id of a connector name used by this table's MT
// routes (or listed in Config.Connectors).
func (t *Table) ConnectorID(name string) (int, bool) {
	if t == nil {
		return 0, false
	}
	id, ok := t.ids[name]
	return id, ok
}

// ConnectorNames returns connector names indexed by id. The slice belongs to
// the Table: do not modify it.
func (t *Table) ConnectorNames() []string {
	if t == nil {
		return nil
	}
	return t.names
}

// MTRoutes returns the MT routes in match order. Read-only view.
func (t *Table) MTRoutes() []*MTRoute {
	if t == nil {
		return nil
	}
	return t.mt
}

// MORoutes returns the MO routes in match order. Read-only view.
func (t *Table) MORoutes() []*MORoute {
	if t == nil {
		return nil
	}
	return t.mo
}

// Router holds the current Table. Load and Swap are safe for concurrent use.
//
// Connector ids are per Table: route with one Table value (Load it once per
// message or batch) and resolve ids with that same Table, or pass
// Config.Connectors so ids stay the same across reloads.
type Router struct {
	p atomic.Pointer[Table]
}

// NewRouter returns a Router holding t (which may be nil: nothing routes).
func NewRouter(t *Table) *Router {
	r := &Router{}
	r.p.Store(t)
	return r
}

// Load returns the current Table (nil if none was ever set; a nil *Table
// routes nothing, with ReasonNoRoutes).
func (r *Router) Load() *Table { return r.p.Load() }

// Swap installs t and returns the Table it replaces. Calls already routing
// on the old Table finish on it.
func (r *Router) Swap(t *Table) *Table { return r.p.Swap(t) }
