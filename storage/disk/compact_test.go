package disk

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// TestCompactionBoundsDisk: rounds of short-lived messages (stored with
// their bodies, accepted, finished, then past their lifetime) beside a
// few long-lived objects of every kind. Compaction keeps the disk to about
// a round's worth, copies the long-lived objects forward, and a reopen
// finds them all.
func TestCompactionBoundsDisk(t *testing.T) {
	var clk atomic.Int64
	clk.Store(int64(1_760_000_000) * int64(time.Second))
	now := func() int64 { return clk.Load() }
	dir := t.TempDir()
	const ttl = time.Hour
	opts := Options{Dir: dir, Sync: wal.SyncAlways, SegmentSize: 64 << 10, TTL: ttl, Now: now, CompactEvery: -1}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	// The long-lived objects: pending messages with a long validity and
	// their upstream ids, held items, a balance, dead letters, the floor.
	body := make([]byte, 200)
	for i := range 40 {
		r := storage.Record{ID: msg.ID(i<<12 | 7), SystemID: mUsers[i%4], State: msg.StateEnroute, Submitted: now(),
			Expires: now() + int64(30*24*time.Hour), Charge: 10}
		r.SetAddrs([]byte("src"), []byte("dst"), []byte("long lived"))
		body[0] = byte(i)
		if err := s.PutMessage(&r, body); err != nil {
			t.Fatal(err)
		}
		if err := s.PutUpstream(i%3, fmt.Appendf(nil, "UP-%d", i), r.ID); err != nil {
			t.Fatal(err)
		}
		h := storage.Held{SystemID: mUsers[i%4], Kind: storage.HeldMO, ID: msg.ID(i), Body: fmt.Appendf(nil, "mo %d", i),
			Expires: now() + int64(30*24*time.Hour)}
		if _, err := s.Holds().Hold(&h); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Ledger().Append(&storage.LedgerEntry{SystemID: "alice", Kind: storage.LedgerSet, Amount: 1e9}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIDFloor(1 << 40); err != nil {
		t.Fatal(err)
	}
	const rounds, perRound = 30, 400
	next := uint64(1000)
	var peak int64
	var out storage.Record
	for round := range rounds {
		for range perRound {
			r := storage.Record{ID: msg.ID(next<<12 | 7), SystemID: "alice", State: msg.StateEnroute, Submitted: now(),
				RegisteredDelivery: 1, Charge: 5}
			next++
			r.SetAddrs([]byte("447700900"), []byte("447700901"), []byte("short lived"))
			if err := s.PutMessage(&r, body[:120]); err != nil {
				t.Fatal(err)
			}
			if err := s.SetAccepted(r.ID, 0, 0, 0); err != nil {
				t.Fatal(err)
			}
			if err := s.Finish(r.ID, msg.StateDelivered, 0, now(), &out); err != nil {
				t.Fatal(err)
			}
		}
		drain(t, s)
		if err := s.DeadLetters().Add(&storage.DeadLetter{Kind: storage.HeldReceipt, SystemID: "bob", Reason: "unknown id",
			Body: []byte("r"), At: now()}); err != nil {
			t.Fatal(err)
		}
		clk.Add(int64(ttl / 4)) // a round lives four rounds
		s.Sweep(now())
		if _, err := s.Compact(false); err != nil {
			t.Fatalf("round %d: Compact: %v", round, err)
		}
		if st := s.Stats(); round >= 8 {
			peak = max(peak, st.BytesUsed)
		}
	}
	st := s.Stats()
	// Five rounds live at most (the current one and four not yet past
	// their lifetime), each about perRound x 300 bytes, plus a segment
	// being written and one not yet worth dropping.
	bound := int64(5*perRound*300) + 2*opts.SegmentSize
	if peak > bound || st.Compactions == 0 || st.Compacted == 0 {
		t.Fatalf("peak %d bytes (bound %d), %d compactions, %d copies", peak, bound, st.Compactions, st.Compacted)
	}
	want := longLived(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(opts); err != nil {
		t.Fatal(err)
	}
	if got := longLived(t, s); got != want {
		t.Fatalf("after reopen:\n%s", diffLines(want, got))
	}
	pending := 0
	if err := s.Recover(func(r *storage.Record, m []byte) error {
		if len(m) != len(body) || m[0] != byte(r.ID>>12) {
			return fmt.Errorf("recovered %v with %d bytes", r.ID, len(m))
		}
		pending++
		return nil
	}); err != nil || pending != 40 {
		t.Fatalf("Recover: %d pending, %v", pending, err)
	}
	t.Logf("peak %d bytes over rounds 8..%d (bound %d), %d compactions, %d copies, recovery %v",
		peak, rounds, bound, st.Compactions, st.Compacted, s.Stats().Recovery)
}

// longLived renders the long-lived objects of TestCompactionBoundsDisk.
func longLived(t *testing.T, s *Store) string {
	var b []byte
	var r storage.Record
	for i := range 40 {
		id := msg.ID(i<<12 | 7)
		if err := s.Get(id, &r); err != nil {
			t.Fatalf("long-lived record %d: %v", i, err)
		}
		up, ok := s.Upstream(i%3, fmt.Appendf(nil, "UP-%d", i))
		b = fmt.Appendf(b, "%v %s %v %s %v %v\n", r.ID, r.SystemID, r.State, r.TextPrefix(), up, ok)
	}
	return string(b) + snapshot(t, s)
}

// TestCompactionConcurrent: compaction forced again and again while four
// goroutines write; a reopen finds what the store showed at the end.
func TestCompactionConcurrent(t *testing.T) {
	var clk atomic.Int64
	clk.Store(int64(1_760_000_000) * int64(time.Second))
	now := func() int64 { return clk.Load() }
	opts := modelOpts(t.TempDir(), now)
	opts.SegmentSize = 64 << 10 // a group of appends may span at most 8 segments
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	per := 1500
	if testing.Short() {
		per = 400
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var compactions, errs atomic.Int64
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			n, err := s.Compact(true)
			if err != nil {
				t.Errorf("Compact: %v", err)
				return
			}
			compactions.Add(int64(n))
		}
	})
	var workers sync.WaitGroup
	for w := range 4 {
		workers.Go(func() {
			m := &mHarness{t: t, rng: rand.New(rand.NewPCG(uint64(w), 7))}
			m.clk.Store(now())
			m.items = w * 1_000_000 // item numbers of their own
			keys := map[int]storage.HeldKey{}
			for i := range per {
				if i%50 == 0 { // as a connector waits for its commit now and then
					_ = s.log.WaitCommitted(s.log.Written())
				}
				o := m.next()
				if o.kind == opHold || o.kind == opRelease || o.kind == opAck {
					o.held.SystemID = mUsers[w] // each worker leases only its own user's items
				}
				if o.kind == opLease {
					o.key = mUsers[w]
				}
				if err := apply(s, &o, keys, false); err != nil { // no leases: they do not survive the reopen
					errs.Add(1)
				}
			}
		})
	}
	workers.Wait()
	close(stop)
	wg.Wait()
	drain(t, s)
	want := snapshot(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(opts); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, s); got != want {
		t.Fatalf("after reopen:\n%s", diffLines(want, got))
	}
	t.Logf("%d segments removed while writing; %d writes refused (not found, final, buffer full)", compactions.Load(), errs.Load())
}

// drain waits until the log has written what was appended, so what comes
// next does not find its buffer full.
func drain(t *testing.T, s *Store) {
	t.Helper()
	if err := s.log.WaitCommitted(s.log.Written()); err != nil {
		t.Fatal(err)
	}
}
