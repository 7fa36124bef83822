package disk

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/storagetest"
)

// TestConformanceNoLog: without a log the store still behaves as a store
// while open (storage/jetstream's index).
func TestConformanceNoLog(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, c storagetest.Config) storage.Store {
		s, err := Open(Options{Dir: c.Dir, NoLog: true, TTL: c.TTL, MaxHeld: c.MaxHeld, HeldShare: c.HeldShare,
			MaxDeadLetters: c.MaxDeadLetters, Now: c.Now})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// TestNoLogWritesNothing: a store without a log creates no file, and what
// it held is gone after Close.
func TestNoLogWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	open := func() *Store {
		s, err := Open(Options{Dir: dir, NoLog: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	now := time.Now().UnixNano()
	r := storage.Record{ID: msg.ID(1 << 20), SystemID: "esme", State: msg.StateEnroute, Submitted: now}
	if err := s.PutMessage(&r, []byte("body")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetState(r.ID, msg.StateDelivered, 0, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Holds().Hold(&storage.Held{SystemID: "esme", Kind: storage.HeldReceipt, ID: r.ID, Expires: 1 << 62, Body: []byte("dlr")}); err != nil {
		t.Fatal(err)
	}
	var got storage.Record
	if err := s.Get(r.ID, &got); err != nil || got.State != msg.StateDelivered {
		t.Fatalf("Get: %v, state %v; want delivered", err, got.State)
	}
	if err := s.Committer().WaitCommitted(s.Committer().Written()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the store's directory: %v; want none created", err)
	}
	s = open()
	defer s.Close()
	if err := s.Get(r.ID, &got); !errors.Is(err, storage.ErrNotFound) || s.Holds().Len() != 0 {
		t.Fatalf("reopened: Get %v, %d held; want nothing kept", err, s.Holds().Len())
	}
}
