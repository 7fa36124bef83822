package logthrottle

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestGateBurstPerPeriod(t *testing.T) {
	g := New(time.Second, 3)
	base := int64(10 * time.Second)
	for i := range 3 {
		if ok, _ := g.Allow(base + int64(i)); !ok {
			t.Fatalf("line %d of the burst refused", i)
		}
	}
	for i := range 5 {
		if ok, _ := g.Allow(base + 10 + int64(i)); ok {
			t.Fatalf("line %d past the burst let through", i)
		}
	}
	ok, dropped := g.Allow(base + int64(time.Second))
	if !ok || dropped != 5 {
		t.Fatalf("next period: ok=%v dropped=%d, want true 5", ok, dropped)
	}
	if ok, dropped := g.Allow(base + int64(time.Second) + 1); !ok || dropped != 0 {
		t.Fatalf("second line of the new period: ok=%v dropped=%d", ok, dropped)
	}
}

// A clock that starts near 0 (a monotonic reading from process start) gets
// its first line at once, not one period later.
func TestGateClockNearZero(t *testing.T) {
	g := New(10*time.Second, 1)
	if ok, _ := g.Allow(1); !ok {
		t.Fatal("first line at t=1ns refused")
	}
	if ok, _ := g.Allow(2); ok {
		t.Fatal("second line in the same period let through")
	}
	if ok, n := g.Allow(1 + int64(10*time.Second)); !ok || n != 1 {
		t.Fatalf("next period: %v, suppressed %d", ok, n)
	}
}

func TestGateZeroValueOnePerSecond(t *testing.T) {
	var g Gate
	if ok, _ := g.Allow(int64(time.Hour)); !ok {
		t.Fatal("first line refused")
	}
	if ok, _ := g.Allow(int64(time.Hour) + 1); ok {
		t.Fatal("second line in the same second let through")
	}
}

func TestGateConcurrentBound(t *testing.T) {
	g := New(time.Hour, 10)
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for range 1000 {
				if ok, _ := g.Allow(int64(time.Hour)); ok {
					n++
				}
			}
			mu.Lock()
			passed += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if passed != 10 {
		t.Fatalf("%d lines let through in one period, want 10", passed)
	}
	if got := g.Suppressed(); got != 8000-10 {
		t.Fatalf("suppressed %d, want %d", got, 8000-10)
	}
}

func TestEventCarriesSuppressed(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	g := New(time.Second, 1)
	now := int64(time.Minute)
	g.Event(&log, zerolog.WarnLevel, now).Msg("first")
	g.Event(&log, zerolog.WarnLevel, now+1).Msg("dropped")
	g.Event(&log, zerolog.WarnLevel, now+2).Msg("dropped")
	g.Event(&log, zerolog.WarnLevel, now+int64(time.Second)).Msg("second")
	out := buf.String()
	if strings.Contains(out, "dropped") {
		t.Fatalf("suppressed lines written: %s", out)
	}
	if !strings.Contains(out, `"suppressed":2`) || !strings.Contains(out, "second") {
		t.Fatalf("second line lacks the suppressed count: %s", out)
	}
}

func TestEventBelowLevelSpendsNoBudget(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf).Level(zerolog.InfoLevel)
	g := New(time.Second, 1)
	g.Event(&log, zerolog.DebugLevel, 1).Msg("debug")
	g.Event(&log, zerolog.InfoLevel, 2).Msg("info")
	if !strings.Contains(buf.String(), "info") || strings.Contains(buf.String(), "debug") {
		t.Fatalf("got %q", buf.String())
	}
}

func TestAllowAllocatesNothing(t *testing.T) {
	g := New(time.Second, 5)
	now := int64(0)
	if n := testing.AllocsPerRun(1000, func() { now++; g.Allow(now) }); n != 0 {
		t.Fatalf("Allow allocates %v per call", n)
	}
}

func TestSetConfiguresEveryGate(t *testing.T) {
	var a, b Gate
	Set(10*time.Second, 3, &a, &b)
	for _, g := range []*Gate{&a, &b} {
		if g.Period != 10*time.Second || g.Burst != 3 {
			t.Fatalf("gate %+v not configured", g.Period)
		}
	}
}
