package disk

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// countingFS is the operating system's file layer counting the bytes
// handed to WriteAt: into segments (entries, headers, compaction's copies)
// and into the spare segment (preallocation's zeros).
type countingFS struct {
	wal.OSFS
	seg, spare *atomic.Uint64
}

func (f countingFS) OpenFile(name string, flag int) (wal.File, error) {
	fl, err := f.OSFS.OpenFile(name, flag)
	if err != nil {
		return nil, err
	}
	n := f.seg
	if strings.HasSuffix(name, ".tmp") {
		n = f.spare
	}
	return countingFile{File: fl, n: n}, nil
}

type countingFile struct {
	wal.File
	n *atomic.Uint64
}

func (f countingFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	f.n.Add(uint64(n))
	return n, err
}

// BenchmarkLifecycleBytes measures what the disk store writes for each
// message's whole life as smppd makes it with receipts asked: the record
// with the message's body (PutMessage), its acceptance, its final state
// (Finish), the receipt deliver_sm held for its ESME (Hold) and acknowledged
// (Ack). The clock is simulated: 10,000 messages a second with
// message_ttl 10 s, so about 100,000 records are live once the first
// expire; Sweep and compaction run every 1,000 messages, on 4 MiB segments
// prepared ahead as smppd does (Preallocate). Reported per message:
// written-B (every byte handed to the disk: entries, segment headers,
// compaction's copies, the spares' zeros), logical-B (the payloads the
// calls appended, compaction's copies not counted), write-amp (their
// ratio; without the zeros: write-amp-no-prealloc), the share of spares
// made from removed segments rather than zeros (recycled/spare); and per live record
// at the end: disk-B (the segments' bytes) and heap-B (the Go heap's growth
// from the empty store, after a GC).
//
//	go test -run '^$' -bench LifecycleBytes -benchtime 300000x ./storage/disk/
func BenchmarkLifecycleBytes(b *testing.B) { lifecycleBytes(b, false) }

// BenchmarkLifecycleBytesRecipe is BenchmarkLifecycleBytes with the
// receipt held as smppd holds it: HoldRecipe with an 83-octet recipe (a
// receipt to and from 12-digit numbers with a 20-character text prefix,
// whose body is 196 octets) and a Rebuild, so the log takes the recipe.
func BenchmarkLifecycleBytesRecipe(b *testing.B) { lifecycleBytes(b, true) }

func lifecycleBytes(b *testing.B, recipe bool) {
	const (
		step = int64(100 * time.Microsecond) // 10,000 messages a second
		ttl  = 10 * time.Second
		seg  = 4 << 20
	)
	var segBytes, spareBytes atomic.Uint64
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC).UnixNano())
	s, err := Open(Options{Dir: b.TempDir(), Sync: wal.SyncInterval, SyncInterval: time.Second, SegmentSize: seg, Preallocate: true,
		FS: countingFS{seg: &segBytes, spare: &spareBytes}, TTL: ttl, Now: now.Load, CompactEvery: -1,
		Rebuild: func(dst, r []byte) ([]byte, error) { return append(dst, r...), nil }})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	seg0, spare0 := segBytes.Load(), spareBytes.Load()
	ws0 := s.log.Stats()
	copied0 := s.compactor.copiedBytes.Load()
	receipt := make([]byte, 150) // a receipt deliver_sm's body
	var rcp []byte
	if recipe {
		receipt, rcp = make([]byte, 196), make([]byte, 83)
	}
	var out storage.Record
	b.ResetTimer()
	for i := range b.N {
		t := now.Add(step)
		r := benchRecord(uint64(i + 1))
		r.Submitted = t
		for s.PutMessage(&r, benchBody) != nil {
			drainBench(b, s)
		}
		if err := s.SetAccepted(r.ID, 0, 0, 0); err != nil {
			b.Fatal(err)
		}
		if err := s.Finish(r.ID, msg.StateDelivered, 0, t, &out); err != nil {
			b.Fatal(err)
		}
		h := storage.Held{SystemID: "esme1", Kind: storage.HeldReceipt, ID: r.ID, Body: receipt, Expires: t + int64(time.Hour)}
		var key storage.HeldKey
		var err error
		if recipe {
			key, err = s.Holds().(storage.RecipeHolds).HoldRecipe(&h, rcp)
		} else {
			key, err = s.Holds().Hold(&h)
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Holds().Ack(key); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 {
			s.Sweep(t)
			if _, err := s.Compact(false); err != nil {
				b.Fatal(err)
			}
		}
	}
	drainBench(b, s)
	b.StopTimer()
	ws := s.log.Stats()
	written := float64(segBytes.Load()-seg0) + float64(spareBytes.Load()-spare0)
	logical := float64(ws.AppendedBytes-ws0.AppendedBytes) - float64(s.compactor.copiedBytes.Load()-copied0)
	n := float64(b.N)
	b.ReportMetric(written/n, "written-B/msg")
	b.ReportMetric(logical/n, "logical-B/msg")
	b.ReportMetric(written/logical, "write-amp")
	b.ReportMetric(float64(segBytes.Load()-seg0)/logical, "write-amp-no-prealloc")
	if made := ws.Preallocated - ws0.Preallocated; made > 0 {
		b.ReportMetric(float64(ws.PreallocRecycled-ws0.PreallocRecycled)/float64(made), "recycled/spare")
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	st := s.Stats()
	if st.Records > 0 {
		b.ReportMetric(float64(st.BytesUsed)/float64(st.Records), "disk-B/live")
		b.ReportMetric((float64(after.HeapAlloc)-float64(before.HeapAlloc))/float64(st.Records), "heap-B/live")
		b.ReportMetric(float64(st.Records), "live")
	}
}
