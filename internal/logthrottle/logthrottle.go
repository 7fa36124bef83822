// Package logthrottle bounds how many log lines of one kind are written per
// period. A flood of events (bad connections, refused PDUs, failed binds)
// then costs a counter increment each, not a log write each, so an attacker
// cannot keep an event loop busy formatting lines; the line that does get
// through carries how many were suppressed before it.
package logthrottle

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Gate lets at most Burst lines through per Period and counts the rest. It is
// safe for concurrent use and allocates nothing. The zero value lets one line
// through per second. Set Period and Burst before first use.
type Gate struct {
	Period time.Duration
	Burst  int

	// rollover serialises the start of a period: without it, lines counted
	// by other goroutines between the new start and the reset of used were
	// lost, and a burst could pass twice (seen under -race).
	rollover sync.Mutex
	start    atomic.Int64 // Unix ns when the current period began
	used     atomic.Int64 // lines let through (or tried) in the current period
	dropped  atomic.Uint64
}

// New returns a gate for burst lines per period.
func New(period time.Duration, burst int) *Gate {
	return &Gate{Period: period, Burst: burst}
}

// Set gives every gate burst lines per period: the one place a set of
// gates (a component's kinds of log line) is configured.
func Set(period time.Duration, burst int, gates ...*Gate) {
	for _, g := range gates {
		g.Period, g.Burst = period, burst
	}
}

// Allow reports whether a line may be written at now (nanoseconds on any
// clock that does not go backwards: Unix or monotonic) and how many were
// suppressed since the last line let through.
func (g *Gate) Allow(now int64) (bool, uint64) {
	period, burst := int64(g.Period), int64(g.Burst)
	if period <= 0 {
		period = int64(time.Second)
	}
	if burst <= 0 {
		burst = 1
	}
	st := g.start.Load()
	// start 0 is "no period yet", so clocks that count from a process's
	// start (monotonic readings near 0) get their first line too.
	if st == 0 || now-st >= period {
		g.rollover.Lock()
		if st := g.start.Load(); st == 0 || now-st >= period {
			g.used.Store(0)
			g.start.Store(now)
		}
		g.rollover.Unlock()
	}
	if g.used.Add(1) > burst {
		g.dropped.Add(1)
		return false, 0
	}
	return true, g.dropped.Swap(0)
}

// Suppressed reports the lines dropped since the last one let through.
func (g *Gate) Suppressed() uint64 { return g.dropped.Load() }

// Event returns a log event at level when the gate lets a line through at
// now, with the suppressed count attached when there was one; otherwise nil
// (zerolog accepts calls on a nil event and drops them), so call sites stay
// one chain: g.Event(log, zerolog.WarnLevel, now).Str(...).Msg(...).
func (g *Gate) Event(log *zerolog.Logger, level zerolog.Level, now int64) *zerolog.Event {
	if log.GetLevel() > level {
		return nil // not written anyway: spend no budget on it
	}
	ok, dropped := g.Allow(now)
	if !ok {
		return nil
	}
	e := log.WithLevel(level)
	if dropped > 0 {
		e = e.Uint64("suppressed", dropped)
	}
	return e
}
