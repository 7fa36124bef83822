package disk

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
	"github.com/smppd/smppd/storage/memory"
)

// The benchmarks of the per-message workload: a message stored with its
// body (PutMessage), accepted by its connector (SetAccepted) and finished
// by its receipt (Finish). BenchmarkMessage measures the calls alone, as
// the event loops and connector workers make them; BenchmarkWindow
// measures what ESMEs see (sessions x window). bench_bbolt_test.go runs the
// same workload on bbolt (go test -tags bbolt).

// benchBody is a message's binary form of a typical size.
var benchBody = make([]byte, 160)

// benchRecord returns the record of message n.
func benchRecord(n uint64) storage.Record {
	r := storage.Record{ID: msg.ID(n<<12 | 7), SystemID: "esme1", State: msg.StateEnroute, RegisteredDelivery: 1,
		DataCoding: 0, Connector: 1, Submitted: time.Now().UnixNano(), Parts: 1, Charge: 1000}
	r.SetAddrs([]byte("447700900123"), []byte("447700900456"), []byte("Your code is 123456"))
	return r
}

// benchStore opens a disk store in a fresh directory (on the disk the
// tests run on: TMPDIR) with sync mode m.
func benchStore(b *testing.B, m wal.SyncMode) *Store {
	s, err := Open(Options{Dir: b.TempDir(), Sync: m, CompactEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkMessage(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) storage.Store
	}{
		{"memory", func(*testing.B) storage.Store { return memory.New(memory.Options{}) }},
		{"disk-always", func(b *testing.B) storage.Store { return benchStore(b, wal.SyncAlways) }},
		{"disk-interval", func(b *testing.B) storage.Store { return benchStore(b, wal.SyncInterval) }},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			var next atomic.Uint64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var out storage.Record
				r := benchRecord(0)
				for pb.Next() {
					r.ID = msg.ID(next.Add(1)<<12 | 7)
					for {
						err := s.PutMessage(&r, benchBody)
						if err == nil {
							break
						}
						// The device is behind these calls (no ESME waits
						// here): let it catch up, as a refused submit would.
						if werr := s.Committer().WaitCommitted(s.Committer().Written()); werr != nil {
							b.Fatal(err)
						}
					}
					if err := s.SetAccepted(r.ID, 0, 0, 0); err != nil {
						b.Fatal(err)
					}
					if err := s.Finish(r.ID, msg.StateDelivered, 0, r.Submitted, &out); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// windowCases are BenchmarkWindow's sessions x window: the 4 x
// 100 and 64 x 100.
var windowCases = []struct{ sessions, window int }{{4, 100}, {64, 100}}

// BenchmarkWindow is what ESMEs see: sessions, each with up to window
// messages unacknowledged. A message is acknowledged once its PutMessage
// is committed (with SyncAlways: on disk; one fsync answers every message
// that arrived meanwhile); its acceptance and receipt follow without
// waiting, as connector workers record them. Each session is one
// goroutine that waits only when its window is full, as the hub's
// deferred answers do (no goroutine per message).
func BenchmarkWindow(b *testing.B) {
	for _, c := range windowCases {
		name := fmt.Sprintf("%dx%d", c.sessions, c.window)
		b.Run("memory/"+name, func(b *testing.B) {
			benchWindow(b, c.sessions, c.window, memory.New(memory.Options{}))
		})
		b.Run("disk-always/"+name, func(b *testing.B) {
			s := benchStore(b, wal.SyncAlways)
			benchWindow(b, c.sessions, c.window, s)
			st := s.Stats()
			b.ReportMetric(float64(st.FsyncP50.Microseconds()), "fsync-p50-µs")
			b.ReportMetric(st.GroupCommitBatch, "entries/commit")
			if st.FsyncP50 > 0 {
				// Little's law: sessions x window messages in flight, each
				// waiting at least one fsync.
				b.ReportMetric(float64(c.sessions*c.window)/st.FsyncP50.Seconds(), "fsync-bound-msg/s")
			}
		})
	}
}

// pending is one unacknowledged message of a session.
type pending struct {
	pos uint64
	t0  time.Time
}

// benchWindow runs b.N messages through s from sessions goroutines with
// up to window unacknowledged each, and reports the rate and the
// submit-to-acknowledge latencies.
func benchWindow(b *testing.B, sessions, window int, s storage.Store) {
	cm := s.Committer()
	var next atomic.Uint64
	lat := make([][]time.Duration, sessions)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range sessions {
		wg.Go(func() {
			var out storage.Record
			l := make([]time.Duration, 0, b.N/sessions+1)
			ring := make([]pending, 0, window)
			ack := func(upTo uint64) {
				k := 0
				now := time.Now()
				for ; k < len(ring) && ring[k].pos <= upTo; k++ {
					l = append(l, now.Sub(ring[k].t0))
				}
				ring = ring[:copy(ring, ring[k:])]
			}
			for {
				if len(ring) == window {
					if err := cm.WaitCommitted(ring[0].pos); err != nil {
						b.Error(err)
						return
					}
				}
				ack(cm.Committed())
				k := next.Add(1)
				if k > uint64(b.N) {
					break
				}
				r := benchRecord(k)
				t0 := time.Now()
				for {
					err := s.PutMessage(&r, benchBody)
					if err == nil {
						break
					}
					// Refused (the buffer is full): the ESME retries after a
					// commit, as it would after ESME_RMSGQFUL.
					if werr := cm.WaitCommitted(cm.Written()); werr != nil {
						b.Error(err)
						return
					}
				}
				ring = append(ring, pending{cm.Written(), t0})
				if err := s.SetAccepted(r.ID, 0, 0, 0); err != nil {
					b.Error(err)
					return
				}
				if err := s.Finish(r.ID, msg.StateDelivered, 0, r.Submitted, &out); err != nil {
					b.Error(err)
					return
				}
			}
			if len(ring) > 0 {
				if err := cm.WaitCommitted(ring[len(ring)-1].pos); err != nil {
					b.Error(err)
				}
				ack(cm.Committed())
			}
			lat[g] = l
		})
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	reportLatency(b, lat, el)
}

// reportLatency reports msg/s over el and the p50 and p99 of the latencies.
func reportLatency(b *testing.B, lat [][]time.Duration, el time.Duration) {
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/el.Seconds(), "msg/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
}

// recoverRecords is the size of BenchmarkRecover's store (the issue's
// 1,000,000); SMPPD_RECOVER_RECORDS overrides it for a quick run.
func recoverRecords() int {
	if v := os.Getenv("SMPPD_RECOVER_RECORDS"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err == nil && n > 0 {
			return n
		}
	}
	return 1_000_000
}

// BenchmarkRecover opens a store of recoverRecords live records: each
// message stored with its body, accepted and finished (three entries), one
// in ten still pending with its body. "log" replays that log as written;
// "compacted" after a forced compaction (one entry per record).
func BenchmarkRecover(b *testing.B) {
	n := recoverRecords()
	dir := b.TempDir()
	s, err := Open(Options{Dir: dir, Sync: wal.SyncNever, CompactEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	fillRecover(b, s, n)
	logBytes := s.Stats().BytesUsed
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("log", func(b *testing.B) { benchOpen(b, dir, n, logBytes) })
	s, err = Open(Options{Dir: dir, Sync: wal.SyncAlways, CompactEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Compact(true); err != nil {
		b.Fatal(err)
	}
	compacted := s.Stats().BytesUsed
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("compacted", func(b *testing.B) { benchOpen(b, dir, n, compacted) })
}

// fillRecover writes n messages to s.
func fillRecover(b *testing.B, s *Store, n int) {
	var out storage.Record
	cm := s.Committer()
	for i := range n {
		r := benchRecord(uint64(i + 1))
		for {
			err := s.PutMessage(&r, benchBody)
			if err == nil {
				break
			}
			if werr := cm.WaitCommitted(cm.Written()); werr != nil {
				b.Fatal(err)
			}
		}
		if i%10 == 0 {
			continue // pending: its body stays
		}
		for s.SetAccepted(r.ID, 0, 0, 0) != nil || s.Finish(r.ID, msg.StateDelivered, 0, r.Submitted, &out) != nil {
			if err := cm.WaitCommitted(cm.Written()); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchOpen opens and closes the store in dir, checking it holds n
// records, and reports the time Open took per record count.
func benchOpen(b *testing.B, dir string, n int, bytes int64) {
	var took time.Duration
	for b.Loop() {
		runtime.GC()
		t0 := time.Now()
		s, err := Open(Options{Dir: dir, Sync: wal.SyncAlways, CompactEvery: -1})
		if err != nil {
			b.Fatal(err)
		}
		took = time.Since(t0)
		if got := s.Len(); got != n {
			b.Fatalf("recovered %d records, want %d", got, n)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(took.Seconds(), "s/open")
	b.ReportMetric(float64(bytes)/float64(n), "log-B/record")
}

// BenchmarkIndexBytes reports the heap the index takes per record (final
// records, the most numerous: kept for message_ttl after their receipt):
// the growth of the heap from the open store to n records, so the log's
// fixed buffers do not count.
func BenchmarkIndexBytes(b *testing.B) {
	const n = 200_000
	for b.Loop() {
		var before, after runtime.MemStats
		s, err := Open(Options{Dir: b.TempDir(), Sync: wal.SyncNever, CompactEvery: -1})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&before)
		var out storage.Record
		for i := range uint64(n) {
			r := benchRecord(i + 1)
			for s.Put(&r) != nil || s.Finish(r.ID, msg.StateDelivered, 0, r.Submitted, &out) != nil {
				drainBench(b, s)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/record")
		b.ReportMetric(float64(s.Stats().BytesUsed)/n, "log-B/record")
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// drainBench waits until the log has written what was appended.
func drainBench(b *testing.B, s *Store) {
	if err := s.log.WaitCommitted(s.log.Written()); err != nil {
		b.Fatal(err)
	}
}
