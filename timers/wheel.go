package timers

import (
	"math"
	"math/bits"
)

// Wheel geometry. Each level has 64 slots so that a level's occupancy fits in
// one uint64 and the next occupied slot is one TrailingZeros64 away.
const (
	bitsPerLevel  = 6
	slotsPerLevel = 1 << bitsPerLevel
	slotMask      = slotsPerLevel - 1
	maxLevels     = 10 // 60 bits of ticks; enough for 24 h at a 1 ns tick

	// maxTickCap keeps slot deadline arithmetic (block start + span) far from
	// int64 overflow: 2^61 + 2^60 + 2^60 < 2^63.
	maxTickCap = 1 << 61

	whereNone = 0
	whereDue  = 0xFF // on a due list; slot holds the list index
)

// levelsFor returns the fewest levels whose span covers 24 hours of ticks.
func levelsFor(tickNs int64) int {
	const day = int64(24 * 60 * 60 * 1e9)
	ticks := (day + tickNs - 1) / tickNs
	n := (bits.Len64(uint64(ticks)) + bitsPerLevel - 1) / bitsPerLevel
	return max(1, min(n, maxLevels))
}

// ceilTicks returns when/tickNs rounded up. A 64-bit divide is most of the
// cost of Schedule, so positive values multiply by a precomputed reciprocal
// (recip = ceil(2^64/tickNs)), whose quotient is exact or one too high.
func (w *Wheel) ceilTicks(when int64) int64 {
	if when <= 0 || w.recip == 0 {
		q := when / w.tickNs // rounds toward zero: the ceiling for when < 0
		if when > 0 && q*w.tickNs != when {
			q++
		}
		return q
	}
	hi, _ := bits.Mul64(uint64(when), w.recip)
	q := int64(hi)
	r := when - q*w.tickNs
	if r < 0 {
		q--
		r += w.tickNs
	}
	if r > 0 {
		q++
	}
	return q
}

// list is an intrusive doubly-linked FIFO of timers.
type list struct{ head, tail *Timer }

func (l *list) push(t *Timer) {
	t.next = nil
	t.prev = l.tail
	if l.tail != nil {
		l.tail.next = t
	} else {
		l.head = t
	}
	l.tail = t
}

// Placement invariant: a timer with tick > cur sits at the level of the
// highest 6-bit group in which tick and cur differ (capped at the top level),
// in the slot named by tick's bits of that group. Below the top level, every
// occupied slot therefore lies ahead of cur's own slot in the same
// rotation, and the lowest non-empty level holds the earliest timers. Only the
// top level wraps: it holds, hashed by slot, deadlines beyond its rotation.

func (w *Wheel) arm(t *Timer, when int64) {
	if t == nil {
		return
	}
	tick := w.ceilTicks(when)
	if tick > w.maxTick {
		tick = w.maxTick + 1 // beyond any reachable now: never fires
	}
	if when <= w.nowOff && tick > w.cur {
		tick = w.cur // already past: due now even if off the tick grid
	}
	if t.where != whereNone {
		if t.w == w && t.where != whereDue && tick >= t.tick {
			// Postponed (the common re-arm: enquire_link, inactivity): leave
			// the node in its slot, which comes up no later than the new
			// deadline; collect re-places it then. No list operation now.
			if t.tick == w.earliest {
				w.earliestOK = false
			}
			t.when, t.tick = when, tick
			return
		}
		t.w.disarm(t)
	}
	t.w, t.when, t.tick = w, when, tick
	w.n++
	if w.earliestOK && tick < w.earliest {
		w.earliest = tick
	}
	if tick <= w.cur {
		t.where, t.slot = whereDue, w.p
		w.due[w.p].push(t)
		return
	}
	w.place(t)
}

// place files a timer with tick > cur into the level/slot the invariant names.
func (w *Wheel) place(t *Timer) {
	lvl := (bits.Len64(uint64(t.tick^w.cur)) - 1) / bitsPerLevel
	if lvl >= w.nlevels {
		lvl = w.nlevels - 1 // clamp: re-cascaded when the top level comes round
	}
	s := uint8(uint64(t.tick) >> (uint(lvl) * bitsPerLevel) & slotMask)
	t.where, t.slot = uint8(lvl+1), s
	w.levels[lvl][s].push(t)
	w.occ[lvl] |= 1 << s
	if d := w.slotDeadline(lvl, s); d < w.next {
		w.next = d
	}
}

// slotDeadline is the tick at which slot s of level lvl must be processed:
// the first tick it covers in the current rotation, or in the next one for a
// top-level slot at or behind cur.
func (w *Wheel) slotDeadline(lvl int, s uint8) int64 {
	shift := uint(lvl) * bitsPerLevel
	span := int64(1) << (shift + bitsPerLevel)
	d := w.cur&^(span-1) + int64(s)<<shift
	if lvl == w.nlevels-1 && d <= w.cur {
		d += span
	}
	return d
}

// nextEvent returns the earliest slot deadline and its slot, or MaxInt64.
func (w *Wheel) nextEvent() (int64, int, uint8) {
	top := w.nlevels - 1
	for lvl := 0; lvl <= top; lvl++ {
		occ := w.occ[lvl]
		if occ == 0 {
			continue
		}
		if lvl < top {
			s := uint8(bits.TrailingZeros64(occ))
			return w.slotDeadline(lvl, s), lvl, s
		}
		// The top level wraps: search from the slot after cur's.
		c := int(uint64(w.cur)>>(uint(lvl)*bitsPerLevel)) & slotMask
		r := bits.RotateLeft64(occ, -(c + 1))
		s := uint8((c + 1 + bits.TrailingZeros64(r)) & slotMask)
		return w.slotDeadline(lvl, s), lvl, s
	}
	return math.MaxInt64, 0, 0
}

// unlink removes t from whichever list holds it and disarms it.
func (w *Wheel) unlink(t *Timer) {
	var l *list
	if t.where == whereDue {
		l = &w.due[t.slot]
	} else {
		l = &w.levels[t.where-1][t.slot]
	}
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		l.head = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		l.tail = t.prev
	}
	if l.head == nil && t.where != whereDue {
		w.occ[t.where-1] &^= 1 << t.slot
	}
	t.next, t.prev, t.where = nil, nil, whereNone
}

func (w *Wheel) disarm(t *Timer) {
	w.unlink(t)
	w.n--
	if t.tick == w.earliest {
		w.earliestOK = false
	}
}

// expire collects everything due at target into the batch list and fires it.
func (w *Wheel) expire(target int64) int {
	w.firing = true
	defer func() { w.firing = false }()
	w.earliestOK = false

	// The pending list becomes the batch; timers armed due from now on go to
	// the other list and wait for the next Advance.
	b := w.p ^ 1
	if w.due[b].head == nil {
		w.p, b = b, w.p
	} else { // a Handler panicked mid-batch last time: keep its leftovers
		for t := w.due[w.p].head; t != nil; t = t.next {
			t.slot = b
		}
		w.splice(b, w.p)
	}

	if target >= w.next {
		w.collect(target, b)
	}
	w.cur = max(w.cur, target)

	fired := 0
	batch := &w.due[b]
	for batch.head != nil {
		t := batch.head
		w.unlink(t)
		w.n--
		fired++
		if w.h != nil {
			w.h(t)
		}
	}
	return fired
}

// splice appends due list src to due list dst (labels already fixed).
func (w *Wheel) splice(dst, src uint8) {
	d, s := &w.due[dst], &w.due[src]
	if s.head == nil {
		return
	}
	if d.tail == nil {
		d.head = s.head
	} else {
		d.tail.next = s.head
		s.head.prev = d.tail
	}
	d.tail = s.tail
	*s = list{}
}

// collect processes, in deadline order, every slot whose deadline is at or
// before target: due timers move to batch list b, the rest cascade to lower
// levels (or back into the top level when clamped). Only occupied slots are
// visited, so empty stretches of time cost nothing.
func (w *Wheel) collect(target int64, b uint8) {
	for {
		d, lvl, s := w.nextEvent()
		if d > target {
			w.next = d
			return
		}
		w.cur = max(w.cur, d)
		w.visits++
		l := &w.levels[lvl][s]
		t := l.head
		*l = list{}
		w.occ[lvl] &^= 1 << s
		for t != nil {
			nx := t.next
			if t.tick <= w.cur {
				t.where, t.slot = whereDue, b
				w.due[b].push(t)
			} else {
				w.place(t)
			}
			t = nx
		}
	}
}

// findEarliest returns the smallest armed tick, or MaxInt64. Every timer in
// a slot has a tick at or after the slot's deadline (later if it was
// postponed in place or wrapped at the top level), so slots are scanned in
// deadline order until the next slot's deadline cannot beat the best so far:
// usually one slot.
func (w *Wheel) findEarliest() int64 {
	best := int64(math.MaxInt64)
	for i := range w.due {
		for t := w.due[i].head; t != nil; t = t.next {
			best = min(best, t.tick)
		}
	}
	if best != math.MaxInt64 {
		return best // due timers precede anything still in the levels
	}
	top := w.nlevels - 1
	for lvl := 0; lvl <= top; lvl++ {
		occ, base := w.occ[lvl], 0
		if lvl == top { // iterate the wrapping top level from cur's slot on
			base = int(uint64(w.cur)>>(uint(lvl)*bitsPerLevel))&slotMask + 1
			occ = bits.RotateLeft64(occ, -base)
		}
		for ; occ != 0; occ &= occ - 1 {
			s := uint8((base + bits.TrailingZeros64(occ)) & slotMask)
			if w.slotDeadline(lvl, s) >= best {
				return best
			}
			for t := w.levels[lvl][s].head; t != nil; t = t.next {
				best = min(best, t.tick)
			}
		}
	}
	return best
}
