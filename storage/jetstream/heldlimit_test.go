package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/storage"
)

// TestReplicaAppliesHeldItemsPastItsLimit: max_held and a user's share
// bound each node's own items only. Node 2 (max_held 8, share 5, its own
// 5 items of bob) applies all 150 of node 1's items of bob, a compaction
// by node 2 keeps them in the base, node 3 (the same small limits) replays
// them all, and once node 1 is gone (its items leased for its own
// delivery) node 2's take-over delivers every one of them.
func TestReplicaAppliesHeldItemsPastItsLimit(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() int64 { return now.Load() }
	share5 := func(string) int { return 5 }
	open := func(node, maxHeld int, share storage.HeldLimit, onHeld func(string)) *Store {
		js, nc := testJS(t, dir)
		sub := fmt.Sprint(node)
		s, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal." + sub, Node: node,
			Dir: dir + "/n" + sub, TTL: time.Hour, MaxHeld: maxHeld, HeldShare: share, OnHeld: onHeld,
			Now: clock, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); nc.Close() })
		return s
	}
	var offered atomic.Int32
	a := open(1, 150, nil, nil)
	b := open(2, 8, share5, func(user string) {
		if user == "bob" {
			offered.Add(1)
		}
	})
	expires := now.Load() + int64(time.Hour)
	hold := func(s *Store, body string, leased bool) error {
		h := storage.Held{SystemID: "bob", Kind: storage.HeldReceipt, Body: []byte(body), Expires: expires}
		if leased {
			h.LeaseUntil = expires // its producer is delivering it
		}
		_, err := s.Holds().Hold(&h)
		return err
	}
	for i := range 5 {
		if err := hold(b, fmt.Sprint("b", i), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := hold(b, "b5", false); !errors.Is(err, storage.ErrHeldFull) {
		t.Fatalf("node 2's 6th item of bob (share 5) = %v, want ErrHeldFull", err)
	}
	// Node 1 counts its own items only: node 2's 5 in its index do not
	// take from its 150.
	const n = 150
	for i := range n {
		if err := hold(a, fmt.Sprint("a", i), i%3 != 0); err != nil {
			t.Fatalf("node 1's item %d: %v", i, err)
		}
	}
	if err := hold(a, "a150", false); !errors.Is(err, storage.ErrHeldFull) {
		t.Fatalf("node 1's item past its max_held = %v, want ErrHeldFull", err)
	}
	if st := a.Stats(); st.HeldRefused != 1 || st.HeldShareRefused != 0 {
		t.Fatalf("node 1 refused %d (share %d), want 1 (0)", st.HeldRefused, st.HeldShareRefused)
	}
	if st := b.Stats(); st.HeldRefused != 1 || st.HeldShareRefused != 1 {
		t.Fatalf("node 2 refused %d (share %d), want 1 (1)", st.HeldRefused, st.HeldShareRefused)
	}
	eventually(t, "node 2 applies every item of node 1", func() bool { return b.Holds().Len() == n+5 })
	if j := b.Journal(); j.HeldOwn != 5 || j.HeldOthers != n {
		t.Fatalf("node 2 holds %d own, %d others', want 5, %d", j.HeldOwn, j.HeldOthers, n)
	}
	// Node 1 applies node 2's items from the journal on its own time.
	eventually(t, "node 1 applies node 2's items", func() bool { return a.Journal().HeldOthers >= 5 })
	if j := a.Journal(); j.HeldOwn != n || j.HeldOthers != 5 {
		t.Fatalf("node 1 holds %d own, %d others', want %d, 5", j.HeldOwn, j.HeldOthers, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := b.Compact(ctx, b.Applied()); err != nil {
		t.Fatal(err)
	}
	c := open(3, 8, share5, nil)
	if got := c.Holds().Len(); got != n+5 {
		t.Fatalf("node 3 replayed %d held items from node 2's base, want %d", got, n+5)
	}

	// Node 1 is gone with 100 of its items leased for its own delivery:
	// node 2 offers them once their producer's lease lapses.
	_ = a.Close()
	offered.Store(0)
	now.Add(int64(producerLease) + 1)
	if _, err := b.Holds().Expire(now.Load(), nil); err != nil {
		t.Fatal(err)
	}
	if offered.Load() == 0 {
		t.Fatal("node 1's lapsed items were not offered on node 2")
	}
	got := map[string]bool{}
	dst := make([]storage.Held, 32)
	for {
		k, err := b.Holds().Lease("bob", now.Load()+int64(time.Minute), dst)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range dst[:k] {
			if got[string(h.Body)] {
				t.Fatalf("%s leased twice", h.Body)
			}
			got[string(h.Body)] = true
			if err := b.Holds().Ack(h.Key); err != nil {
				t.Fatal(err)
			}
		}
		if k < len(dst) {
			break
		}
	}
	for i := range n {
		if !got[fmt.Sprint("a", i)] {
			t.Fatalf("node 1's item a%d was not delivered by node 2", i)
		}
	}
	if len(got) != n+5 || b.Holds().Len() != 0 {
		t.Fatalf("node 2 delivered %d, holds %d, want %d, 0", len(got), b.Holds().Len(), n+5)
	}
	eventually(t, "node 2's acks reach node 3", func() bool { return c.Holds().Len() == 0 })
}
