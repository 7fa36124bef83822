//go:build !race

package timers

import (
	"testing"
	"time"
)

func TestAllocations(t *testing.T) {
	timers := make([]Timer, 1024)
	var w *Wheel
	w = NewWheel(10*time.Millisecond, epoch, func(tm *Timer) { w.Schedule(tm, 70*time.Millisecond) })
	now := epoch
	f := func(name string, fn func()) {
		t.Helper()
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", name, n)
		}
	}
	i := 0
	f("Schedule", func() {
		tm := &timers[i%len(timers)]
		w.Cancel(tm)
		w.Schedule(tm, time.Duration(i%5000)*time.Millisecond)
		i++
	})
	f("re-Schedule", func() {
		w.Schedule(&timers[i%len(timers)], time.Duration(i%90000)*time.Second)
		i++
	})
	f("ScheduleAt", func() {
		w.ScheduleAt(&timers[i%len(timers)], now.Add(time.Duration(i%600)*time.Second))
		i++
	})
	f("Cancel", func() {
		w.Cancel(&timers[i%len(timers)])
		i++
	})
	for j := range timers {
		w.Schedule(&timers[j], time.Duration(j%97)*10*time.Millisecond)
	}
	fired := 0
	f("Advance with fires", func() {
		now = now.Add(10 * time.Millisecond)
		fired += w.Advance(now)
	})
	if fired == 0 {
		t.Fatal("Advance fired nothing: the allocation check measured no expiries")
	}
	f("NextExpiry", func() {
		w.Cancel(&timers[i%len(timers)])
		_, _ = w.NextExpiry()
		i++
	})
}
