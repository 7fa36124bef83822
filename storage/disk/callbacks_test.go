package disk

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// TestCallbacksSurviveCompaction: callbacks written among many short-lived
// records are copied forward when their segments are dropped; a deleted
// one is not, and a reopen finds exactly the live ones.
func TestCallbacksSurviveCompaction(t *testing.T) {
	var clk atomic.Int64
	clk.Store(int64(1_760_000_000) * int64(time.Second))
	now := func() int64 { return clk.Load() }
	t0 := now()
	opts := Options{Dir: t.TempDir(), Sync: wal.SyncAlways, SegmentSize: 16 << 10, TTL: time.Hour, Now: now, CompactEvery: -1}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	cb := func(i int) storage.Callback {
		return storage.Callback{ID: msg.ID(i<<12 | 9), Level: uint8(1 + i%3), Method: uint8(i % 2), Done: uint8(i % 4),
			URL: fmt.Sprintf("http://127.0.0.1:9/dlr/%d", i), Expires: t0 + int64(10*time.Hour)}
	}
	const n = 50
	for i := range n {
		c := cb(i)
		if err := s.Callbacks().PutCallback(&c); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			if err := s.Callbacks().DeleteCallback(c.ID); err != nil {
				t.Fatal(err)
			}
		}
		for j := range 20 { // filler that dies: final records past their lifetime
			r := storage.Record{ID: msg.ID((1000+i*20+j)<<12 | 7), SystemID: "alice", State: msg.StateEnroute, Submitted: now()}
			if err := s.Put(&r); err != nil {
				t.Fatal(err)
			}
			if err := s.SetState(r.ID, msg.StateDelivered, 0, now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	drain(t, s)
	clk.Add(int64(2 * time.Hour)) // the records' lifetime is over, the callbacks' (validity + TTL) is not
	if _, err := s.Compact(true); err != nil {
		t.Fatal(err)
	}
	if segs := s.log.Segments(); len(segs) != 1 {
		t.Fatalf("after a forced compaction %d segments are left, want only the active one", len(segs))
	}
	drain(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(opts); err != nil {
		t.Fatal(err)
	}
	var out storage.Callback
	for i := range n {
		want := cb(i)
		err := s.Callbacks().Callback(want.ID, &out)
		if i%5 == 0 {
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("deleted callback %d after compaction and reopen: %v", i, err)
			}
			continue
		}
		want.Expires = 0
		if err != nil || out != want {
			t.Errorf("callback %d after compaction and reopen = %+v, %v; want %+v", i, out, err, want)
		}
	}
	if got := s.Stats().Callbacks; got != n-n/5 {
		t.Fatalf("Stats.Callbacks = %d, want %d", got, n-n/5)
	}
}

// TestCallbackCountFollowsShards: the count that lets Callback skip the
// shards (cbHeld) follows every way a callback comes and goes: a put, a
// put again of the same id, a delete, the sweep of an expired one, a
// replay. With none kept a lookup takes no lock and allocates nothing.
func TestCallbackCountFollowsShards(t *testing.T) {
	var clk atomic.Int64
	clk.Store(int64(1_760_000_000) * int64(time.Second))
	now := func() int64 { return clk.Load() }
	opts := Options{Dir: t.TempDir(), Sync: wal.SyncAlways, TTL: time.Hour, Now: now, CompactEvery: -1}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	var out storage.Callback
	if err := s.Callbacks().Callback(msg.ID(1<<12|9), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("lookup in an empty store: %v", err)
	}
	if n := testing.AllocsPerRun(1000, func() { _ = s.Callbacks().Callback(msg.ID(1<<12|9), &out) }); n != 0 {
		t.Fatalf("a lookup with no callback kept allocates %.1f", n)
	}
	put := func(i int, expires int64) {
		t.Helper()
		c := storage.Callback{ID: msg.ID(i<<12 | 9), Level: 1, URL: fmt.Sprintf("http://127.0.0.1:9/dlr/%d", i), Expires: expires}
		if err := s.Callbacks().PutCallback(&c); err != nil {
			t.Fatal(err)
		}
	}
	type counter interface{ CallbackCount() int64 }
	if _, ok := s.Callbacks().(counter); !ok {
		t.Fatal("the disk store's callbacks do not count what they keep: every answer would look one up")
	}
	check := func(what string, want int64) {
		t.Helper()
		counter := s.Callbacks().(counter) // s is reopened by the replay step
		if got := s.cbHeld.Load(); got != want || int64(s.cbStats()) != want || counter.CallbackCount() != want {
			t.Fatalf("%s: count %d (CallbackCount %d), shards hold %d, want %d", what, got, counter.CallbackCount(), s.cbStats(), want)
		}
	}
	long := now() + int64(10*time.Hour)
	for i := range 40 {
		put(i, long)
	}
	put(7, long) // the same id again: replaced, not counted twice
	check("40 puts", 40)
	if err := s.Callbacks().DeleteCallback(msg.ID(3<<12 | 9)); err != nil {
		t.Fatal(err)
	}
	check("a delete", 39)
	put(100, now()) // expires with the TTL, the others do not
	check("a short one", 40)
	clk.Add(int64(2 * time.Hour))
	if n := s.Sweep(now()); n != 1 {
		t.Fatalf("Sweep dropped %d, want the short callback", n)
	}
	check("the sweep", 39)
	if err := s.Callbacks().Callback(msg.ID(5<<12|9), &out); err != nil || out.URL != "http://127.0.0.1:9/dlr/5" {
		t.Fatalf("callback 5 = %+v, %v", out, err)
	}
	drain(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(opts); err != nil {
		t.Fatal(err)
	}
	// Replay keeps an expired callback until a sweep (lookups skip it).
	check("a replay", 40)
	s.Sweep(now())
	check("a replay and a sweep", 39)
	for i := range 40 {
		err := s.Callbacks().Callback(msg.ID(i<<12|9), &out)
		if (i == 3) != errors.Is(err, storage.ErrNotFound) {
			t.Errorf("callback %d after the replay: %v", i, err)
		}
	}
	for i := range 40 {
		if i != 3 {
			if err := s.Callbacks().DeleteCallback(msg.ID(i<<12 | 9)); err != nil {
				t.Fatal(err)
			}
		}
	}
	check("all deleted", 0)
}
