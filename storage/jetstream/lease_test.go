package jetstream

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// TestProducerLeaseKeepsOtherNodesOff: an item its producer holds leased
// (delivering it) is not leased on another node until the producer
// releases it, which tells the other node's OnHeld; the other node's lease
// then survives a later release by the producer; an item whose producer
// never answers is offered after producerLease (Expire), and its lease
// there counted as a possible duplicate (retaken).
func TestProducerLeaseKeepsOtherNodesOff(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() int64 { return now.Load() }
	open := func(node int, sub string, onHeld func(string)) *Store {
		js, nc := testJS(t, dir)
		s, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal." + sub, Node: node,
			Dir: dir + "/n" + sub, TTL: time.Hour, OnHeld: onHeld, Now: clock, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); nc.Close() })
		return s
	}
	var offered atomic.Int32
	a := open(1, "1", nil)
	b := open(2, "2", func(string) { offered.Add(1) })
	dst := make([]storage.Held, 4)
	until := func() int64 { return now.Load() + int64(time.Hour) }

	hold := func(leased bool) storage.HeldKey {
		t.Helper()
		h := storage.Held{SystemID: "bob", Kind: storage.HeldMO, Body: []byte("mo"), Expires: until()}
		if leased {
			h.LeaseUntil = until()
		}
		key, err := a.Holds().Hold(&h)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "node 2 applies the hold", func() bool { return b.Holds().Len() == a.Holds().Len() })
		return key
	}

	key := hold(true)
	if k, _ := b.Holds().Lease("bob", until(), dst); k != 0 || offered.Load() != 0 {
		t.Fatalf("node 2 leased %d (offered %d) of an item its producer is delivering", k, offered.Load())
	}
	if err := a.Holds().Release(key, 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the producer's release offers it on node 2", func() bool { return offered.Load() == 1 })
	if k, _ := b.Holds().Lease("bob", until(), dst); k != 1 {
		t.Fatalf("node 2 leased %d after the release", k)
	}
	if r := b.holds.retaken.Load(); r != 0 {
		t.Fatalf("node 2 counted %d retaken after the producer's release, want 0: it gave the item up", r)
	}
	// Node 1 leases it too (its own receiver bound), fails and releases:
	// node 2's delivery in progress keeps its lease.
	if k, _ := a.Holds().Lease("bob", until(), dst[1:]); k != 1 {
		t.Fatalf("node 1 leased %d", k)
	}
	if err := a.Holds().Release(dst[1].Key, 2); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if k, _ := b.Holds().Lease("bob", until(), dst[2:]); k != 0 {
		t.Fatal("another node's release re-offered an item node 2 holds leased")
	}
	if err := b.Holds().Ack(dst[0].Key); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 2's ack removes it on node 1", func() bool { return a.Holds().Len() == 0 })

	// A producer that never answers: after producerLease node 2 takes it.
	offered.Store(0)
	hold(true)
	now.Add(int64(producerLease) + 1)
	if _, err := b.Holds().Expire(now.Load(), nil); err != nil {
		t.Fatal(err)
	}
	if offered.Load() != 1 {
		t.Fatalf("lapsed producer lease offered %d times", offered.Load())
	}
	if k, _ := b.Holds().Lease("bob", until(), dst); k != 1 {
		t.Fatalf("node 2 leased %d after the producer's lease lapsed", k)
	}
	// The producer may have sent it: a possible duplicate, counted once.
	if r := b.holds.retaken.Load(); r != 1 {
		t.Fatalf("node 2 counted %d retaken after the producer's lease lapsed, want 1", r)
	}
}

// TestRecoverNodeHandsOutAnotherNodesBodies: a surviving node takes over
// a departed node's unsent messages with RecoverNode (its own Recover
// never hands them out); an accepted one comes without its body.
func TestRecoverNodeHandsOutAnotherNodesBodies(t *testing.T) {
	dir := t.TempDir()
	open := func(node int, sub string) *Store {
		js, nc := testJS(t, dir)
		s, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal." + sub, Node: node,
			Dir: dir + "/n" + sub, TTL: time.Hour, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); nc.Close() })
		return s
	}
	a, b := open(1, "1"), open(2, "2")
	put := func(s *Store, seq uint64, node int, body string) msg.ID {
		t.Helper()
		r := storage.Record{ID: msg.ID(seq<<12 | uint64(node)), SystemID: "bob", State: msg.StateEnroute, Submitted: time.Now().UnixNano()}
		if err := s.PutMessage(&r, []byte(body)); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	put(b, 1, 2, "mine")
	put(a, 2, 1, "node 1's, unsent")
	sent := put(a, 3, 1, "node 1's, accepted upstream")
	if err := a.SetAccepted(sent, 0, 0, time.Now().UnixNano()); err != nil {
		t.Fatal(err)
	}
	collect := func(recover func(func(*storage.Record, []byte) error) error) map[string]bool {
		got := map[string]bool{}
		if err := recover(func(r *storage.Record, m []byte) error { got[fmt.Sprintf("%d:%s", r.ID.Node(), m)] = true; return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	var got map[string]bool
	eventually(t, "node 2 takes over node 1's messages", func() bool {
		got = collect(func(fn func(*storage.Record, []byte) error) error { return b.RecoverNode(1, fn) })
		return len(got) == 2 && got["1:node 1's, unsent"] && got["1:"]
	})
	for k := range collect(b.Recover) {
		if k[0] != '2' {
			t.Fatalf("node 2's Recover handed out %q, another node's", k)
		}
	}
}
