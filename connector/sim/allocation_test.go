//go:build !race

package sim

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
)

// TestAllocations drives the worker by hand: Submit, step, receipt, in the
// steady state (pending receipts, latency hold, MO echo, outcome draw).
func TestAllocations(t *testing.T) {
	f := func(name string, opts Options) {
		t.Helper()
		now := t0
		opts.Clock = func() int64 { return now }
		opts.Manual = true
		c, err := New("sim", opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(nopSink{}); err != nil {
			t.Fatal(err)
		}
		var id msg.ID
		op := func() {
			m := msg.NewMessage()
			id++
			dst := "12345"
			if id%4 == 0 {
				dst = "99912"
			}
			fill(m, id, dst)
			if !c.Submit(m) {
				t.Fatal("Submit refused")
			}
			now += int64(time.Millisecond)
			c.Step(now)
		}
		for range 2000 { // grow the hold and the receipt FIFO to their steady size
			op()
		}
		if a := testing.AllocsPerRun(5000, op); a != 0 {
			t.Errorf("%s: %v allocs per message, want 0", name, a)
		}
		if c.Stats().Receipts == 0 {
			t.Errorf("%s: no receipts emitted", name)
		}
	}
	f("defaults, delay 100ms", Options{ReceiptDelay: 100 * time.Millisecond})
	f("latency, mix, intermediate, echo", Options{
		Latency: 20 * time.Millisecond, ReceiptDelay: 50 * time.Millisecond,
		Outcomes:     [NumOutcomes]int{Delivered: 80, Undeliverable: 10, Expired: 5, Rejected: 5},
		Intermediate: true, MOEchoPrefixes: []string{"999"}, Seed: 1,
	})
	f("receipts at once", Options{ReceiptDelay: ReceiptsAtOnce})
	f("pending bound reached", Options{MaxPending: 8})
}

// recycleSink counts receipts; it releases nothing (the simulator does).
type recycleSink struct{ receipts atomic.Int64 }

func (*recycleSink) Accepted(*msg.Message, []byte)          {}
func (*recycleSink) Failed(*msg.Message, uint32, msg.State) {}
func (s *recycleSink) Receipt(*msg.Receipt) error           { s.receipts.Add(1); return nil }
func (*recycleSink) MO(*msg.Inbound) error                  { return nil }
func (*recycleSink) Sync() error                            { return nil }

// TestMallocsPerMessage sends a million messages through the running
// worker (Submit → Accepted → Receipt) and counts heap allocations.
func TestMallocsPerMessage(t *testing.T) {
	const n = 1_000_000
	const warm = 50_000
	var clock atomic.Int64
	clock.Store(t0)
	c, err := New("sim", Options{Queue: 4096, ReceiptDelay: 2000, Clock: clock.Load})
	if err != nil {
		t.Fatal(err)
	}
	s := &recycleSink{}
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	send := func(from, to int) {
		for i := from; i < to; i++ {
			m := msg.NewMessage()
			fill(m, msg.ID(i), "12345")
			clock.Add(1) // receipts fall due 2000 messages after acceptance
			for !c.Submit(m) {
				runtime.Gosched()
			}
		}
	}
	send(0, warm)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	send(warm, warm+n)
	runtime.ReadMemStats(&after)

	// Move the clock only once the last message was accepted, or its
	// receipt would fall due after the clock's last reading.
	waitFor(t, "every acceptance", func() bool { return c.Stats().Accepted == warm+n })
	clock.Add(int64(time.Hour))
	c.Poke()
	waitFor(t, "every receipt", func() bool { return s.receipts.Load() == warm+n })
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	per := float64(after.Mallocs-before.Mallocs) / n
	t.Logf("%.4f mallocs per message (%d over %d)", per, after.Mallocs-before.Mallocs, n)
	if per >= 0.05 {
		t.Errorf("%.4f mallocs per message, want < 0.05", per)
	}
}
