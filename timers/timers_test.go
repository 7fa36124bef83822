package timers

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// recorder collects fired timers in order.
type recorder struct{ fired []*Timer }

func (r *recorder) handle(t *Timer) { r.fired = append(r.fired, t) }

func at(d time.Duration) time.Time { return epoch.Add(d) }

// roundUp is the tick-grid point at or after d.
func roundUp(d, tick time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + tick - 1) / tick * tick
}

func TestLevelsFor(t *testing.T) {
	f := func(tick time.Duration, want int) {
		t.Helper()
		if got := levelsFor(int64(tick)); got != want {
			t.Fatalf("levelsFor(%v) = %d, want %d", tick, got, want)
		}
		// The levels must cover 24 hours without clamping.
		if span := time.Duration(1<<(bitsPerLevel*want)) * tick; want < maxLevels && span < 24*time.Hour && tick < 24*time.Hour {
			t.Fatalf("levelsFor(%v) = %d spans only %v", tick, want, span)
		}
	}
	f(10*time.Millisecond, 4)
	f(time.Millisecond, 5)
	f(100*time.Millisecond, 4)
	f(time.Minute, 2)
	f(time.Hour, 1)
	f(48*time.Hour, 1)
	f(time.Nanosecond, 8)
}

func TestCeilTicks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tick := range []int64{1, 2, 3, 7, 1000, 1e6, 1e7, 1e7 + 1, 1 << 20, 3600e9, 1<<62 + 5} {
		w := NewWheel(time.Duration(tick), epoch, nil)
		vals := []int64{math.MinInt64, -tick - 1, -tick, -1, 0, 1, tick - 1, tick, tick + 1, 2 * tick, math.MaxInt64, math.MaxInt64 - 1, math.MaxInt64 / tick * tick}
		for range 2000 {
			vals = append(vals, rng.Int64(), rng.Int64N(1<<40), rng.Int64N(1000)*tick+rng.Int64N(3)-1)
		}
		for _, v := range vals {
			want := v / tick
			if v > 0 && v%tick != 0 {
				want++
			}
			if got := w.ceilTicks(v); got != want {
				t.Fatalf("tick %d: ceilTicks(%d) = %d, want %d", tick, v, got, want)
			}
		}
	}
}

func TestDefaultTick(t *testing.T) {
	for _, tick := range []time.Duration{0, -time.Second} {
		w := NewWheel(tick, epoch, nil)
		if w.Tick() != DefaultTick || w.nlevels != 4 {
			t.Fatalf("NewWheel(%v): tick %v levels %d, want %v and 4", tick, w.Tick(), w.nlevels, DefaultTick)
		}
		if !w.Now().Equal(epoch) {
			t.Fatalf("Now() = %v, want start %v", w.Now(), epoch)
		}
	}
}

// TestFireTime checks for each (tick, base, d) that a timer armed at base for
// d fires exactly at the first Advance at or after its deadline rounded up to
// the tick grid: never at the probes before it, and at it. Probes between
// base and the deadline force cascades between levels on the way.
func TestFireTime(t *testing.T) {
	const ms = time.Millisecond
	f := func(tick, base, d time.Duration) {
		t.Helper()
		var r recorder
		w := NewWheel(tick, epoch, r.handle)
		w.Advance(at(base))
		var tm Timer
		w.Schedule(&tm, d)
		deadline := base + max(d, 0)
		if d > 0 && !tm.Deadline().Equal(at(base+d)) {
			t.Fatalf("tick %v base %v d %v: Deadline %v, want %v", tick, base, d, tm.Deadline(), at(base+d))
		}
		fire := roundUp(deadline, tick)
		if d <= 0 {
			fire = base // due: the next Advance, whatever its now
		}
		if next, ok := w.NextExpiry(); !ok || (d > 0 && !next.Equal(at(fire))) {
			t.Fatalf("tick %v base %v d %v: NextExpiry %v %v, want %v", tick, base, d, next, ok, at(fire))
		}
		var probes []time.Duration
		if fire > base {
			span := fire - base
			probes = append(probes, base+span/3, base+span/2, base+span*2/3, fire-tick, fire-1)
		}
		for _, p := range probes {
			if p < base {
				continue
			}
			if n := w.Advance(at(p)); n != 0 || !tm.Active() {
				t.Fatalf("tick %v base %v d %v: fired at %v, before %v", tick, base, d, p, fire)
			}
		}
		if n := w.Advance(at(fire)); n != 1 || len(r.fired) != 1 || tm.Active() || w.Len() != 0 {
			t.Fatalf("tick %v base %v d %v: Advance(%v) fired %d (active %v), want 1", tick, base, d, fire, n, tm.Active())
		}
		if fire-deadline >= tick && d > 0 {
			t.Fatalf("tick %v base %v d %v: fired %v late", tick, base, d, fire-deadline)
		}
	}
	tick := 10 * ms
	// zero and negative durations: due at the next Advance, even at the same now
	f(tick, 0, 0)
	f(tick, 0, -time.Second)
	f(tick, 25*ms, 0)
	f(tick, 25*ms, math.MinInt64)
	// shorter than a tick, and around tick boundaries
	f(tick, 0, 1)
	f(tick, 0, 9*ms)
	f(tick, 0, tick)
	f(tick, 0, tick+1)
	f(tick, 0, 2*tick)
	f(tick, 3*ms, tick)     // base off the grid: deadline 13 ms fires at 20 ms
	f(tick, 3*ms, 7*ms)     // deadline exactly on the grid
	f(tick, 10*ms, 20*ms-1) // deadline 1 ns before a boundary
	f(tick, 10*ms, 20*ms+1) // deadline 1 ns after a boundary
	// level boundaries: 64 and 4096 and 262144 ticks, cascades on the way
	f(tick, 0, 63*tick)
	f(tick, 0, 64*tick)
	f(tick, 0, 65*tick)
	f(tick, 5*tick, 60*tick)
	f(tick, 63*tick, 2*tick)
	f(tick, 0, 4095*tick)
	f(tick, 0, 4096*tick)
	f(tick, 0, 4097*tick+1)
	f(tick, 4000*tick, 200*tick)
	f(tick, 0, 262144*tick)
	// timeouts of hours, at and beyond the top level's 46.6 h span (clamped)
	f(tick, 0, time.Hour)
	f(tick, 7*ms, 5*time.Hour+3*ms)
	f(tick, 0, 24*time.Hour)
	f(tick, time.Hour, 46*time.Hour)
	f(tick, 0, 1<<24*tick)
	f(tick, 0, 1<<24*tick+1)
	f(tick, 0, 30*24*time.Hour)
	f(tick, 12345*ms, 400*24*time.Hour)
	// other geometries: one level (wraps every 64 ticks), two levels, a 1 ms tick
	f(time.Hour, 0, 30*time.Minute)
	f(time.Hour, 0, 63*time.Hour)
	f(time.Hour, 0, 64*time.Hour)
	f(time.Hour, 5*time.Hour, 200*time.Hour+1)
	f(time.Minute, 0, 100*time.Hour)
	f(ms, 0, 36*time.Hour)
	f(ms, 999*ms, 90*time.Second)
}

// TestFirePerTick steps the clock one tick at a time and checks the tick each
// timer fires on.
func TestFirePerTick(t *testing.T) {
	tick := 10 * time.Millisecond
	ds := []time.Duration{1, tick - 1, tick, tick + 1, 63 * tick, 64 * tick, 64*tick + 1, 100 * tick, 4096 * tick, 5000*tick + 7}
	var r recorder
	w := NewWheel(tick, epoch, r.handle)
	w.Advance(at(3 * time.Millisecond))
	timers := make([]Timer, len(ds))
	for i := range ds {
		timers[i].Kind = uint8(i)
		w.Schedule(&timers[i], ds[i])
	}
	firedAt := make([]time.Duration, len(ds))
	for now := tick; w.Len() > 0; now += tick {
		r.fired = r.fired[:0]
		w.Advance(at(now))
		for _, tm := range r.fired {
			firedAt[tm.Kind] = now
		}
	}
	for i, d := range ds {
		deadline := 3*time.Millisecond + d
		if want := roundUp(deadline, tick); firedAt[i] != want {
			t.Errorf("d=%v: fired at %v, want %v", d, firedAt[i], want)
		}
	}
}

func TestCascadeOrder(t *testing.T) {
	tick := 10 * time.Millisecond
	ds := []time.Duration{50 * time.Hour, 3 * time.Hour, time.Second, 20 * time.Millisecond, 90 * time.Second, 40 * time.Minute, 0}
	var r recorder
	w := NewWheel(tick, epoch, r.handle)
	timers := make([]Timer, len(ds))
	for i, d := range ds {
		w.Schedule(&timers[i], d)
	}
	// One coarse Advance past everything: one batch in deadline order.
	if n := w.Advance(at(60 * time.Hour)); n != len(ds) {
		t.Fatalf("fired %d, want %d", n, len(ds))
	}
	got := make([]time.Duration, len(r.fired))
	for i, tm := range r.fired {
		got[i] = ds[indexOf(timers, tm)]
	}
	if !slices.IsSorted(got) {
		t.Fatalf("fired out of deadline order: %v", got)
	}
}

// indexOf returns t's index in ts.
func indexOf(ts []Timer, t *Timer) int {
	for i := range ts {
		if &ts[i] == t {
			return i
		}
	}
	return -1
}

func TestRearmInsideCallback(t *testing.T) {
	tick := 10 * time.Millisecond
	var w *Wheel
	var fires []time.Time
	h := func(tm *Timer) {
		fires = append(fires, w.Now())
		if len(fires) < 4 {
			w.Schedule(tm, 30*time.Millisecond)
		}
	}
	w = NewWheel(tick, epoch, h)
	var tm Timer
	w.Schedule(&tm, 30*time.Millisecond)
	for now := tick; now <= 200*time.Millisecond; now += tick {
		w.Advance(at(now))
	}
	want := []time.Time{at(30 * time.Millisecond), at(60 * time.Millisecond), at(90 * time.Millisecond), at(120 * time.Millisecond)}
	if !slices.EqualFunc(fires, want, time.Time.Equal) {
		t.Fatalf("fires %v, want %v", fires, want)
	}
	if tm.Active() || w.Len() != 0 {
		t.Fatalf("active %v len %d after last fire", tm.Active(), w.Len())
	}
}

// TestExpireReentrancy: inside the handler of A, which is due in the same
// batch as B and C, the handler arms N due now (fires only on the next
// Advance), cancels B (must not fire), re-arms C for later (must not fire
// now), and re-arms A itself due now (next Advance).
func TestExpireReentrancy(t *testing.T) {
	tick := 10 * time.Millisecond
	var a, b, c, n Timer
	a.Kind, b.Kind, c.Kind, n.Kind = 'A', 'B', 'C', 'N'
	var w *Wheel
	var fired []byte
	h := func(tm *Timer) {
		fired = append(fired, tm.Kind)
		if tm == &a && len(fired) == 1 {
			w.Schedule(&n, 0)
			if !w.Cancel(&b) {
				t.Error("Cancel(B) inside the batch returned false")
			}
			w.Schedule(&c, time.Second)
			w.Schedule(&a, -time.Second)
			if w.Advance(at(time.Hour)) != 0 {
				t.Error("nested Advance fired timers")
			}
		}
	}
	w = NewWheel(tick, epoch, h)
	w.Schedule(&a, tick)
	w.Schedule(&b, tick)
	w.Schedule(&c, tick)
	if got := w.Advance(at(tick)); got != 1 || string(fired) != "A" {
		t.Fatalf("first Advance fired %d %q, want 1 \"A\"", got, fired)
	}
	if b.Active() || !c.Active() || !n.Active() || !a.Active() || w.Len() != 3 {
		t.Fatalf("after batch: b %v c %v n %v a %v len %d", b.Active(), c.Active(), n.Active(), a.Active(), w.Len())
	}
	if !w.Now().Equal(at(tick)) {
		t.Fatalf("nested Advance moved the clock to %v", w.Now())
	}
	// Next Advance, same now: N and A (armed due inside the handler) fire.
	if got := w.Advance(at(tick)); got != 2 || string(fired) != "ANA" {
		t.Fatalf("second Advance fired %d %q, want 2 \"ANA\"", got, fired)
	}
	if got := w.Advance(at(tick + time.Second)); got != 1 || string(fired) != "ANAC" {
		t.Fatalf("third Advance fired %d %q, want C", got, fired)
	}
}

func TestRearmSelfZeroDoesNotSpin(t *testing.T) {
	var w *Wheel
	calls := 0
	w = NewWheel(0, epoch, func(tm *Timer) { calls++; w.Schedule(tm, 0) })
	var tm Timer
	w.Schedule(&tm, 0)
	for i := 1; i <= 3; i++ {
		if n := w.Advance(epoch); n != 1 || calls != i {
			t.Fatalf("Advance %d fired %d (calls %d), want 1", i, n, calls)
		}
	}
}

func TestCancel(t *testing.T) {
	var r recorder
	w := NewWheel(0, epoch, r.handle)
	var tm, never Timer
	if w.Cancel(&never) || w.Cancel(nil) {
		t.Fatal("Cancel of an idle or nil timer returned true")
	}
	w.Schedule(&tm, time.Second)
	if !w.Cancel(&tm) || tm.Active() || w.Len() != 0 || !tm.Deadline().IsZero() {
		t.Fatalf("Cancel of an armed timer: active %v len %d", tm.Active(), w.Len())
	}
	if w.Cancel(&tm) {
		t.Fatal("second Cancel returned true")
	}
	if w.Advance(at(time.Hour)) != 0 {
		t.Fatal("a cancelled timer fired")
	}
	// cancel after fire
	w.Schedule(&tm, time.Second)
	if w.Advance(at(time.Hour+time.Second)) != 1 {
		t.Fatal("timer did not fire")
	}
	if w.Cancel(&tm) || tm.Active() {
		t.Fatal("Cancel after fire returned true")
	}
	// a timer armed on another wheel is not w's to cancel
	other := NewWheel(0, epoch, nil)
	other.Schedule(&tm, time.Second)
	if w.Cancel(&tm) || !tm.Active() {
		t.Fatal("Cancel on the wrong wheel disarmed the timer")
	}
	// re-arming on w moves it (same goroutine owns both here)
	w.Schedule(&tm, time.Second)
	if other.Len() != 0 || w.Len() != 1 {
		t.Fatalf("move between wheels: other %d w %d", other.Len(), w.Len())
	}
	w.Schedule(nil, time.Second) // must not panic
}

func TestReschedule(t *testing.T) {
	tick := 10 * time.Millisecond
	var r recorder
	w := NewWheel(tick, epoch, r.handle)
	var tm Timer
	w.Schedule(&tm, time.Hour)
	w.Schedule(&tm, 50*time.Millisecond) // earlier
	if w.Len() != 1 {
		t.Fatalf("Len %d after re-arm, want 1", w.Len())
	}
	if w.Advance(at(40*time.Millisecond)) != 0 || w.Advance(at(50*time.Millisecond)) != 1 {
		t.Fatal("re-armed earlier: wrong fire time")
	}
	w.Schedule(&tm, 50*time.Millisecond)
	w.Schedule(&tm, 2*time.Hour) // later
	if w.Advance(at(time.Hour)) != 0 {
		t.Fatal("re-armed later: fired at the old deadline")
	}
	if w.Advance(at(2*time.Hour+50*time.Millisecond)) != 1 {
		t.Fatal("re-armed later: did not fire at the new deadline")
	}
	w.ScheduleAt(&tm, at(3*time.Hour))
	if !tm.Deadline().Equal(at(3*time.Hour)) || w.Advance(at(3*time.Hour-1)) != 0 || w.Advance(at(3*time.Hour)) != 1 {
		t.Fatal("ScheduleAt: wrong deadline or fire time")
	}
	w.ScheduleAt(&tm, at(time.Hour)) // in the past
	if w.Advance(at(3*time.Hour)) != 1 {
		t.Fatal("ScheduleAt in the past did not fire on the next Advance")
	}
}

func TestAdvanceBackwards(t *testing.T) {
	w := NewWheel(0, epoch, nil)
	w.Advance(at(time.Second))
	var tm Timer
	w.Schedule(&tm, 100*time.Millisecond)
	if w.Advance(at(0)) != 0 || !w.Now().Equal(at(time.Second)) {
		t.Fatalf("backwards Advance moved Now to %v", w.Now())
	}
	if !tm.Deadline().Equal(at(time.Second + 100*time.Millisecond)) {
		t.Fatalf("Deadline %v", tm.Deadline())
	}
	if w.Advance(at(time.Second+100*time.Millisecond)) != 1 {
		t.Fatal("did not fire after a backwards Advance")
	}
}

func TestNextExpiry(t *testing.T) {
	tick := 10 * time.Millisecond
	w := NewWheel(tick, epoch, nil)
	if _, ok := w.NextExpiry(); ok {
		t.Fatal("NextExpiry on an empty wheel reported a deadline")
	}
	var a, b, c Timer
	f := func(want time.Duration) {
		t.Helper()
		got, ok := w.NextExpiry()
		if !ok || !got.Equal(at(want)) {
			t.Fatalf("NextExpiry = %v %v, want %v", got, ok, at(want))
		}
	}
	w.Schedule(&a, 50*time.Hour) // top level, clamped
	f(50 * time.Hour)
	w.Schedule(&b, 3*time.Hour+5*time.Millisecond)
	f(3*time.Hour + 10*time.Millisecond) // rounded up to the tick
	w.Schedule(&c, 95*time.Second)
	f(95 * time.Second)
	w.Cancel(&c)
	f(3*time.Hour + 10*time.Millisecond)
	w.Advance(at(2 * time.Hour))
	f(3*time.Hour + 10*time.Millisecond)
	w.Schedule(&c, -time.Second) // due: reports its past deadline
	f(2*time.Hour - time.Second)
	w.Advance(at(2 * time.Hour))
	w.Cancel(&b)
	f(50 * time.Hour)
	w.Cancel(&a)
	if _, ok := w.NextExpiry(); ok {
		t.Fatal("NextExpiry after cancelling everything reported a deadline")
	}
}

// TestLongPauseSkipsEmptyTicks: a 10-minute pause with a few timers visits a
// handful of slots, not 60,000 ticks.
func TestLongPauseSkipsEmptyTicks(t *testing.T) {
	var r recorder
	w := NewWheel(10*time.Millisecond, epoch, r.handle)
	var a, b, c Timer
	w.Schedule(&a, time.Second)
	w.Schedule(&b, 5*time.Minute)
	w.Schedule(&c, 30*time.Hour)
	if n := w.Advance(at(10 * time.Minute)); n != 2 {
		t.Fatalf("fired %d, want 2", n)
	}
	// Each timer passes at most one slot per level on its way down.
	if w.visits > 2*uint64(w.nlevels) {
		t.Fatalf("visited %d slots for 2 timers over 60,000 ticks", w.visits)
	}
	before := w.visits
	for i := 1; i <= 1000; i++ { // empty ticks take the fast path
		w.Advance(at(10*time.Minute + time.Duration(i)*10*time.Millisecond))
	}
	if w.visits != before {
		t.Fatalf("empty ticks visited %d slots", w.visits-before)
	}
}

func TestFarFuture(t *testing.T) {
	w := NewWheel(time.Nanosecond, epoch, nil)
	var tm Timer
	w.Schedule(&tm, math.MaxInt64)
	w.Schedule(&tm, math.MaxInt64) // re-arm near the int64 limit
	if w.Advance(at(math.MaxInt64)) != 0 || !tm.Active() {
		t.Fatal("a deadline at the end of time fired")
	}
	if !w.Cancel(&tm) {
		t.Fatal("far-future timer could not be cancelled")
	}
	w2 := NewWheel(0, epoch, nil)
	w2.Advance(at(time.Hour))
	w2.Schedule(&tm, math.MaxInt64) // saturates instead of wrapping negative
	if w2.Advance(at(2*time.Hour)) != 0 || !tm.Active() {
		t.Fatal("saturated deadline fired")
	}
}

func TestNilHandler(t *testing.T) {
	w := NewWheel(0, epoch, nil)
	var tm Timer
	w.Schedule(&tm, time.Millisecond)
	if w.Advance(at(time.Second)) != 1 || tm.Active() {
		t.Fatal("nil handler: timer not expired")
	}
}

// TestHandlerPanic: a panicking handler leaves the wheel usable; the rest of
// the batch fires on the next Advance.
func TestHandlerPanic(t *testing.T) {
	var a, b, c Timer
	var got []*Timer
	w := NewWheel(0, epoch, func(tm *Timer) {
		got = append(got, tm)
		if tm == &a {
			panic("boom")
		}
	})
	w.Schedule(&a, time.Millisecond)
	w.Schedule(&b, time.Millisecond)
	func() {
		defer func() { _ = recover() }()
		w.Advance(at(time.Second))
	}()
	w.Schedule(&c, 0)
	if n := w.Advance(at(time.Second)); n != 2 || len(got) != 3 || got[1] != &b || got[2] != &c || w.Len() != 0 {
		t.Fatalf("after panic: fired %d, got %d, len %d", n, len(got), w.Len())
	}
}
