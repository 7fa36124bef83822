package jetstream

import (
	"context"
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
// off while the claim lives, delivers it once the claim's TTL passed, and
// counts it as a possible duplicate.
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
	if r := b.holds.retaken.Load(); r != 1 {
		t.Fatalf("node 2 counted %d retaken items, want 1: node 1 may have sent it", r)
	}
}

// TestClaimLostLeasesTheNext: a lease whose first item another node has
// claimed leases the next in its place, so a short count still means the
// user's queue is empty (delivery stops leasing on one).
func TestClaimLostLeasesTheNext(t *testing.T) {
	dir := t.TempDir()
	a, b := openClaimer(t, dir, 1), openClaimer(t, dir, 2)
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

// TestClaimRefreshRefusedIsLost: node 1's claim on an item it delivers
// is gone when it refreshes it (its TTL ran out while the refresh could
// not reach the bucket, and node 2 claimed the item): node 1 counts one
// lapsed claim, stops refreshing it, and counts it once only.
func TestClaimRefreshRefusedIsLost(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	open := func(node int) *Store {
		js, nc := testJS(t, dir)
		sub := string(rune('0' + node))
		s, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal." + sub, Node: node,
			Dir: dir + "/n" + sub, TTL: time.Hour, ClaimHeld: true, Now: now.Load, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); nc.Close() })
		return s
	}
	a, b := open(1), open(2)
	until := now.Load() + int64(time.Hour)
	if _, err := a.Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldMO, Body: []byte("mo"), Expires: until}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 2 applies the hold", func() bool { return b.Holds().Len() == 1 })
	dst := make([]storage.Held, 1)
	if n, _ := a.Holds().Lease("bob", until, dst); n != 1 {
		t.Fatalf("node 1 leased %d", n)
	}
	g := a.holds.global(dst[0].Key)
	// The claim's TTL ran out unrefreshed (the bucket's expiry, as a
	// purge), and node 2 claimed the item.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.claims.kv.Purge(ctx, claimKey(g)); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.Holds().Lease("bob", until, dst); n != 1 {
		t.Fatalf("node 2 leased %d after node 1's claim expired", n)
	}
	now.Add(int64(claimTTL / 4))
	a.claims.refresh()
	if c := a.claims.lapsedN.Load(); c != 1 {
		t.Fatalf("node 1 counted %d lapsed claims, want 1", c)
	}
	a.claims.mu.Lock()
	held := len(a.claims.held)
	a.claims.mu.Unlock()
	if held != 0 {
		t.Fatalf("node 1 still refreshes %d claims, want 0", held)
	}
	now.Add(int64(claimTTL / 4))
	a.claims.refresh()
	if c := a.claims.lapsedN.Load(); c != 1 {
		t.Fatalf("node 1 counted %d lapsed claims after another refresh, want 1", c)
	}
	if st := a.Journal(); st.ClaimsLapsed != 1 {
		t.Fatalf("Journal().ClaimsLapsed = %d, want 1", st.ClaimsLapsed)
	}
}

// TestClaimRefreshUnansweredPastTTLIsLost: node 1 cut off from the
// bucket (its connection gone) keeps its claim while the claim's TTL may
// not have run out, and counts it lapsed once it may have: the bucket may
// have dropped it, and another node claim the item.
func TestClaimRefreshUnansweredPastTTLIsLost(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	js, nc := testJS(t, dir)
	a, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal.1", Node: 1,
		Dir: dir + "/n1", TTL: time.Hour, ClaimHeld: true, Now: now.Load, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	until := now.Load() + int64(time.Hour)
	if _, err := a.Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldMO, Body: []byte("mo"), Expires: until}); err != nil {
		t.Fatal(err)
	}
	dst := make([]storage.Held, 1)
	if n, _ := a.Holds().Lease("bob", until, dst); n != 1 {
		t.Fatalf("node 1 leased %d", n)
	}
	eventually(t, "the hold acknowledged", func() bool { return a.j.Committed() == a.j.Written() })
	nc.Close() // every refresh from now on goes unanswered
	now.Add(int64(claimTTL / 2))
	a.claims.refresh()
	if c := a.claims.lapsedN.Load(); c != 0 {
		t.Fatalf("counted %d lapsed claims %v after the last refresh, want 0: the claim still lives", c, claimTTL/2)
	}
	now.Add(int64(claimTTL / 2))
	a.claims.refresh()
	if c := a.claims.lapsedN.Load(); c != 1 {
		t.Fatalf("counted %d lapsed claims %v after the last refresh, want 1", c, claimTTL)
	}
	now.Add(int64(claimTTL / 4))
	a.claims.refresh()
	if c := a.claims.lapsedN.Load(); c != 1 {
		t.Fatalf("counted %d lapsed claims after another refresh, want 1", c)
	}
}

// TestClaimOfAnAckedItemLivesUntilTheAckIsWritten: node 1 delivered and
// acknowledged an item whose ack waits in the journal (its position not
// yet acknowledged): its claim is refreshed on, so node 2 stays off;
// when the claim is lost before the ack is written (node 2 may deliver
// the item again), it is counted; once the ack is written it is let go.
func TestClaimOfAnAckedItemLivesUntilTheAckIsWritten(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	open := func(node int) *Store {
		js, nc := testJS(t, dir)
		sub := string(rune('0' + node))
		s, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal." + sub, Node: node,
			Dir: dir + "/n" + sub, TTL: time.Hour, ClaimHeld: true, Now: now.Load, OnHeld: func(string) {}, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); nc.Close() })
		return s
	}
	a, b := open(1), open(2)
	acking := func() int {
		a.claims.mu.Lock()
		defer a.claims.mu.Unlock()
		return len(a.claims.acking)
	}
	until := now.Load() + int64(time.Hour)
	for _, body := range []string{"first", "second"} {
		if _, err := a.Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldMO, Body: []byte(body), Expires: until}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "node 2 applies the holds", func() bool { return b.Holds().Len() == 2 })
	dst := make([]storage.Held, 2)
	if n, _ := a.Holds().Lease("bob", until, dst); n != 2 {
		t.Fatalf("node 1 leased %d", n)
	}

	// The first's ack, written: its claim goes at the next refresh.
	if err := a.Holds().Ack(dst[0].Key); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ack acknowledged", func() bool { return a.j.Committed() == a.j.Written() })
	a.claims.refresh()
	if n := acking(); n != 0 {
		t.Fatalf("%d acked claims kept after their acks were written, want 0", n)
	}

	// The second's ack waits in a stalled journal (a position not yet
	// acknowledged): its claim is refreshed, node 2's lease refused.
	cl, ok := a.claims.detach(dst[1].Key)
	if !ok {
		t.Fatal("node 1 holds no claim on the item it leased")
	}
	a.claims.acked(cl, a.j.Written()+1<<40)
	now.Add(int64(claimTTL / 4))
	a.claims.refresh()
	if r, n := a.claims.refreshed.Load(), acking(); r != 1 || n != 1 {
		t.Fatalf("refreshed %d claims, %d acked kept; want 1 and 1", r, n)
	}
	if n, _ := b.Holds().Lease("bob", until, dst[:1]); n != 0 {
		t.Fatal("node 2 leased an item node 1 acknowledged, its ack not yet written")
	}

	// The claim lost before the ack is written (expired, node 2 claimed
	// the item): node 2 may deliver it again, which node 1 counts.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.claims.kv.Purge(ctx, claimKey(cl.g)); err != nil {
		t.Fatal(err)
	}
	now.Add(int64(claimTTL) + 1)
	if _, err := b.Holds().Expire(now.Load(), nil); err != nil { // node 2's lost claim due
		t.Fatal(err)
	}
	if n, _ := b.Holds().Lease("bob", until, dst[:1]); n != 1 {
		t.Fatalf("node 2 leased %d once node 1's claim was gone", n)
	}
	a.claims.refresh()
	if c, n := a.claims.lapsedN.Load(), acking(); c != 1 || n != 0 {
		t.Fatalf("node 1 counted %d lapsed claims, kept %d acked; want 1 and 0", c, n)
	}
	if r := b.holds.retaken.Load(); r != 1 {
		t.Fatalf("node 2 counted %d retaken, want 1 (its lost claim lapsed)", r)
	}
}

// openClaimer opens node's store on the shared test server, claiming held
// items, with its own journal subject and local directory under dir.
func openClaimer(t *testing.T, dir string, node int) *Store {
	t.Helper()
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
