package delivery

import (
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/logthrottle"
)

// warnEvery is the shortest gap between two log lines of one kind on the
// per-message paths; lines in between are counted and reported with the
// next one (style §7.7).
const warnEvery = 10 * time.Second

// Levels of the throttled lines (short names for the call sites).
const (
	zerologError = zerolog.ErrorLevel
	zerologWarn  = zerolog.WarnLevel
	zerologInfo  = zerolog.InfoLevel
)

// warnings are the gates of the service's repeated log lines, one line of each
// kind per warnEvery.
type warnings struct {
	heldFull, permanent, expired, unroutable, encode, incomplete, unknownRcpt, store logthrottle.Gate
	unkept, waitOver, backlog, backlogOff                                            logthrottle.Gate
}

func (w *warnings) init() { logthrottle.Set(warnEvery, 1, w.all()...) }

func (w *warnings) all() []*logthrottle.Gate {
	return []*logthrottle.Gate{&w.heldFull, &w.permanent, &w.expired, &w.unroutable,
		&w.encode, &w.incomplete, &w.unknownRcpt, &w.store, &w.unkept, &w.waitOver, &w.backlog, &w.backlogOff}
}

// event returns a log event at level if the gate lets it through, with the
// suppressed count attached when lines were dropped; nil otherwise (zerolog
// accepts calls on a nil event and drops them).
func (h *Service) event(g *logthrottle.Gate, level zerolog.Level) *zerolog.Event {
	return g.Event(&h.log, level, h.now().UnixNano())
}
