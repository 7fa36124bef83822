package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// testClock is a store clock the test moves.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(int64(1_760_000_000) * int64(time.Second))
	return c
}

func (c *testClock) now() int64              { return c.ns.Load() }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestSecondOpenRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(Options{Dir: dir, CompactEvery: -1}); !errors.Is(err, wal.ErrLocked) {
		t.Fatalf("a second Open of %s = %v, want ErrLocked", dir, err)
	}
}

// TestDiskFull: past the high-water mark of MaxDisk new messages are
// refused, the states of those already accepted are still recorded, and
// once their lifetime is over compaction makes room again by itself.
func TestDiskFull(t *testing.T) {
	clk := newTestClock()
	s, err := Open(Options{Dir: t.TempDir(), MaxDisk: 512 << 10, TTL: time.Hour, Now: clk.now, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := make([]byte, 300)
	var refused error
	n := uint64(0)
	for ; n < 10_000; n++ {
		r := benchRecord(n + 1)
		r.Submitted = clk.now()
		if refused = s.PutMessage(&r, body); refused != nil {
			break
		}
		drain(t, s)
	}
	if !errors.Is(refused, wal.ErrDiskFull) {
		t.Fatalf("after %d messages: %v, want ErrDiskFull", n, refused)
	}
	st := s.Stats()
	if !st.DiskFull || st.WriteErrors == 0 || st.BytesUsed > st.MaxDisk {
		t.Fatalf("Stats when full: %+v", st)
	}
	// Accepted messages still record their states (and their receipts are
	// held) in the room above the high-water mark.
	var out storage.Record
	for i := uint64(1); i <= 20; i++ {
		if err := s.Finish(msg.ID(i<<12|7), msg.StateDelivered, 0, clk.now(), &out); err != nil {
			t.Fatalf("Finish of message %d when full: %v", i, err)
		}
	}
	h := storage.Held{SystemID: "esme1", Kind: storage.HeldReceipt, ID: 1, Body: []byte("receipt"), Expires: clk.now() + 1}
	if _, err := s.Holds().Hold(&h); err != nil {
		t.Fatalf("Hold of a receipt when full: %v", err)
	}
	// Their lifetime ends: swept, compacted, the room comes back.
	clk.advance(2 * time.Hour)
	s.Sweep(clk.now())
	if _, err := s.Compact(false); err != nil {
		t.Fatal(err)
	}
	r := benchRecord(n + 1)
	r.Submitted = clk.now()
	if err := s.PutMessage(&r, body); err != nil {
		t.Fatalf("after compaction: %v (%+v)", err, s.Stats())
	}
	if st := s.Stats(); st.DiskFull {
		t.Fatalf("still full: %+v", st)
	}
}

// TestCorruptSegment: a damaged byte in an older segment costs the
// entries after it in that segment, reported, never the store.
func TestCorruptSegment(t *testing.T) {
	clk := newTestClock()
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentSize: 64 << 10, TTL: time.Hour, Now: clk.now, CompactEvery: -1}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	for i := uint64(1); i <= n; i++ {
		r := benchRecord(i)
		r.Submitted = clk.now()
		if err := s.PutMessage(&r, benchBody); err != nil {
			t.Fatal(err)
		}
		drain(t, s)
	}
	segs := s.log.Segments()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(segs) < 3 {
		t.Fatalf("%d segments: the test needs 3", len(segs))
	}
	name := filepath.Join(dir, fmt.Sprintf("%010d.wal", segs[1].Seq)) // wal's name: the number in ten digits
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(name, b, 0o640); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(opts); err != nil {
		t.Fatalf("Open after the damage: %v", err)
	}
	defer s.Close()
	st := s.Stats()
	if st.ReplayCorrupt == 0 || st.Records >= n || st.Records < n/2 {
		t.Fatalf("after the damage: %d records of %d, %d corrupt", st.Records, n, st.ReplayCorrupt)
	}
	var out storage.Record
	for _, i := range []uint64{1, n} { // the first segment and the last are whole
		if err := s.Get(msg.ID(i<<12|7), &out); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	r := benchRecord(n + 1)
	if err := s.PutMessage(&r, benchBody); err != nil {
		t.Fatalf("a write after the damage: %v", err)
	}
}

// FuzzApply: replay never panics on an entry whose checksum held but whose
// payload is anything (a bug, or a kind from a newer release).
func FuzzApply(f *testing.F) {
	var sl recSlot
	r := benchRecord(1)
	fill(&sl, &r, 1)
	f.Add(kPut, appendRecord(nil, &sl, nil, "esme1", "", charges{5, 1}, []byte("body")))
	f.Add(kPut, appendRecord(nil, &sl, nil, "esme1", "main", charges{5, 1}, []byte("body")))
	r.SetUpstream(1, 1, []byte("+4917"), 1, 1, []byte("+4915"))
	var u upAddrs
	upOf(&u, &r)
	f.Add(kPut, appendRecord(nil, &sl, &u, "esme1", "main", charges{5, 1}, []byte("body")))
	f.Add(kState, appendState(nil, 1, msg.StateDelivered, 3, 4))
	f.Add(kReplaced, appendReplaced(nil, 1, 2, 1, 2, []byte("text")))
	f.Add(kUpstream, appendUpstream(nil, 1, 2, 3, []byte("UP-1")))
	f.Add(kHold, appendHold(nil, 1, &storage.Held{SystemID: "u", Kind: storage.HeldMO}, []byte("b")))
	f.Add(kHoldRecipe, appendHold(nil, 1, &storage.Held{SystemID: "u", Kind: storage.HeldReceipt}, []byte("recipe")))
	f.Add(kLedger, appendLedger(nil, &storage.LedgerEntry{SystemID: "u", Kind: storage.LedgerSet, Amount: 1}))
	f.Add(kBalance, appendBalance(nil, "u", -5, true))
	f.Add(kDead, appendDead(nil, 1, &storage.DeadLetter{SystemID: "u", Reason: "r", Body: []byte("b")}))
	f.Add(kIDFloor, appendID(nil, 9))
	s, err := Open(Options{Dir: f.TempDir(), CompactEvery: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, kind byte, p []byte) {
		var h storage.Held
		var d storage.DeadLetter
		_ = s.apply(wal.Pos(1<<32|64), kind, p, &sl, &h, &d)
	})
}

// TestStatsLazyAcceptance: the acceptance entries SetAccepted writes
// without waking the log show in Stats, split as the log counts them.
func TestStatsLazyAcceptance(t *testing.T) {
	clk := newTestClock()
	s, err := Open(Options{Dir: t.TempDir(), TTL: time.Hour, Now: clk.now, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 4
	for i := uint64(1); i <= n; i++ {
		r := benchRecord(i)
		r.Submitted = clk.now()
		if err := s.PutMessage(&r, []byte("body")); err != nil {
			t.Fatal(err)
		}
		drain(t, s)
		if err := s.SetAccepted(r.ID, 0, 0, clk.now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.log.Sync(); err != nil {
		t.Fatal(err)
	}
	st, ws := s.Stats(), s.log.Stats()
	if st.LazyRode+st.LazyAlone != n || st.LazyRode != ws.LazyRode || st.LazyAlone != ws.LazyAlone {
		t.Fatalf("lazy rode %d, alone %d, want %d in all (the log's: %d, %d)", st.LazyRode, st.LazyAlone, n, ws.LazyRode, ws.LazyAlone)
	}
	if st.LingerFilled != ws.LingerFilled || st.LingerCut != ws.LingerCut {
		t.Fatalf("lingers filled %d, cut %d; the log's %d, %d", st.LingerFilled, st.LingerCut, ws.LingerFilled, ws.LingerCut)
	}
	if st.GroupCommits == 0 || st.GroupCommits != ws.Groups || st.GroupsWoken != ws.GroupsWoken || st.GroupsWoken > st.GroupCommits ||
		st.GroupWait != ws.GroupWait || st.CommitAnswer != ws.CommitCallback {
		t.Fatalf("group commits %d, wait %v, answers %v; the log's %d, %v, %v",
			st.GroupCommits, st.GroupWait, st.CommitAnswer, ws.Groups, ws.GroupWait, ws.CommitCallback)
	}
}
