package jetstream

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/storage"
)

// TestClaimOneNodeDeliversAHeldItem: two nodes offered the same held item
// (neither its producer delivering it) lease it at once: only one wins
// its claim and delivers it. Its release hands the claim to the other,
// whose lease then keeps the first off; the ack removes it everywhere.
func TestClaimOneNodeDeliversAHeldItem(t *testing.T) {
	dir := t.TempDir()
	open := func(node int, onHeld func(string)) *Store {
		js, nc := testJS(t, dir)
		sub := string(rune('0' + node))
		s, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal." + sub, Node: node,
			Dir: dir + "/n" + sub, TTL: time.Hour, OnHeld: onHeld, ClaimHeld: true, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); nc.Close() })
		return s
	}
	var offered [3]atomic.Int32
	nodes := []*Store{nil, open(1, func(string) { offered[1].Add(1) }), open(2, func(string) { offered[2].Add(1) })}
	until := time.Now().Add(time.Hour).UnixNano()
	if _, err := nodes[1].Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldReceipt, Body: []byte("dr"), Expires: until}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 2 applies the hold", func() bool { return nodes[2].Holds().Len() == 1 })

	// Both nodes' receivers of bob lease at once.
	var got [3][]storage.Held
	var wg sync.WaitGroup
	for i := 1; i <= 2; i++ {
		wg.Go(func() {
			dst := make([]storage.Held, 4)
			n, err := nodes[i].Holds().Lease("bob", until, dst)
			if err != nil {
				t.Error(err)
			}
			got[i] = dst[:n]
		})
	}
	wg.Wait()
	if len(got[1])+len(got[2]) != 1 {
		t.Fatalf("leased on node 1: %d, on node 2: %d; want the item on one node only", len(got[1]), len(got[2]))
	}
	win, lose := 1, 2
	if len(got[2]) == 1 {
		win, lose = 2, 1
	}
	if c := nodes[lose].claims.lostN.Load(); c != 1 {
		t.Fatalf("node %d counted %d lost claims, want 1", lose, c)
	}

	// The winner's delivery fails: its release lets the other claim it.
	before := offered[lose].Load()
	if err := nodes[win].Holds().Release(got[win][0].Key, 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the release offers it on the other node", func() bool { return offered[lose].Load() > before })
	dst := make([]storage.Held, 4)
	if n, err := nodes[lose].Holds().Lease("bob", until, dst); n != 1 || err != nil {
		t.Fatalf("node %d leased %d (%v) after the release", lose, n, err)
	}
	if n, _ := nodes[win].Holds().Lease("bob", until, make([]storage.Held, 4)); n != 0 {
		t.Fatalf("node %d leased the item node %d is delivering", win, lose)
	}
	if err := nodes[lose].Holds().Ack(dst[0].Key); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ack removes it on the other node", func() bool { return nodes[win].Holds().Len() == 0 })
}

// TestClaimOfASilentWinnerLapses: the node that won an item's claim stops
// without an ack or a release (killed mid-delivery): the other node, kept
// off while the claim lives, delivers it once the claim's TTL passed.
func TestClaimOfASilentWinnerLapses(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	open := func(node int, onHeld func(string)) (*Store, func()) {
		js, nc := testJS(t, dir)
		sub := string(rune('0' + node))
		s, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal." + sub, Node: node,
			Dir: dir + "/n" + sub, TTL: time.Hour, OnHeld: onHeld, ClaimHeld: true, Now: now.Load, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		stop := func() { _ = s.Close(); nc.Close() }
		t.Cleanup(stop)
		return s, stop
	}
	var offered atomic.Int32
	a, stopA := open(1, nil)
	b, _ := open(2, func(string) { offered.Add(1) })
	until := now.Load() + int64(time.Hour)
	if _, err := a.Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldMO, Body: []byte("mo"), Expires: until}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 2 applies the hold", func() bool { return b.Holds().Len() == 1 })
	dst := make([]storage.Held, 4)
	if n, _ := a.Holds().Lease("bob", until, dst); n != 1 {
		t.Fatalf("node 1 leased %d", n)
	}
	claimed := time.Now()
	stopA() // killed mid-delivery: neither ack nor release
	if n, _ := b.Holds().Lease("bob", until, dst); n != 0 {
		t.Fatal("node 2 leased an item node 1's live claim holds")
	}
	deadline := time.Now().Add(claimTTL + 10*time.Second)
	for {
		now.Add(int64(claimTTL) + 1) // node 2's sweep: the lost claim is due
		if _, err := b.Holds().Expire(now.Load(), nil); err != nil {
			t.Fatal(err)
		}
		if n, _ := b.Holds().Lease("bob", until, dst); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 2 never delivered the item of a silent winner (offered %d times)", offered.Load())
		}
		time.Sleep(250 * time.Millisecond)
	}
	if d := time.Since(claimed); d < claimTTL-time.Second {
		t.Fatalf("node 2 took the item %v after node 1's claim, before its TTL %v", d, claimTTL)
	}
	if offered.Load() == 0 {
		t.Fatal("the lapsed claim's item was not offered to node 2's delivery")
	}
}

// TestClaimLostLeasesTheNext: a lease whose first item another node has
// claimed leases the next in its place, so a short count still means the
// user's queue is empty (delivery stops leasing on one).
func TestClaimLostLeasesTheNext(t *testing.T) {
	dir := t.TempDir()
	open := func(node int) *Store {
		js, nc := testJS(t, dir)
		sub := string(rune('0' + node))
		s, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal." + sub, Node: node,
			Dir: dir + "/n" + sub, TTL: time.Hour, ClaimHeld: true, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); nc.Close() })
		return s
	}
	a, b := open(1), open(2)
	until := time.Now().Add(time.Hour).UnixNano()
	for _, body := range []string{"first", "second"} {
		if _, err := a.Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldMO, Body: []byte(body), Expires: until}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "node 2 applies the holds", func() bool { return b.Holds().Len() == 2 })
	got := make([]storage.Held, 1)
	if n, _ := b.Holds().Lease("bob", until, got); n != 1 || string(got[0].Body) != "first" {
		t.Fatalf("node 2 leased %d (%q), want the first", n, got[0].Body)
	}
	if n, _ := a.Holds().Lease("bob", until, got); n != 1 || string(got[0].Body) != "second" {
		t.Fatalf("node 1 leased %d (%q), want the second in place of the one node 2 claimed", n, got[0].Body)
	}
	if n, _ := a.Holds().Lease("bob", until, got); n != 0 {
		t.Fatalf("node 1 leased %d more, want none: node 2 delivers the first", n)
	}
}
