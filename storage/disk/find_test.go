package disk

import (
	"strconv"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// BenchmarkFind1M: one page of Find (50 records to one number) over a
// store of 1,000,000 records to 10,000 numbers: the admin API's lookup.
func BenchmarkFind1M(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir(), Sync: wal.SyncNever, CompactEvery: -1, MaxDisk: 4 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	now := time.Now().UnixNano()
	for i := range 1_000_000 {
		r := storage.Record{ID: msg.ID(uint64(i+1) << 12), SystemID: "alice", State: msg.StateDelivered, Submitted: now}
		r.SetAddrs([]byte("ACME"), strconv.AppendInt([]byte("49170"), int64(i%10_000), 10), nil)
		for {
			if err = s.Put(&r); err == nil {
				break
			}
			time.Sleep(time.Millisecond) // the log's buffer is full: the writer catches up
		}
	}
	q := storage.Query{Addr: []byte("49170123")}
	dst := make([]storage.Record, 51)
	b.ResetTimer()
	for b.Loop() {
		if n, err := s.Find(&q, dst); err != nil || n != 51 {
			b.Fatalf("Find: %d, %v", n, err)
		}
	}
}

// TestFindWhileWriting: a walk that lets each shard's lock go between
// chunks still finds every record that lives through it, once, while
// other records come and go.
func TestFindWhileWriting(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), Sync: wal.SyncNever, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UnixNano()
	put := func(id uint64, dst string) error {
		r := storage.Record{ID: msg.ID(id << 12), SystemID: "alice", State: msg.StateEnroute, Submitted: now}
		r.SetAddrs([]byte("ACME"), []byte(dst), nil)
		return s.Put(&r)
	}
	defer func(c int) { findChunk = c }(findChunk)
	findChunk = 16
	const stable = 64 * 16 * 5 // 64 shards: five chunks each, about
	for i := range uint64(stable) {
		if err := put(i+1, "4917000001"); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := 1_000_000 + i
			if put(id, "4917000002") == nil && i%2 == 0 {
				_ = s.Delete(msg.ID(id << 12))
			}
		}
	}()
	dst := make([]storage.Record, stable+1)
	for range 5 {
		n, err := s.Find(&storage.Query{Addr: []byte("4917000001")}, dst)
		if err != nil || n != stable {
			t.Fatalf("Find while writing: %d records, %v; want %d", n, err, stable)
		}
		for i := 1; i < n; i++ {
			if dst[i].ID >= dst[i-1].ID {
				t.Fatalf("ids not strictly descending at %d: %v then %v", i, dst[i-1].ID, dst[i].ID)
			}
		}
	}
	close(stop)
	<-done
}

// TestMTRouteKept: a record's MT route name survives a re-Put without
// one, compaction and a reopen, and an entry without a route (as written
// before the field) reads as none.
func TestMTRouteKept(t *testing.T) {
	dir := t.TempDir()
	open := func() *Store {
		s, err := Open(Options{Dir: dir, Sync: wal.SyncNever, CompactEvery: -1, SegmentSize: 4096, MaxDisk: 16 << 20})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	now := time.Now().UnixNano()
	put := func(id uint64, route string) {
		r := storage.Record{ID: msg.ID(id << 12), SystemID: "alice", State: msg.StateEnroute, Submitted: now, MTRoute: route}
		r.SetAddrs([]byte("ACME"), []byte("4917000001"), []byte("hi"))
		if err := s.Put(&r); err != nil {
			t.Fatal(err)
		}
	}
	put(1, "premium-de")
	put(2, "premium-de")
	put(2, "") // replaced without a route
	put(3, "bulk")
	for i := uint64(10); i < 200; i++ { // fill segments so the first can be compacted
		put(i, "filler")
		if err := s.Delete(msg.ID(i << 12)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		for id, want := range map[uint64]string{1: "premium-de", 2: "", 3: "bulk"} {
			var r storage.Record
			if err := s.Get(msg.ID(id<<12), &r); err != nil || r.MTRoute != want || r.SystemID != "alice" {
				t.Fatalf("%s: record %d: %v, MTRoute %q user %q; want %q", when, id, err, r.MTRoute, r.SystemID, want)
			}
		}
	}
	check("after Put")
	if err := s.log.Sync(); err != nil { // the segments are written and closed
		t.Fatal(err)
	}
	if n, err := s.Compact(true); err != nil || n == 0 {
		t.Fatalf("Compact: %d segments, %v; want some dropped (the records copied)", n, err)
	}
	check("after compaction")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	defer s.Close()
	check("after a reopen")
}
