package jetstream

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/storagetest"
)

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTwoNodesShareTheJournal: what node 1 writes, node 2 reads from its
// own index: records, upstream ids, held items (acknowledged on node 2,
// gone on node 1); the id floor stays each node's own; writes are
// acknowledged in batches.
func TestTwoNodesShareTheJournal(t *testing.T) {
	dir := t.TempDir()
	open := func(node int, sub string, onHeld func(string)) *Store {
		js, nc := testJS(t, dir)
		s, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal." + sub, Node: node,
			Dir: dir + "/n" + sub, TTL: time.Hour, OnHeld: onHeld, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); nc.Close() })
		return s
	}
	var held atomic.Int32
	a := open(1, "1", nil)
	b := open(2, "2", func(user string) {
		if user == "bob" {
			held.Add(1)
		}
	})
	var commits atomic.Uint64
	a.Committer().OnCommit(func(c uint64) { commits.Store(c) })

	const n = 2000
	for i := uint64(1); i <= n; i++ {
		r := storage.Record{ID: msg.ID(i<<12 | 1), SystemID: "bob", State: msg.StateEnroute, Connector: 0, Submitted: time.Now().UnixNano()}
		if err := a.PutMessage(&r, []byte("body")); err != nil {
			t.Fatal(err)
		}
	}
	w := a.Committer().Written()
	if w == 0 {
		t.Fatal("Written is 0 after writes")
	}
	if err := a.Committer().WaitCommitted(w); err != nil {
		t.Fatal(err)
	}
	eventually(t, "OnCommit reaches Written", func() bool { return commits.Load() >= w })
	if js := a.Journal(); js.Batches == 0 || js.Batches*10 > js.Entries {
		t.Fatalf("%d entries in %d batches: not batched", js.Entries, js.Batches)
	}
	eventually(t, "node 2 sees node 1's records", func() bool { return b.Len() == n })

	id := msg.ID(5<<12 | 1)
	if err := a.PutUpstream(0, []byte("UP-5"), id); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 2 finds the upstream id", func() bool { got, ok := b.Upstream(0, []byte("UP-5")); return ok && got == id })
	if err := b.SetState(id, msg.StateDelivered, 0, time.Now().UnixNano()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 1 sees node 2's final state", func() bool {
		var r storage.Record
		return a.Get(id, &r) == nil && r.State == msg.StateDelivered
	})

	h := storage.Held{SystemID: "bob", Kind: storage.HeldReceipt, ID: id, Body: []byte("deliver_sm"), Expires: time.Now().Add(time.Hour).UnixNano()}
	if _, err := a.Holds().Hold(&h); err != nil {
		t.Fatal(err)
	}
	eventually(t, "OnHeld on node 2", func() bool { return held.Load() == 1 })
	dst := make([]storage.Held, 4)
	k, err := b.Holds().Lease("bob", time.Now().Add(time.Minute).UnixNano(), dst)
	if err != nil || k != 1 || string(dst[0].Body) != "deliver_sm" {
		t.Fatalf("Lease on node 2: %d %v %+v", k, err, dst[0])
	}
	if err := b.Holds().Ack(dst[0].Key); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 2's ack removes node 1's item", func() bool { return a.Holds().Len() == 0 })

	if err := a.SetIDFloor(1 << 40); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if b.IDFloor() >= 1<<40 {
		t.Fatal("node 2 took node 1's id floor")
	}
}

// TestReopenRecoversOwnBodies: a reopen rebuilds the bodies of this
// node's unaccepted messages from the journal; another node's are not
// this node's to send.
func TestReopenRecoversOwnBodies(t *testing.T) {
	c := storagetest.Config{Dir: t.TempDir(), TTL: time.Hour, MaxHeld: 100, MaxDeadLetters: 10}
	s := openTest(t, c, 3)
	r := storage.Record{ID: msg.ID(9<<12 | 3), SystemID: "bob", State: msg.StateEnroute, Submitted: time.Now().UnixNano()}
	if err := s.PutMessage(&r, []byte("resend me")); err != nil {
		t.Fatal(err)
	}
	other := storage.Record{ID: msg.ID(9<<12 | 4), SystemID: "bob", State: msg.StateEnroute, Submitted: time.Now().UnixNano()}
	if err := s.PutMessage(&other, []byte("node 4's")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, c, 3)
	defer s.Close()
	var got []string
	if err := s.Recover(func(r *storage.Record, m []byte) error { got = append(got, string(m)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "resend me" {
		t.Fatalf("Recover gave %q, want this node's one body", got)
	}
}
