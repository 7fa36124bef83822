// Package timers is a hashed hierarchical timing wheel for session and
// per-request timeouts: O(1) schedule, re-arm and cancel, with intrusive timer
// nodes owned by the caller so that none of those operations allocates.
//
// # Single-owner contract
//
// A Wheel has no locks. It belongs to one goroutine (one event loop), and every
// method of the Wheel and of the Timers armed on it must be called from that
// goroutine only. The owner drives time: it calls Advance with the current
// time, at least once per tick for the "at most one tick late" guarantee (the
// engine posts a tick into each loop, because gnet's OnTick runs on a goroutine
// of its own). Advance hands the due timers to the Handler as one batch, on the
// owner's goroutine, before it returns.
//
// # Time
//
// The clock is injected: the wheel never reads the system clock. NewWheel
// takes the start time and Advance takes "now"; tests pass a fake clock.
// Deadlines are kept exactly (Timer.Deadline) but fire on the tick grid
// start + k·tick: a timer fires in the first Advance whose now is at or after
// its deadline rounded up to that grid. Hence it never fires early, and fires
// less than one tick late when Advance runs at least once per tick; with
// coarser calls it fires in the first Advance at or after the grid point. Time
// passed to Advance never goes backwards: an earlier now is treated as Now().
//
// # Re-entrancy
//
// The Handler may call Schedule, ScheduleAt and Cancel on any timer, including
// the one being fired and others due in the same batch:
//   - cancelling or re-arming a timer of the current batch that has not fired
//     yet removes it from the batch;
//   - a timer armed from inside the Handler never fires in the same Advance
//     call, even if it is already due; it fires in the next Advance. This
//     bounds a batch to the timers that were due when Advance was called, so a
//     handler that re-arms with a zero delay cannot spin.
//
// Advance called from inside the Handler does nothing and returns 0.
//
// # Layout
//
// The wheel has L levels of 64 slots (6 bits per level); a tick of 10 ms needs
// 4 levels, which cover 2^24 ticks (46.6 hours). L is the fewest levels that
// cover 24 hours at the chosen tick. A timer sits at the level of the highest
// 6-bit group in which its deadline tick differs from the current tick and
// cascades one level down when that slot comes up. A deadline beyond the top
// level is clamped into the top level's slot for its deadline and re-cascaded
// each time the top level comes round to it, so any deadline works. Re-arming
// a timer to a later deadline (the usual reset of an enquire_link or
// inactivity timer) only updates the node: it stays in its slot, which comes
// up no later than the new deadline, and is re-filed then. Advance visits only
// non-empty slots: a long pause costs one step per occupied slot it passes, not
// one per elapsed tick.
package timers

import (
	"math"
	"time"
)

// DefaultTick is the tick used when NewWheel is given a tick <= 0.
const DefaultTick = 10 * time.Millisecond

// Timer is an intrusive timer node. The owner embeds it (in a session, a
// window slot) and reuses it for the life of that struct; the zero value is
// an idle timer. A Timer is armed on at most one Wheel at a time and must not
// be copied while armed.
type Timer struct {
	next, prev *Timer
	w          *Wheel
	when       int64 // deadline in ns since w.start
	tick       int64 // deadline rounded up to the tick grid
	where      uint8 // whereNone, a level+1, or whereDue
	slot       uint8 // slot index within the level, or due-list index

	// Kind is an owner-defined timer class (session-init, enquire-link, ...).
	Kind uint8
	// Arg is set by the owner (e.g. to its *session); the wheel never reads it.
	Arg any
}

// Active reports whether t is armed: scheduled and not yet fired or cancelled.
// While the Handler runs for t, t is no longer active.
func (t *Timer) Active() bool { return t.where != whereNone }

// Deadline is the time t was armed for (exact, not rounded to the tick). It is
// valid while t is Active; otherwise it returns the zero Time.
func (t *Timer) Deadline() time.Time {
	if t.where == whereNone {
		return time.Time{}
	}
	return t.w.start.Add(time.Duration(t.when))
}

// Handler is called once for each expired timer, on the owner's goroutine,
// from inside Advance. When it is called, t is no longer Active.
type Handler func(t *Timer)

// Wheel is a single-owner hierarchical timing wheel; see the package doc for
// the threading contract.
type Wheel struct {
	start  time.Time
	now    time.Time // latest time passed to Advance (or start)
	nowOff int64     // now - start, ns
	tickNs int64
	recip  uint64 // ceil(2^64/tickNs), 0 for a 1 ns tick; see ceilTicks
	h      Handler

	cur     int64 // current tick: every timer with tick <= cur is due
	maxTick int64 // highest tick Advance can reach; later deadlines never fire
	next    int64 // lower bound of the next slot deadline (fast empty Advance)
	nlevels int
	n       int // armed timers

	earliest   int64 // cached earliest armed tick, valid if earliestOK
	earliestOK bool
	firing     bool

	// due[p] holds timers armed already due (fire on the next Advance);
	// due[p^1] is the batch being fired.
	due [2]list
	p   uint8

	occ    [maxLevels]uint64
	levels [maxLevels][slotsPerLevel]list

	visits uint64 // slots processed by Advance; tests check the skip-ahead
}

// NewWheel returns a wheel whose clock starts at start. tick <= 0 means
// DefaultTick. h may be nil, in which case expired timers are only disarmed.
func NewWheel(tick time.Duration, start time.Time, h Handler) *Wheel {
	if tick <= 0 {
		tick = DefaultTick
	}
	w := &Wheel{start: start, now: start, tickNs: int64(tick), h: h}
	w.nlevels = levelsFor(w.tickNs)
	if w.tickNs > 1 {
		w.recip = math.MaxUint64/uint64(w.tickNs) + 1
	}
	w.maxTick = min(math.MaxInt64/w.tickNs, maxTickCap)
	w.next = math.MaxInt64
	w.earliestOK = true
	w.earliest = math.MaxInt64
	return w
}

// Schedule arms t to fire d after Now(), or re-arms it (a reset) if it is
// already armed. d <= 0 makes t due: it fires in the next Advance. O(1), no
// allocation. Note that d counts from Now(), the time of the latest Advance;
// use ScheduleAt to count from a fresher clock reading.
func (w *Wheel) Schedule(t *Timer, d time.Duration) {
	when := w.nowOff + int64(d) // nowOff >= 0, so only d > 0 can overflow
	if d > 0 && when < w.nowOff {
		when = math.MaxInt64
	}
	w.arm(t, when)
}

// ScheduleAt arms or re-arms t to fire at at. A time at or before Now() makes
// t due in the next Advance.
func (w *Wheel) ScheduleAt(t *Timer, at time.Time) {
	w.arm(t, int64(at.Sub(w.start)))
}

// Cancel disarms t in O(1). It returns false if t was not armed on w (never
// armed, already fired, or already cancelled).
func (w *Wheel) Cancel(t *Timer) bool {
	if t == nil || t.where == whereNone || t.w != w {
		return false
	}
	w.disarm(t)
	return true
}

// Advance moves the wheel's clock to now and fires, in one batch, every timer
// whose deadline rounded up to the tick grid is at or before now, plus every
// timer armed already due since the last Advance. Timers fire in tick order.
// It returns the number of Handler calls. Cost: O(occupied slots passed +
// timers moved), independent of how many empty ticks elapsed.
func (w *Wheel) Advance(now time.Time) int {
	if w.firing {
		return 0
	}
	if off := int64(now.Sub(w.start)); off > w.nowOff {
		w.nowOff = off
		w.now = now
	}
	target := min(w.nowOff/w.tickNs, w.maxTick)
	if target < w.next && w.due[w.p].head == nil && w.due[w.p^1].head == nil {
		if target > w.cur {
			w.cur = target
		}
		return 0
	}
	return w.expire(target)
}

// NextExpiry returns the earliest deadline among armed timers, rounded up to
// the tick grid, and false if none is armed. A timer already due reports its
// (past) deadline. Cached; after a change it is recomputed by scanning slots
// in deadline order, usually just the first occupied one.
func (w *Wheel) NextExpiry() (time.Time, bool) {
	if w.n == 0 {
		return time.Time{}, false
	}
	if !w.earliestOK {
		w.earliest = w.findEarliest()
		w.earliestOK = true
	}
	ns := int64(math.MaxInt64)
	if w.earliest <= math.MaxInt64/w.tickNs {
		ns = w.earliest * w.tickNs
	}
	return w.start.Add(time.Duration(ns)), true
}

// Len returns the number of armed timers.
func (w *Wheel) Len() int { return w.n }

// Now returns the wheel's current time: the latest time passed to Advance,
// or the start time.
func (w *Wheel) Now() time.Time { return w.now }

// Tick returns the wheel's tick.
func (w *Wheel) Tick() time.Duration { return time.Duration(w.tickNs) }
