package jetstream

import (
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// TestOwnersNameNodesWithWorkLeft: a node opened after the others wrote
// finds, in its replay, the nodes with work a take-over would act for
// (an unsent body, an internal queue's held item) and not those whose
// messages only await a receipt, whose held items are an ESME's, or
// itself.
func TestOwnersNameNodesWithWorkLeft(t *testing.T) {
	dir := t.TempDir()
	open := func(node int) *Store {
		js, nc := testJS(t, dir)
		sub := string(rune('0' + node))
		s, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal." + sub, Node: node,
			Dir: dir + "/n" + sub, TTL: time.Hour, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); nc.Close() })
		return s
	}
	put := func(s *Store, node int, accepted bool) {
		t.Helper()
		r := storage.Record{ID: msg.ID(1<<12 | uint64(node)), SystemID: "bob", State: msg.StateEnroute, Submitted: time.Now().UnixNano()}
		if err := s.PutMessage(&r, []byte("body")); err != nil {
			t.Fatal(err)
		}
		if accepted {
			if err := s.SetAccepted(r.ID, 0, 0, time.Now().UnixNano()); err != nil {
				t.Fatal(err)
			}
		}
	}
	hold := func(s *Store, user string) {
		t.Helper()
		if _, err := s.Holds().Hold(&storage.Held{SystemID: user, Kind: storage.HeldMO, Body: []byte("x"),
			Expires: time.Now().Add(time.Hour).UnixNano()}); err != nil {
			t.Fatal(err)
		}
	}
	n1, n3, n4, n5 := open(1), open(3), open(4), open(5)
	put(n1, 1, false)         // unsent: node 1 owns work
	put(n3, 3, true)          // the upstream has it: only a receipt is awaited
	hold(n4, "\x00webhook.4") // node 4's HTTP callback
	hold(n5, "bob")           // an ESME's MO: any node delivers it
	put(n5, 5, true)
	for _, s := range []*Store{n1, n3, n4, n5} {
		if err := s.Committer().WaitCommitted(s.Committer().Written()); err != nil {
			t.Fatal(err)
		}
	}
	n2 := open(2)
	put(n2, 2, false) // its own: never an owner
	if err := n2.Recover(func(*storage.Record, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := n2.Owners(), []int{1, 4}; !slices.Equal(got, want) {
		t.Fatalf("Owners = %v, want %v", got, want)
	}
}
