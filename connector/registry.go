package connector

import (
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/units"
)

// Kind is one connector kind: how its [connector.<Name>] table is read,
// checked and built. A kind lives in its own folder and exports one Kind;
// the binary registers it in its Registry with one line.
type Kind struct {
	// Name is what [[connector]] type = "..." names, and the name of the
	// kind's sub-table.
	Name string
	// Settings returns the sub-table's defaults: a pointer to a struct
	// whose toml tags are the sub-table's keys. The config loader decodes
	// the sub-table into it strictly (an unknown key, a wrong type is
	// refused); a connector without the sub-table keeps the defaults.
	Settings func() any
	// Required: the sub-table must be present (the kind has keys without
	// a usable default, such as an upstream's address).
	Required bool
	// Validate checks decoded settings (what Settings returned), naming
	// keys of the sub-table.
	Validate func(settings any, c *Check)
	// Build makes the unstarted connector from settings Validate passed.
	// It is called again for each restart, so it keeps no state.
	Build func(settings any, b Build) (Connector, error)
}

// Build is what a Kind's Build gets besides its settings.
type Build struct {
	Name  string // the connector's name ([[connector]] name)
	ID    int    // its routing table id (stable: cmd/smppd/connids.go)
	Queue int    // its queue capacity ([[connector]] queue)
	IDMap IDMap  // where upstream message ids are kept
	// Parker keeps the receipts parked for their upstream id across a
	// crash (a durable store); nil: they live in memory only.
	Parker Parker
	Log    zerolog.Logger
	// DefaultValidity is [delivery] default_validity, for a kind that
	// passes a validity upstream when the ESME gave none.
	DefaultValidity time.Duration
	// BindShare is how many binds of this connector a cluster node may
	// hold of an upstream's cluster-wide limit (cluster.Node.BindShare;
	// perBind: sessions to a bind, 2 for a transmitter+receiver pair),
	// asked again as nodes come and go; nil outside a cluster.
	BindShare func(limit, perBind int) int
}

// Check collects what a Kind's Validate finds.
type Check struct {
	// Resolve turns a path written in the config into one relative to the
	// working directory (the config file's directory anchors it).
	Resolve func(path string) string
	// Problems and Warnings, in the order found. A Problem's Key is
	// relative to the kind's sub-table ("host", "outcomes.delivered").
	Problems []Problem
	Warnings []Problem
}

// Problem is one finding of Validate.
type Problem struct{ Key, Msg string }

// Fail records a problem with key.
func (c *Check) Fail(key, format string, args ...any) {
	c.Problems = append(c.Problems, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Warn records something that works but deserves the operator's eye.
func (c *Check) Warn(key, format string, args ...any) {
	c.Warnings = append(c.Warnings, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// IntRange fails key unless lo <= n <= hi.
func (c *Check) IntRange(key string, n, lo, hi int) {
	if n < lo || n > hi {
		c.Fail(key, "%d is out of range %d..%d", n, lo, hi)
	}
}

// Backoff checks a doubling backoff's bounds: 0 < lo <= hi.
func (c *Check) Backoff(loKey, hiKey string, lo, hi Duration) {
	if lo <= 0 {
		c.Fail(loKey, "must be > 0")
	}
	if hi < lo {
		c.Fail(hiKey, "%v is less than %s (%v)", hi, loKey, lo)
	}
}

// Registry is the connector kinds a binary knows, by name.
type Registry struct {
	kinds map[string]Kind
	names []string
}

// NewRegistry registers kinds; a kind without a name, Settings, Validate
// or Build, or a name given twice, is refused.
func NewRegistry(kinds ...Kind) (*Registry, error) {
	r := &Registry{kinds: make(map[string]Kind, len(kinds))}
	for _, k := range kinds {
		switch _, dup := r.kinds[k.Name]; {
		case k.Name == "" || k.Settings == nil || k.Validate == nil || k.Build == nil:
			return nil, fmt.Errorf("%w: kind %q is incomplete", ErrOptions, k.Name)
		case dup:
			return nil, fmt.Errorf("%w: kind %q registered twice", ErrOptions, k.Name)
		}
		r.kinds[k.Name] = k
		r.names = append(r.names, k.Name)
	}
	slices.Sort(r.names)
	return r, nil
}

// MustRegistry is NewRegistry for a binary's fixed list: a mistake there
// is a bug, so it panics.
func MustRegistry(kinds ...Kind) *Registry {
	r, err := NewRegistry(kinds...)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return r
}

// Lookup finds the kind named name.
func (r *Registry) Lookup(name string) (Kind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Names lists the registered kinds, sorted.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Duration is a duration in a kind's settings, read as the main config
// reads one (internal/units): "30s", never a bare integer or a negative.
type Duration = units.Duration
