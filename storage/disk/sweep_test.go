package disk

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/smppd/smppd/storage/disk/wal"
)

// TestSweepKeepsUp: records taken faster than the walk's floor (64 shards ×
// sweepMin a call) are all freed by the next Sweep once past their
// lifetime; with the floor alone a store taking more than that a second
// held every record it took.
func TestSweepKeepsUp(t *testing.T) {
	clk := newTestClock()
	s, err := Open(Options{Dir: t.TempDir(), Sync: wal.SyncNever, TTL: time.Second, Now: clk.now, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = nShards * (sweepMin + sweepMin/4)
	for i := range n {
		r := benchRecord(uint64(i + 1))
		r.Submitted = clk.now()
		err := s.Put(&r)
		if errors.Is(err, wal.ErrBufferFull) {
			// Puts outran the log's writer: wait for it, as a caller would.
			drain(t, s)
			err = s.Put(&r)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != n {
		t.Fatalf("%d records held, want %d", got, n)
	}
	clk.advance(2 * time.Second)
	if k := s.Sweep(clk.now()); k != n {
		t.Fatalf("one Sweep freed %d of %d records past their lifetime", k, n)
	}
	if got := s.Len(); got != 0 {
		t.Fatalf("%d records held after the Sweep", got)
	}
}

// BenchmarkSweepHeld measures what the slab holds against what is live
// when records come faster than the walk's floor: a simulated clock,
// 400,000 records a second (64 × 100 on a fast box) with message_ttl 1 s,
// one Sweep a second as smppd's background goroutine runs it, for b.N
// records. Reported: slots (the slab's slots at the end, free ones
// included: what stays resident) and held (records not yet freed) per
// record of one second's traffic, and heap-MiB (the Go heap in use after
// a GC, the store's tables and slab).
//
//	go test -run '^$' -bench SweepHeld -benchtime 4000000x ./storage/disk/
func BenchmarkSweepHeld(b *testing.B) {
	const rate = 400_000
	clk := newTestClock()
	s, err := Open(Options{Dir: b.TempDir(), Sync: wal.SyncNever, TTL: time.Second, Now: clk.now, CompactEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	step := time.Second / rate
	for i := range b.N {
		r := benchRecord(uint64(i + 1))
		r.Submitted = clk.now()
		for s.Put(&r) != nil {
			drainBench(b, s)
		}
		clk.advance(step)
		if i%rate == rate-1 {
			s.Sweep(clk.now())
			if _, err := s.Compact(false); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	slots := 0
	for i := range s.recs {
		slots += s.recs[i].slots.len()
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(slots)/rate, "slots/rate")
	b.ReportMetric(float64(s.Len())/rate, "held/rate")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
}
