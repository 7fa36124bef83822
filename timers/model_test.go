package timers

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The reference model is a list of armed timers sorted by deadline. Its rule
// is the package's specification: at Advance(now) every armed timer whose
// deadline rounded up to the tick grid is <= now, or which was armed at or
// before Now() (due), fires exactly once; a timer armed inside the handler
// waits for the next Advance. The wheel must fire the same set, in
// non-decreasing tick order, and never fire early or a tick late.

const modelTimers = 24

type refEntry struct {
	when int64 // ns since start
	tick int64 // roundUp(when) in ticks, or the then-current tick if due when armed
	id   int
	// armed by a handler during the latest Advance: may be overdue until the
	// next one
	inHandler bool
}

// action is what the handler does when a timer fires.
type action struct {
	kind   uint8 // 0 nothing, 1 re-arm self, 2 cancel other, 3 arm other
	other  int
	d      time.Duration
	viaAbs bool
}

type harness struct {
	tb     testing.TB
	w      *Wheel
	tickNs int64
	timers [modelTimers]Timer
	acts   [modelTimers]action

	ref    []refEntry // sorted by (tick, id)
	nowOff int64

	// during Advance
	batch     map[int]bool // due at the start of this Advance, not yet fired
	lastTick  int64
	curBefore int64
	fired     int
	advancing bool
	data      []byte
}

func newHarness(tb testing.TB, tick time.Duration) *harness {
	h := &harness{tb: tb, tickNs: int64(tick), batch: map[int]bool{}}
	h.w = NewWheel(tick, epoch, h.handle)
	for i := range h.timers {
		h.timers[i].Kind = uint8(i)
	}
	return h
}

func (h *harness) find(id int) int {
	for i, e := range h.ref {
		if e.id == id {
			return i
		}
	}
	return -1
}

func (h *harness) refRemove(id int) bool {
	if i := h.find(id); i >= 0 {
		h.ref = slices.Delete(h.ref, i, i+1)
		delete(h.batch, id)
		return true
	}
	return false
}

func (h *harness) refArm(id int, when int64) {
	h.refRemove(id)
	tick := when / h.tickNs
	if when > 0 && when%h.tickNs != 0 {
		tick++
	}
	if maxTick := min(math.MaxInt64/h.tickNs, 1<<61); tick > maxTick {
		tick = maxTick + 1 // unreachable: never fires
	}
	cur := h.nowOff / h.tickNs
	if when <= h.nowOff && tick > cur {
		tick = cur
	}
	e := refEntry{when: when, tick: tick, id: id, inHandler: h.advancing}
	i, _ := slices.BinarySearchFunc(h.ref, e, func(a, b refEntry) int {
		if a.tick != b.tick {
			return int(min(max(a.tick-b.tick, -1), 1))
		}
		return a.id - b.id
	})
	h.ref = slices.Insert(h.ref, i, e)
}

func (h *harness) schedule(id int, d time.Duration, viaAbs bool) {
	when := h.nowOff + int64(d)
	if d > 0 && when < h.nowOff {
		when = math.MaxInt64 // saturates, as the wheel does
	}
	if viaAbs {
		h.w.ScheduleAt(&h.timers[id], epoch.Add(time.Duration(when)))
	} else {
		h.w.Schedule(&h.timers[id], d)
	}
	h.refArm(id, when)
	if got := h.timers[id].Deadline(); !got.Equal(epoch.Add(time.Duration(when))) {
		h.tb.Fatalf("timer %d: Deadline %v, want %v", id, got, epoch.Add(time.Duration(when)))
	}
}

func (h *harness) cancel(id int) {
	want := h.find(id) >= 0
	if got := h.w.Cancel(&h.timers[id]); got != want {
		h.tb.Fatalf("Cancel(%d) = %v, model says armed=%v", id, got, want)
	}
	h.refRemove(id)
}

func (h *harness) handle(t *Timer) {
	id := int(t.Kind)
	if !h.batch[id] {
		h.tb.Fatalf("timer %d fired at %v but was not due (model %v)", id, time.Duration(h.nowOff), h.ref)
	}
	i := h.find(id)
	e := h.ref[i]
	if e.when > h.nowOff {
		h.tb.Fatalf("timer %d fired early: deadline %v, now %v", id, time.Duration(e.when), time.Duration(h.nowOff))
	}
	if ord := max(e.tick, h.curBefore); ord < h.lastTick {
		h.tb.Fatalf("timer %d (tick %d) fired after tick %d: out of order", id, e.tick, h.lastTick)
	} else {
		h.lastTick = ord
	}
	if t.Active() {
		h.tb.Fatalf("timer %d still Active inside its handler", id)
	}
	h.refRemove(id)
	h.fired++
	a := h.acts[id]
	switch a.kind {
	case 1:
		h.schedule(id, a.d, a.viaAbs)
	case 2:
		h.cancel(a.other)
	case 3:
		h.schedule(a.other, a.d, a.viaAbs)
	}
}

func (h *harness) advance(to int64) {
	h.curBefore = h.nowOff / h.tickNs
	h.nowOff = max(h.nowOff, to)
	target := h.nowOff / h.tickNs
	clear(h.batch)
	for _, e := range h.ref {
		if e.tick > target {
			break
		}
		h.batch[e.id] = true
	}
	h.lastTick, h.fired = 0, 0
	for i := range h.ref {
		h.ref[i].inHandler = false
	}
	h.advancing = true
	n := h.w.Advance(epoch.Add(time.Duration(to)))
	h.advancing = false
	if n != h.fired {
		h.tb.Fatalf("Advance returned %d, handler ran %d times", n, h.fired)
	}
	if len(h.batch) != 0 {
		h.tb.Fatalf("Advance(%v): due timers did not fire: %v", time.Duration(to), h.batch)
	}
	h.check()
}

func (h *harness) check() {
	if h.w.Len() != len(h.ref) {
		h.tb.Fatalf("Len %d, model %d", h.w.Len(), len(h.ref))
	}
	for id := range h.timers {
		if got, want := h.timers[id].Active(), h.find(id) >= 0; got != want {
			h.tb.Fatalf("timer %d Active %v, model %v", id, got, want)
		}
	}
	got, ok := h.w.NextExpiry()
	if ok != (len(h.ref) > 0) {
		h.tb.Fatalf("NextExpiry ok=%v with %d armed", ok, len(h.ref))
	}
	if ok {
		ns := int64(math.MaxInt64)
		if h.ref[0].tick <= math.MaxInt64/h.tickNs {
			ns = h.ref[0].tick * h.tickNs
		}
		want := epoch.Add(time.Duration(ns))
		if !got.Equal(want) {
			h.tb.Fatalf("NextExpiry %v, model %v", got.Sub(epoch), want.Sub(epoch))
		}
	}
}

func (h *harness) lastDeadline() int64 {
	last := h.nowOff
	for _, e := range h.ref {
		if e.tick <= math.MaxInt64/h.tickNs {
			last = max(last, e.tick*h.tickNs)
		}
	}
	return last
}

// next consumes n bytes of input (zeros once exhausted).
func (h *harness) next(n int) uint64 {
	var buf [8]byte
	k := copy(buf[:n], h.data)
	h.data = h.data[k:]
	return binary.LittleEndian.Uint64(buf[:])
}

// duration draws a duration from a class that hits every level and edge.
func (h *harness) duration() time.Duration {
	tick := time.Duration(h.tickNs)
	c, v := h.next(1)%9, h.next(4)
	switch c {
	case 0:
		return 0
	case 1:
		return -time.Duration(v % uint64(time.Hour))
	case 2:
		return time.Duration(v%300) * tick
	case 3:
		return time.Duration(v % uint64(5*time.Second))
	case 4:
		return time.Duration(v % uint64(10*time.Minute))
	case 5:
		return time.Duration(v%uint64(30*time.Hour/time.Millisecond)) * time.Millisecond
	case 6:
		return time.Duration(v%uint64(100*24*time.Hour/time.Second)) * time.Second
	case 7: // a level boundary, plus -1, 0 or +1 ns
		lvl := v % 5
		return time.Duration(1<<(6*lvl))*tick + time.Duration(int64(v>>8%3)-1)
	default:
		return time.Duration(v%64) * tick
	}
}

func (h *harness) step() time.Duration {
	tick := time.Duration(h.tickNs)
	c, v := h.next(1)%6, h.next(4)
	switch c {
	case 0:
		return 0
	case 1:
		return time.Duration(v % uint64(tick))
	case 2:
		return tick
	case 3:
		return time.Duration(v % uint64(100*tick))
	case 4:
		return time.Duration(v%uint64(3*time.Hour/time.Millisecond)) * time.Millisecond
	default:
		return time.Duration(v%uint64(60*24*time.Hour/time.Second)) * time.Second
	}
}

var modelTicks = []time.Duration{10 * time.Millisecond, time.Millisecond, time.Minute, time.Hour, 7 * time.Millisecond}

// run interprets data as a sequence of operations.
func runModel(tb testing.TB, data []byte) {
	if len(data) == 0 {
		return
	}
	h := newHarness(tb, modelTicks[int(data[0])%len(modelTicks)])
	h.data = data[1:]
	for len(h.data) > 0 {
		op := h.next(1) % 8
		id := int(h.next(1) % modelTimers)
		switch op {
		case 0, 1:
			h.schedule(id, h.duration(), op == 1)
		case 2:
			h.cancel(id)
		case 3, 4:
			h.advance(h.nowOff + int64(h.step()))
		case 5: // one step per tick for a while: the "at most one tick late" regime
			k := int(h.next(1) % 80)
			for range k {
				h.advance(h.nowOff + h.tickNs)
				for _, e := range h.ref {
					if e.when+h.tickNs <= h.nowOff && !e.inHandler {
						tb.Fatalf("timer %d not fired one tick after its deadline %v (now %v)", e.id, time.Duration(e.when), time.Duration(h.nowOff))
					}
				}
			}
		case 6:
			h.acts[id] = action{kind: uint8(h.next(1) % 4), other: int(h.next(1) % modelTimers), d: h.duration(), viaAbs: h.next(1)%2 == 0}
		case 7:
			h.advance(h.nowOff - int64(h.step())) // backwards: a no-op for the clock
		}
	}
	// Drain: jump past the latest deadline (handlers may re-arm once more),
	// then again with the handlers' actions cleared.
	h.advance(h.lastDeadline())
	for id := range h.acts {
		h.acts[id] = action{}
	}
	h.advance(h.lastDeadline())
	h.advance(h.nowOff)
	for _, e := range slices.Clone(h.ref) {
		if e.tick <= math.MaxInt64/h.tickNs {
			tb.Fatalf("timer %d left after draining to %v", e.id, time.Duration(h.nowOff))
		}
		h.cancel(e.id) // armed past the end of time
	}
	if len(h.ref) != 0 {
		tb.Fatalf("timers left after draining: %v (now %d)", h.ref, h.nowOff)
	}
}

func TestWheelModelRandom(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 50
	}
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3000)
	for seed := range n {
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		data[0] = byte(seed)
		runModel(t, data)
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
}

func FuzzWheelModel(f *testing.F) {
	f.Add([]byte{0, 0, 1, 7, 0, 0, 0, 0, 3, 0, 2})
	f.Add([]byte{3, 6, 2, 1, 5, 0, 8, 0, 0, 0, 0, 5, 0, 70})
	f.Add([]byte{1, 0, 3, 6, 1, 2, 3, 4, 4, 1, 5, 2, 200, 9, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		runModel(t, data)
	})
}
