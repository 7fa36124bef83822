package disk

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// TestRewrittenAddressesOutOfLine: records the policy rewrote keep their
// second pair of addresses in the shard's upSlab, which a store without
// rewrites never allocates; a re-Put without the rewrite and a Delete give
// the room back for the next; the pairs survive a forced compaction (the
// segments holding their entries dropped) and a reopen.
func TestRewrittenAddressesOutOfLine(t *testing.T) {
	var clk atomic.Int64
	clk.Store(int64(1_760_000_000) * int64(time.Second))
	now := func() int64 { return clk.Load() }
	opts := Options{Dir: t.TempDir(), Sync: wal.SyncAlways, SegmentSize: 16 << 10, TTL: time.Hour, Now: now, CompactEvery: -1}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	rec := func(i int, rewritten bool) storage.Record {
		r := storage.Record{ID: msg.ID(i<<12 | 7), SystemID: "alice", State: msg.StateEnroute, Submitted: now(), RegisteredDelivery: 1,
			Expires: now() + int64(10*time.Hour)}
		r.SetAddrs([]byte("shop"), []byte("0170123"), []byte("hi"))
		if rewritten {
			r.SetUpstream(5, 0, []byte("Shop"), 1, 1, []byte("49170123"))
		}
		return r
	}
	ups := func() (n int) {
		for i := range s.recs {
			sh := &s.recs[i]
			sh.mu.Lock()
			n += sh.ups.Held()
			sh.mu.Unlock()
		}
		return n
	}
	put := func(r storage.Record) {
		t.Helper()
		if err := s.Put(&r); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		put(rec(i, false))
	}
	for i := range s.recs {
		if s.recs[i].ups.Chunks() != 0 {
			t.Fatal("records without a rewrite allocated rewritten-address room")
		}
	}
	for i := 100; i < 200; i++ {
		put(rec(i, true))
	}
	if n := ups(); n != 100 {
		t.Fatalf("%d rewritten pairs held, want 100", n)
	}
	put(rec(100, false)) // a submit_multi's next destination, not rewritten
	if err := s.Delete(msg.ID(101<<12 | 7)); err != nil {
		t.Fatal(err)
	}
	if n := ups(); n != 98 {
		t.Fatalf("%d rewritten pairs after a re-Put and a Delete, want 98", n)
	}
	check := func(when string) {
		t.Helper()
		var got storage.Record
		for i := 102; i < 200; i++ {
			if err := s.Get(msg.ID(i<<12|7), &got); err != nil {
				t.Fatalf("%s: %d: %v", when, i, err)
			}
			_, _, src := got.UpstreamSource()
			ton, _, dst := got.UpstreamDest()
			if !got.Rewritten || string(src) != "Shop" || string(dst) != "49170123" || ton != 1 || string(got.DestAddr()) != "0170123" {
				t.Fatalf("%s: %d: %+v", when, i, got)
			}
		}
		if err := s.Get(msg.ID(100<<12|7), &got); err != nil || got.Rewritten {
			t.Fatalf("%s: the re-Put record: %v %+v", when, err, got)
		}
	}
	check("before")
	for i := range 2000 { // filler that dies, so the segments above go
		r := rec(10_000+i, false)
		r.RegisteredDelivery, r.Expires = 0, 0
		put(r)
		if err := s.SetState(r.ID, msg.StateDelivered, 0, now()); err != nil {
			t.Fatal(err)
		}
		if i%100 == 99 {
			drain(t, s) // the log's write buffer is bounded
		}
	}
	drain(t, s)
	clk.Add(int64(2 * time.Hour)) // the filler's lifetime is over, the others' (validity + TTL) is not
	before := len(s.log.Segments())
	if _, err := s.Compact(true); err != nil {
		t.Fatal(err)
	}
	// The live records' copies fill a segment or two of 16 KiB.
	if segs := s.log.Segments(); len(segs) > 3 || before < 10 {
		t.Fatalf("a forced compaction left %d of %d segments, want the copies' few", len(segs), before)
	}
	check("after a forced compaction")
	s.Close()
	if s, err = Open(opts); err != nil {
		t.Fatal(err)
	}
	check("after a reopen")
	if n := ups(); n != 98 {
		t.Fatalf("%d rewritten pairs after the reopen, want 98", n)
	}
}
