package cdr

import (
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Backpressure. A final state the full queue drops is a billing line
// lost, so the stream does not wait for that: once the queue holds
// HighWater percent of its slots, Final raises the backlog flag, and the
// hub refuses new MT (ESME_RTHROTTLED, before anything is accepted) while
// it is up. The slots above the mark are headroom for the final states of
// what was accepted before: with admission stopped, only those can still
// come. The writer lowers the flag once it has drained the queue below
// half the mark (hysteresis: one burst raises it once). Readiness
// (GET /v1/ready) is smoothed further: BacklogLasting reports the flag
// only once it has stayed up for Options.ReadyGrace, so backlogs of a few
// milliseconds refuse MT, as they must, without a load balancer ejecting
// the node.

// DefaultHighWater is Options.HighWater's default, in percent.
const DefaultHighWater = 50

// Bounds of Options.HighWater (and [cdr] queue_high_water): below 10 the
// flag rises with the writer's normal batches; above 90 the headroom is a
// few milliseconds of final states.
const (
	MinHighWater = 10
	MaxHighWater = 90
)

// backlogFlag is read by every MT request and written only on
// transitions: on a cache line of its own, so the stream's counters
// (written per batch) do not evict it from the readers' caches.
type backlogFlag struct {
	_  [64]byte
	on atomic.Bool
	_  [63]byte
}

// Backlog returns the flag the hub reads before accepting an MT
// (flow.Options.Backlog): true while the queue is past its high-water
// mark. The stream stores it, only when it changes; callers only load it.
func (s *Stream) Backlog() *atomic.Bool { return &s.backlog.on }

// checkBacklog raises the flag when the queue is past the high-water
// mark: after each push, so a writer that is stalled (a slow disk, a
// starved goroutine) cannot delay it. Any goroutine; no allocation.
func (s *Stream) checkBacklog() {
	if s.backlog.on.Load() || s.q.Len() < s.high {
		return
	}
	if !s.backlog.on.CompareAndSwap(false, true) {
		return
	}
	now := time.Now().UnixNano()
	s.raisedAt.Store(now) // after the raise: a reader seeing 0 takes it as just raised
	n := s.backlogs.Add(1)
	if e := s.warnBacklog.Event(&s.log, zerolog.WarnLevel, now); e != nil {
		e.Str("event", "cdr_backlog").Int("queue", s.q.Len()).Int("high_water", s.high).Int("queue_size", s.q.Cap()).
			Uint64("backlogs_total", n).
			Msg("CDR writer behind (queue past queue_high_water): new MT answered ESME_RTHROTTLED until it catches up")
	}
}

// lowerBacklog lowers the flag once the writer drained the queue below
// half the high-water mark. Writer only.
func (s *Stream) lowerBacklog() {
	if !s.backlog.on.Load() || s.q.Len() >= s.low {
		return
	}
	raised := s.raisedAt.Swap(0) // before the flag: a raise's time is never an older raise's
	s.backlog.on.Store(false)
	now := time.Now().UnixNano()
	if raised == 0 { // lowered between a raise and its time's store
		raised = now
	}
	if e := s.warnCleared.Event(&s.log, zerolog.InfoLevel, now); e != nil {
		e.Str("event", "cdr_backlog_cleared").Dur("after", time.Duration(now-raised)).
			Uint64("backlogs_total", s.backlogs.Load()).Msg("CDR writer caught up: MT accepted again")
	}
}

// BacklogLasting reports how long the backlog flag has been up at now,
// and whether that is at least Options.ReadyGrace (readiness: GET
// /v1/ready answers 503 only then). A flag raised a moment ago, its time
// not yet stored, counts as raised at now. Any goroutine.
func (s *Stream) BacklogLasting(now time.Time) (time.Duration, bool) {
	if !s.backlog.on.Load() {
		return 0, false
	}
	var lasted time.Duration
	if at := s.raisedAt.Load(); at != 0 {
		lasted = max(0, time.Duration(now.UnixNano()-at))
	}
	return lasted, lasted >= s.opts.ReadyGrace
}
