package jetstream

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// openNode opens node's store on dir's JetStream server, closed at the
// test's end; the returned func closes it earlier (a node killed).
func openNode(t *testing.T, dir string, node int, now func() int64, onHeld func(string)) (*Store, func()) {
	t.Helper()
	js, nc := testJS(t, dir)
	sub := string(rune('0' + node))
	s, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal." + sub, Node: node,
		Dir: dir + "/n" + sub, TTL: time.Hour, OnHeld: onHeld, ClaimHeld: true, Now: now, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	stop := func() { _ = s.Close(); nc.Close() }
	t.Cleanup(stop)
	return s, stop
}

// TestTriedItemLeasedAfterItsClaimExpired: node 2 wins an item's claim
// and is killed mid-delivery while node 1 has no receiver of the user, so
// node 1 never tries the claim; once it expired, node 1's receiver binds
// and leases the item afresh: node 2's delivery marker (kTried, journaled
// before its delivery) makes that a counted possible duplicate. An item
// the marking node released instead is not counted.
func TestTriedItemLeasedAfterItsClaimExpired(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	a, _ := openNode(t, dir, 1, now.Load, func(string) {})
	b, stopB := openNode(t, dir, 2, now.Load, func(string) {})
	until := now.Load() + int64(time.Hour)
	for _, body := range []string{"released", "killed"} {
		if _, err := a.Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldReceipt, Body: []byte(body), Expires: until}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "node 2 applies the holds", func() bool { return b.Holds().Len() == 2 })

	dst := make([]storage.Held, 2)
	if n, _ := b.Holds().Lease("bob", until, dst); n != 2 {
		t.Fatalf("node 2 leased %d, want 2", n)
	}
	if b.j.Committed() < b.j.Written() {
		t.Fatal("node 2's lease returned before its delivery markers were acknowledged")
	}
	eventually(t, "node 1 applies node 2's markers", func() bool {
		a.holds.mu.Lock()
		defer a.holds.mu.Unlock()
		return len(a.holds.tried) == 2
	})
	var killed storage.Held
	for _, it := range dst {
		if string(it.Body) == "released" {
			if err := b.Holds().Release(it.Key, 1); err != nil {
				t.Fatal(err)
			}
		} else {
			killed = it
		}
	}
	eventually(t, "node 1 applies the release", func() bool {
		a.holds.mu.Lock()
		defer a.holds.mu.Unlock()
		return len(a.holds.tried) == 1
	})
	g := b.holds.global(killed.Key)
	stopB() // killed mid-delivery: neither ack nor release

	// The killed node's claim runs out (the bucket's TTL, as a purge):
	// node 1 wins a fresh claim on both items.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.claims.kv.Purge(ctx, claimKey(g)); err != nil {
		t.Fatal(err)
	}
	now.Add(int64(producerLease) + 1)
	if _, err := a.Holds().Expire(now.Load(), nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.Holds().Lease("bob", until, dst); n != 2 {
		t.Fatalf("node 1 leased %d after node 2's claim expired, want 2", n)
	}
	if c := a.claims.lostN.Load(); c != 0 {
		t.Fatalf("node 1 lost %d claims: the test wants it never to have tried while node 2 held one", c)
	}
	if r := a.holds.retaken.Load(); r != 1 {
		t.Fatalf("node 1 counted %d retaken, want 1: node 2 marked the killed one tried, and released the other", r)
	}
	if st := a.Journal(); st.HeldRetaken != 1 || st.HeldUnmarked != 0 {
		t.Fatalf("Journal() HeldRetaken %d, HeldUnmarked %d; want 1 and 0", st.HeldRetaken, st.HeldUnmarked)
	}
}

// TestTriedMarkerSurvivesCompaction: a compaction's base keeps the
// delivery marker of an item still held, so a node started after it
// counts its lease as well.
func TestTriedMarkerSurvivesCompaction(t *testing.T) {
	dir := t.TempDir()
	a, _ := openNode(t, dir, 1, nil, func(string) {})
	b, stopB := openNode(t, dir, 2, nil, func(string) {})
	until := time.Now().Add(time.Hour).UnixNano()
	if _, err := a.Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldMO, Body: []byte("mo"), Expires: until}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 2 applies the hold", func() bool { return b.Holds().Len() == 1 })
	dst := make([]storage.Held, 1)
	if n, _ := b.Holds().Lease("bob", until, dst); n != 1 {
		t.Fatalf("node 2 leased %d", n)
	}
	g := b.holds.global(dst[0].Key)
	stopB()
	eventually(t, "node 1 applies the marker", func() bool {
		a.holds.mu.Lock()
		defer a.holds.mu.Unlock()
		return len(a.holds.tried) == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.Compact(ctx, a.Applied()); err != nil {
		t.Fatal(err)
	}
	if err := a.claims.kv.Purge(ctx, claimKey(g)); err != nil {
		t.Fatal(err)
	}
	c, _ := openNode(t, dir, 3, nil, func(string) {})
	if n, _ := c.Holds().Lease("bob", until, dst); n != 1 {
		t.Fatalf("node 3 leased %d", n)
	}
	if r := c.holds.retaken.Load(); r != 1 {
		t.Fatalf("node 3 (started after the compaction) counted %d retaken, want 1", r)
	}
}

// TestFinalRecordedTwiceCounted: two nodes record a final state for one
// message, neither having applied the other's (node 3's journal consumer
// stopped): each wrote its CDR line. Every node applying the second
// final counts it once; a node replaying the journal at start does not.
func TestFinalRecordedTwiceCounted(t *testing.T) {
	dir := t.TempDir()
	a, _ := openNode(t, dir, 1, nil, nil)
	b, _ := openNode(t, dir, 2, nil, nil)
	c, _ := openNode(t, dir, 3, nil, nil)
	id := msg.ID(7<<12 | 1)
	r := storage.Record{ID: id, SystemID: "bob", State: msg.StateEnroute, Submitted: time.Now().UnixNano()}
	if err := a.PutMessage(&r, []byte("body")); err != nil {
		t.Fatal(err)
	}
	var out storage.Record
	eventually(t, "nodes 2 and 3 apply the record", func() bool { return b.Get(id, &out) == nil && c.Get(id, &out) == nil })
	c.apply.stop() // node 3 lags: it does not see node 1's final
	if err := a.Finish(id, msg.StateDelivered, 0, time.Now().UnixNano(), &out); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 2 applies node 1's final", func() bool { return b.Get(id, &out) == nil && out.State.Final() })
	if err := c.Finish(id, msg.StateDelivered, 0, time.Now().UnixNano(), &out); err != nil {
		t.Fatalf("node 3's own final: %v", err)
	}
	eventually(t, "nodes 1 and 2 count node 3's final", func() bool {
		return a.Journal().FinalTwice == 1 && b.Journal().FinalTwice == 1
	})
	if n := b.Journal().FinalTwice; n != 1 {
		t.Fatalf("node 2 counted %d, want 1", n)
	}
	d, _ := openNode(t, dir, 4, nil, nil)
	if err := d.Get(id, &out); err != nil || !out.State.Final() {
		t.Fatalf("node 4's replay: %v, state %v", err, out.State)
	}
	if n := d.Journal().FinalTwice; n != 0 {
		t.Fatalf("node 4 counted %d in its replay, want 0: the live nodes counted it", n)
	}
}

// TestJournalWaitFor: waitFor reports a position acknowledged in time,
// and gives up on one that is not after its bound.
func TestJournalWaitFor(t *testing.T) {
	dir := t.TempDir()
	a, _ := openNode(t, dir, 1, nil, nil)
	r := storage.Record{ID: msg.ID(1<<12 | 1), SystemID: "bob", State: msg.StateEnroute, Submitted: time.Now().UnixNano()}
	if err := a.PutMessage(&r, []byte("body")); err != nil {
		t.Fatal(err)
	}
	if !a.j.waitFor(a.j.Written(), 5*time.Second) {
		t.Fatal("a write not acknowledged within 5 s")
	}
	t0 := time.Now()
	if a.j.waitFor(a.j.Written()+1<<40, 100*time.Millisecond) {
		t.Fatal("waitFor reported a position never written")
	}
	if d := time.Since(t0); d < 100*time.Millisecond || d > 3*time.Second {
		t.Fatalf("waitFor gave up after %v, want about 100ms", d)
	}
}

// TestLeaseWhileTheJournalLagsCounted: a node whose journal consumer is
// more than lagLimit behind (batches pending, the last one applied older
// than that) may not have applied an item's ack or delivery marker: an
// item it leases then is counted; caught up, it is not.
func TestLeaseWhileTheJournalLagsCounted(t *testing.T) {
	dir := t.TempDir()
	a, _ := openNode(t, dir, 1, nil, func(string) {})
	b, _ := openNode(t, dir, 2, nil, func(string) {})
	until := time.Now().Add(time.Hour).UnixNano()
	for _, body := range []string{"lagging", "caught up"} {
		if _, err := b.Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldMO, Body: []byte(body), Expires: until}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "node 1 applies the holds", func() bool { return a.Holds().Len() == 2 })
	a.apply.pending.Store(3)
	a.apply.stamp.Store(time.Now().Add(-lagLimit - time.Second).UnixNano())
	dst := make([]storage.Held, 1)
	if n, _ := a.Holds().Lease("bob", until, dst); n != 1 {
		t.Fatalf("node 1 leased %d", n)
	}
	if r := a.holds.retaken.Load(); r != 1 {
		t.Fatalf("node 1 counted %d retaken while %v behind, want 1", r, lagLimit+time.Second)
	}
	a.apply.pending.Store(0)
	if n, _ := a.Holds().Lease("bob", until, dst); n != 1 {
		t.Fatalf("node 1 leased %d", n)
	}
	if r := a.holds.retaken.Load(); r != 1 {
		t.Fatalf("node 1 counted %d retaken, want still 1: caught up", r)
	}
}
