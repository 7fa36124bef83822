package policy

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/accounts"
)

// LimitConfig is one [[limit]] of the policy file: a token bucket, like a
// user's throughput and burst, on the MT messages of one sender
// (source_addr, as it leaves the policy) or of one MT route, in addition
// to the user's own. Message parts are counted, as for users. A refusal
// answers ESME_RTHROTTLED.
type LimitConfig struct {
	// Sender is an exact source_addr (1..21 octets); or
	Sender string `toml:"sender"`
	// Route is an [[mt_route]] name. Exactly one of the two is set.
	Route string `toml:"route"`
	// Rate is message parts per second, > 0 and at most 1e6.
	Rate float64 `toml:"rate"`
	// Burst is how many parts may go at once; default (0) one second's
	// worth, ceil(rate); at most 1e6.
	Burst int `toml:"burst"`
}

// MaxLimits bounds the [[limit]] entries of a policy file.
const MaxLimits = 10_000

// Validate checks limit[i]; errors name the key as limit[i].<key>.
func (c *LimitConfig) Validate(i int) error {
	at := "limit[" + strconv.Itoa(i) + "]."
	switch {
	case (c.Sender == "") == (c.Route == ""):
		return fmt.Errorf("%ssender/route: set exactly one of them", at)
	case len(c.Sender) > 21:
		return fmt.Errorf("%ssender: %q is longer than 21 octets", at, c.Sender)
	case c.Route != "" && !validNetwork(c.Route):
		return fmt.Errorf("%sroute: %q is not a route name (1..64 of A-Z a-z 0-9 _ . : -)", at, c.Route)
	case !(c.Rate > 0) || c.Rate > 1e6 || math.IsInf(c.Rate, 0):
		return fmt.Errorf("%srate: %v must be > 0 and at most 1e6 parts per second", at, c.Rate)
	case c.Burst < 0 || c.Burst > 1_000_000:
		return fmt.Errorf("%sburst: %d is outside 0..1000000", at, c.Burst)
	}
	return nil
}

// ValidateLimits checks every [[limit]] (Validate) and that no sender or
// route has two; errors name the key.
func ValidateLimits(cfgs []LimitConfig) error {
	if len(cfgs) > MaxLimits {
		return fmt.Errorf("limit: %d entries, at most %d", len(cfgs), MaxLimits)
	}
	seen := make(map[string]int, len(cfgs))
	for i := range cfgs {
		c := &cfgs[i]
		if err := c.Validate(i); err != nil {
			return err
		}
		scope, name := "sender", c.Sender
		if c.Route != "" {
			scope, name = "route", c.Route
		}
		if j, dup := seen[scope+"\x00"+name]; dup {
			return fmt.Errorf("limit[%d].%s: %q has a limit already (limit[%d])", i, scope, name, j)
		}
		seen[scope+"\x00"+name] = i
	}
	return nil
}

// Limits holds the per-sender and per-route buckets. Apply swaps a new set
// in at a reload; a bucket whose rate and burst did not change keeps its
// state, so a SIGHUP does not refill every bucket. Take and Give read the
// current set without locking or allocating. A nil *Limits limits nothing.
type Limits struct {
	t     atomic.Pointer[limitTable]
	mu    sync.Mutex    // Apply and SetShare
	share atomic.Uint64 // math.Float64bits of this node's part (SetShare); 0 = all
}

type limitTable struct {
	senders, routes map[string]*limitBucket
}

type limitBucket struct {
	b           *accounts.Bucket
	rate        float64 // as configured, before the share
	burst       int
	share       float64 // the part of rate and burst b allows
	refused     *atomic.Uint64
	name, scope string
}

// newLimitBucket is a full bucket of share f of rate and burst: burst 0 is
// one second of the configured rate, and a share keeps at least 1.
func newLimitBucket(rate float64, burst int, f float64, name, scope string) *limitBucket {
	bu := burst
	if bu <= 0 {
		bu = int(math.Max(1, math.Ceil(rate)))
	}
	bu = max(1, int(math.Round(float64(bu)*f)))
	return &limitBucket{b: accounts.NewBucket(rate*f, bu), rate: rate, burst: burst, share: f,
		refused: new(atomic.Uint64), name: name, scope: scope}
}

// LimitHit says which limit refused a message.
type LimitHit uint8

// LimitHit values.
const (
	NoLimit     LimitHit = iota // the message may go
	SenderLimit                 // its sender's bucket was empty
	RouteLimit                  // its route's bucket was empty
)

// NewLimits returns an empty set.
func NewLimits() *Limits { return &Limits{} }

// Apply validates cfgs and swaps them in; on error the old set stays.
func (l *Limits) Apply(cfgs []LimitConfig) error {
	if err := ValidateLimits(cfgs); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.part()
	old := l.t.Load()
	t := &limitTable{}
	for i := range cfgs {
		c := &cfgs[i]
		m, name, scope, prev := &t.senders, c.Sender, "sender", (map[string]*limitBucket)(nil)
		if c.Route != "" {
			m, name, scope = &t.routes, c.Route, "route"
		}
		if old != nil {
			prev = old.senders
			if scope == "route" {
				prev = old.routes
			}
		}
		if *m == nil {
			*m = make(map[string]*limitBucket)
		}
		if p, ok := prev[name]; ok && p.rate == c.Rate && p.burst == c.Burst && p.share == f {
			(*m)[name] = p
			continue
		}
		(*m)[name] = newLimitBucket(c.Rate, c.Burst, f, name, scope)
	}
	l.t.Store(t)
	return nil
}

// shareEpsilon: a share that moved less than this keeps the buckets (no
// rebuild for noise), as accounts.Store.SplitThroughput does.
const shareEpsilon = 0.01

// part is the share in force, 1 when none was set.
func (l *Limits) part() float64 {
	if f := math.Float64frombits(l.share.Load()); f > 0 {
		return f
	}
	return 1
}

// SetShare makes every bucket allow f (clamped to (0, 1]) of its
// configured rate and burst: a cluster node's part, so that the nodes'
// rates add up to the configured one (docs/POLICY.md). A rebuilt bucket
// starts with no more tokens than the old one had, so a new share grants
// no fresh burst; refusal counts carry over. Later Applies use f too.
func (l *Limits) SetShare(f float64, now int64) {
	if l == nil {
		return
	}
	if !(f > 0) || f > 1 {
		f = 1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if math.Abs(f-l.part()) < shareEpsilon {
		return
	}
	l.share.Store(math.Float64bits(f))
	old := l.t.Load()
	if old == nil {
		return
	}
	t := &limitTable{senders: reshare(old.senders, f, now), routes: reshare(old.routes, f, now)}
	l.t.Store(t)
}

// reshare rebuilds the buckets of m at share f.
func reshare(m map[string]*limitBucket, f float64, now int64) map[string]*limitBucket {
	if m == nil {
		return nil
	}
	out := make(map[string]*limitBucket, len(m))
	for name, p := range m {
		n := newLimitBucket(p.rate, p.burst, f, p.name, p.scope)
		n.refused = p.refused
		if spent := n.b.Burst() - min(p.b.Tokens(now), n.b.Burst()); spent > 0 {
			n.b.Take(now, spent)
		}
		out[name] = n
	}
	return out
}

// Take takes n parts from src's sender bucket and route's bucket at now
// (Unix ns); when either is empty nothing is taken and it says which.
func (l *Limits) Take(src []byte, route string, n int, now int64) LimitHit {
	if l == nil {
		return NoLimit
	}
	t := l.t.Load()
	if t == nil {
		return NoLimit
	}
	s := t.senders[string(src)] // compiled without a copy
	if s != nil && !s.b.Take(now, n) {
		s.refused.Add(1)
		return SenderLimit
	}
	if r := t.routes[route]; r != nil && !r.b.Take(now, n) {
		r.refused.Add(1)
		if s != nil {
			s.b.Return(now, n)
		}
		return RouteLimit
	}
	return NoLimit
}

// Give returns what Take took for a message refused later.
func (l *Limits) Give(src []byte, route string, n int, now int64) {
	if l == nil {
		return
	}
	t := l.t.Load()
	if t == nil {
		return
	}
	if s := t.senders[string(src)]; s != nil {
		s.b.Return(now, n)
	}
	if r := t.routes[route]; r != nil {
		r.b.Return(now, n)
	}
}

// Active reports whether any limit is configured.
func (l *Limits) Active() bool {
	if l == nil {
		return false
	}
	t := l.t.Load()
	return t != nil && (len(t.senders) > 0 || len(t.routes) > 0)
}

// LimitStat is one limit's refusals since it was configured.
type LimitStat struct {
	Scope   string // "sender" or "route"
	Name    string
	Refused uint64
}

// Stats lists the configured limits and their refusals.
func (l *Limits) Stats() []LimitStat {
	if l == nil {
		return nil
	}
	t := l.t.Load()
	if t == nil {
		return nil
	}
	out := make([]LimitStat, 0, len(t.senders)+len(t.routes))
	for _, m := range []map[string]*limitBucket{t.senders, t.routes} {
		for _, b := range m {
			out = append(out, LimitStat{Scope: b.scope, Name: b.name, Refused: b.refused.Load()})
		}
	}
	return out
}
