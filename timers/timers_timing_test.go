package timers

import (
	"math/rand/v2"
	"testing"
	"time"
)

// Baselines run in the same process: time.AfterFunc (allocating, as a naive
// owner would use it) and reused time.Timers with Reset (the runtime's best
// case). Durations are long enough that no runtime timer fires mid-run.

const (
	n1M       = 1_000_000
	live100k  = 100_000
	rearm10pc = live100k / 10
)

func benchDurations(n int, lo, hi time.Duration) []time.Duration {
	rng := rand.New(rand.NewPCG(7, 11))
	ds := make([]time.Duration, n)
	for i := range ds {
		ds[i] = lo + time.Duration(rng.Int64N(int64(hi-lo)))
	}
	return ds
}

func noop() {}

// perTimer reports the cost of one timer's operations (ns/timer).
func perTimer(b *testing.B, timersPerOp int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(timersPerOp), "ns/timer")
}

func BenchmarkWheelScheduleCancel_1M(b *testing.B) { benchWheelScheduleCancel(b, n1M) }
func BenchmarkAfterFuncStop_1M(b *testing.B)       { benchAfterFuncStop(b, n1M) }
func BenchmarkTimerResetStop_1M(b *testing.B)      { benchTimerResetStop(b, n1M) }

// The 1k variants fit in cache: they separate the CPU cost from the memory
// traffic of a million nodes.
func BenchmarkWheelScheduleCancel_1k(b *testing.B) { benchWheelScheduleCancel(b, 1000) }
func BenchmarkAfterFuncStop_1k(b *testing.B)       { benchAfterFuncStop(b, 1000) }
func BenchmarkTimerResetStop_1k(b *testing.B)      { benchTimerResetStop(b, 1000) }

func benchWheelScheduleCancel(b *testing.B, n int) {
	ds := benchDurations(n, time.Second, time.Hour)
	timers := make([]Timer, n)
	w := NewWheel(DefaultTick, epoch, nil)
	for i := range timers { // first touch of the memory stays out of the timing
		w.Schedule(&timers[i], ds[i])
		w.Cancel(&timers[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := range timers {
			w.Schedule(&timers[i], ds[i])
		}
		for i := range timers {
			w.Cancel(&timers[i])
		}
	}
	perTimer(b, n)
}

func benchAfterFuncStop(b *testing.B, n int) {
	ds := benchDurations(n, time.Second, time.Hour)
	ts := make([]*time.Timer, n)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := range ts {
			ts[i] = time.AfterFunc(ds[i], noop)
		}
		for _, t := range ts {
			t.Stop()
		}
	}
	perTimer(b, n)
}

func benchTimerResetStop(b *testing.B, n int) {
	ds := benchDurations(n, time.Second, time.Hour)
	ts := make([]*time.Timer, n)
	for i := range ts {
		ts[i] = time.AfterFunc(time.Hour, noop)
		ts[i].Stop()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i, t := range ts {
			t.Reset(ds[i])
		}
		for _, t := range ts {
			t.Stop()
		}
	}
	perTimer(b, n)
}

// One op = one tick: 10% of 100,000 live timers re-armed, then Advance.
func BenchmarkWheelLive100kRearm10pct(b *testing.B) {
	ds := benchDurations(live100k, time.Second, time.Minute)
	timers := make([]Timer, live100k)
	var w *Wheel
	w = NewWheel(DefaultTick, epoch, func(t *Timer) { w.Schedule(t, time.Second) })
	for i := range timers {
		w.Schedule(&timers[i], ds[i])
	}
	now, next := epoch, 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for range rearm10pc {
			w.Schedule(&timers[next], ds[next])
			if next++; next == live100k {
				next = 0
			}
		}
		now = now.Add(DefaultTick)
		w.Advance(now)
	}
	perTimer(b, rearm10pc)
	if w.Len() != live100k {
		b.Fatalf("Len %d, want %d", w.Len(), live100k)
	}
}

func BenchmarkTimerLive100kRearm10pct(b *testing.B) {
	ds := benchDurations(live100k, time.Second, time.Minute)
	ts := make([]*time.Timer, live100k)
	for i := range ts {
		ts[i] = time.AfterFunc(ds[i], noop)
	}
	next := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for range rearm10pc {
			ts[next].Reset(ds[next])
			if next++; next == live100k {
				next = 0
			}
		}
	}
	perTimer(b, rearm10pc)
	b.StopTimer()
	for _, t := range ts {
		t.Stop()
	}
}

// One op = one tick of a wheel where 100,000 timers spread over 10 s keep
// expiring and re-arming: about 100 fires per tick.
func BenchmarkWheelFire100k(b *testing.B) {
	timers := make([]Timer, live100k)
	var w *Wheel
	w = NewWheel(DefaultTick, epoch, func(t *Timer) { w.Schedule(t, 10*time.Second) })
	for i := range timers {
		w.Schedule(&timers[i], time.Duration(i)*10*time.Second/live100k)
	}
	now, fired := epoch, 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		now = now.Add(DefaultTick)
		fired += w.Advance(now)
	}
	if fired > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(fired), "ns/fire")
	}
}

// One op = Advance over a 10-minute pause with 1,000 timers armed 1 s..1 h
// out: cost tracks occupied slots, not the 60,000 elapsed ticks.
func BenchmarkWheelLongPause(b *testing.B) {
	ds := benchDurations(1000, time.Second, time.Hour)
	timers := make([]Timer, len(ds))
	var w *Wheel
	w = NewWheel(DefaultTick, epoch, func(t *Timer) { w.Schedule(t, ds[indexOf(timers, t)%len(ds)]) })
	for i := range timers {
		w.Schedule(&timers[i], ds[i])
	}
	now := epoch
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		now = now.Add(10 * time.Minute)
		w.Advance(now)
	}
}
