package flow

import (
	"sync/atomic"
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

// throttle lets one log line through per warnEvery and counts the rest.
type throttle struct {
	next    atomic.Int64
	dropped atomic.Uint64
}

// allow reports whether a line may be written at now (Unix ns) and how
// many were suppressed since the last one.
func (t *throttle) allow(now int64) (bool, uint64) {
	n := t.next.Load()
	if now < n || !t.next.CompareAndSwap(n, now+int64(warnEvery)) {
		t.dropped.Add(1)
		return false, 0
	}
	return true, t.dropped.Swap(0)
}

// warnings are the throttles of the hub's repeated log lines.
type warnings struct {
	queueFull, internal, heldFull, permanent, expired, unroutable, encode, incomplete, unknownRcpt, upstream, store throttle
}

// event returns a log event at level if the throttle lets it through, with
// the suppressed count attached; nil otherwise (zerolog accepts calls on a
// nil event and drops them).
func (h *Hub) event(t *throttle, level zerolog.Level) *zerolog.Event {
	ok, dropped := t.allow(h.now().UnixNano())
	if !ok {
		return nil
	}
	return h.log.WithLevel(level).Uint64("suppressed", dropped)
}
