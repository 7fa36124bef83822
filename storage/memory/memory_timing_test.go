package memory

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// benchID looks like an IDGen id: a counter above 12 node bits.
func benchID(i uint64) msg.ID { return msg.ID(i<<12 | 7) }

// warm returns a store of MaxRecords n already filled past n, so every
// benchmark iteration is the steady state (a Put evicts).
func warm(b *testing.B, n int) (*Store, uint64) {
	s := New(Options{MaxRecords: n, MaxUpstream: n})
	r := rec(0, time.Now().UnixNano())
	var i uint64
	for ; i < uint64(2*n); i++ {
		r.ID = benchID(i)
		s.Put(&r)
	}
	b.ResetTimer()
	return s, i
}

// BenchmarkCycle is the flow's per-message use: Put at acceptance, Get and
// SetState when the receipt comes.
func BenchmarkCycle(b *testing.B) {
	s, next := warm(b, 100_000)
	r := rec(0, time.Now().UnixNano())
	var out storage.Record
	b.ReportAllocs()
	for b.Loop() {
		r.ID = benchID(next)
		next++
		s.Put(&r)
		s.Get(r.ID, &out)
		s.SetState(r.ID, msg.StateDelivered, 0, r.Submitted)
	}
}

// BenchmarkPutEvict is the submit path's Put at the demo's max_records
// (50,000): a new id into a full shard, which evicts its oldest record.
func BenchmarkPutEvict(b *testing.B) {
	s, next := warm(b, 50_000)
	r := rec(0, time.Now().UnixNano())
	b.ReportAllocs()
	for b.Loop() {
		r.ID = benchID(next)
		next++
		s.Put(&r)
	}
}

func BenchmarkCycleParallel(b *testing.B) {
	s, next := warm(b, 100_000)
	var ctr atomic.Uint64
	ctr.Store(next)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := rec(0, time.Now().UnixNano())
		var out storage.Record
		for pb.Next() {
			r.ID = benchID(ctr.Add(1))
			s.Put(&r)
			s.Get(r.ID, &out)
			s.SetState(r.ID, msg.StateDelivered, 0, r.Submitted)
		}
	})
}

// BenchmarkCycleMutexMap is the baseline: one mutex over a map of Records,
// deleting the oldest id to stay bounded.
func BenchmarkCycleMutexMap(b *testing.B) {
	const n = 100_000
	var mu sync.Mutex
	m := make(map[msg.ID]storage.Record, n)
	r := rec(0, time.Now().UnixNano())
	var i uint64
	for ; i < n; i++ {
		m[benchID(i)] = r
	}
	var ctr atomic.Uint64
	ctr.Store(i)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rec(0, time.Now().UnixNano())
		for pb.Next() {
			k := ctr.Add(1)
			r.ID = benchID(k)
			mu.Lock()
			delete(m, benchID(k-n))
			m[r.ID] = r
			mu.Unlock()
			mu.Lock()
			out := m[r.ID]
			mu.Unlock()
			mu.Lock()
			out.State = msg.StateDelivered
			m[r.ID] = out
			mu.Unlock()
		}
	})
}

func BenchmarkGet(b *testing.B) {
	s, next := warm(b, 100_000)
	var out storage.Record
	b.ReportAllocs()
	i := next - 50_000
	for b.Loop() {
		s.Get(benchID(i), &out)
		i++
		if i == next {
			i = next - 50_000
		}
	}
}

// BenchmarkReadDecided: a read of a record whose final state was decided
// at acceptance (every record the simulator accepts), with the default
// clocks: Get pays its view's precise clock read, GetStored does not.
func BenchmarkReadDecided(b *testing.B) {
	s := New(Options{MaxRecords: 1 << 12, TTL: time.Hour})
	now := time.Now().UnixNano()
	for i := range msg.ID(1024) {
		r := rec(i+1, now)
		if err := s.Put(&r); err != nil {
			b.Fatal(err)
		}
		if err := s.SetAccepted(r.ID, msg.StateDelivered, 0, now); err != nil {
			b.Fatal(err)
		}
	}
	for _, read := range []struct {
		name string
		get  func(msg.ID, *storage.Record) error
	}{{"Get", s.Get}, {"GetStored", s.GetStored}} {
		b.Run(read.name, func(b *testing.B) {
			var out storage.Record
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := read.get(msg.ID(i%1024+1), &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// warmUpstream returns a store with MaxUpstream n filled past n.
func warmUpstream(b *testing.B, n int) (*Store, uint64) {
	s := New(Options{MaxRecords: n, MaxUpstream: n})
	var key [24]byte
	var i uint64
	for ; i < uint64(2*n); i++ {
		s.PutUpstream(0, strconv.AppendUint(key[:0], i, 16), benchID(i))
	}
	b.ResetTimer()
	return s, i
}

// BenchmarkUpstreamCycle: a connector maps the upstream id at submit_sm_resp
// and a receipt looks it up.
func BenchmarkUpstreamCycle(b *testing.B) {
	s, i := warmUpstream(b, 100_000)
	var key [24]byte
	b.ReportAllocs()
	for b.Loop() {
		k := strconv.AppendUint(key[:0], i, 16)
		s.PutUpstream(0, k, benchID(i))
		s.Upstream(0, k)
		i++
	}
}

func BenchmarkUpstreamCycleParallel(b *testing.B) {
	s, next := warmUpstream(b, 100_000)
	var ctr atomic.Uint64
	ctr.Store(next)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var key [24]byte
		for pb.Next() {
			i := ctr.Add(1)
			k := strconv.AppendUint(key[:0], i, 16)
			s.PutUpstream(0, k, benchID(i))
			s.Upstream(0, k)
		}
	})
}

// BenchmarkGCMillionRecords is the cost of a full GC cycle with a store of
// 1,000,000 records (the default limit): what the pointer-free entry ring
// saves the collector.
func BenchmarkGCMillionRecords(b *testing.B) {
	const n = 1_000_000
	s := New(Options{MaxRecords: n})
	r := rec(0, time.Now().UnixNano())
	for i := uint64(0); i < n; i++ {
		r.ID = benchID(i)
		s.Put(&r)
	}
	runtime.GC()
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
	}
	runtime.KeepAlive(s)
}

// BenchmarkBytesPerRecord fills stores of 100,000 records and 100,000
// upstream ids and reports the heap they take per entry.
func BenchmarkBytesPerRecord(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := New(Options{MaxRecords: n, MaxUpstream: n})
		r := rec(0, time.Now().UnixNano())
		for i := uint64(0); i < 2*n; i++ {
			r.ID = benchID(i)
			s.Put(&r)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/record")
		var key [24]byte
		for i := uint64(0); i < 2*n; i++ {
			s.PutUpstream(0, strconv.AppendUint(key[:0], i<<20, 16), benchID(i))
		}
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.ReportMetric(float64(before.HeapAlloc-after.HeapAlloc)/n, "B/upstream")
		runtime.KeepAlive(s)
	}
}
