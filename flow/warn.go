package flow

import (
	"time"

	"github.com/rs/zerolog"
)

// warnEvery is the shortest gap between two log lines of one kind on the
// per-message paths; lines in between are counted and reported with the
// next one (style §7.7).
const warnEvery = 10 * time.Second

// Levels of the throttled lines (short names for the call sites).
const (
	zerologError = zerolog.ErrorLevel
	zerologWarn  = zerolog.WarnLevel
)

// LogGate lets one kind of repeated log line through at most burst times a
// period and reports the count it held back on the next line it lets
// through (*logthrottle.Gate, the one throttle every package shares).
// Event returns nil for a line not written; it must not block.
type LogGate interface {
	Event(log *zerolog.Logger, level zerolog.Level, now int64) *zerolog.Event
}

// warnings are the gates of the hub's repeated log lines, one line of each
// kind per warnEvery.
type warnings struct {
	queueFull, internal, upstream, store, unkept, backlog LogGate
}

// init makes every gate with newGate (Options.LogGate); nil leaves them
// nil: every line is written.
func (w *warnings) init(newGate func(period time.Duration, burst int) LogGate) {
	if newGate == nil {
		return
	}
	for _, g := range w.all() {
		*g = newGate(warnEvery, 1)
	}
}

func (w *warnings) all() []*LogGate {
	return []*LogGate{&w.queueFull, &w.internal, &w.upstream, &w.store, &w.unkept, &w.backlog}
}

// event returns a log event at level if the gate lets it through, with the
// suppressed count attached when lines were dropped; nil otherwise (zerolog
// accepts calls on a nil event and drops them).
func (h *Hub) event(g *LogGate, level zerolog.Level) *zerolog.Event {
	if *g == nil {
		if h.log.GetLevel() > level {
			return nil
		}
		return h.log.WithLevel(level)
	}
	return (*g).Event(&h.log, level, h.now().UnixNano())
}
