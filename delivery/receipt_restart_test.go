package delivery

import (
	"bytes"
	"testing"
	"time"

	"github.com/smppd/smppd/delivery/dlr"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk"
	"github.com/smppd/smppd/storage/disk/wal"
)

// On the disk store with dlr.Body as its Rebuild: a receipt held when the
// process stops is logged as its recipe and comes back after a restart as
// the same deliver_sm body, octet for octet, built from the recipe.
func TestDurableReceiptSameAfterRestartOnDisk(t *testing.T) {
	dir := t.TempDir()
	built := 0
	open := func() *disk.Store {
		st, err := disk.Open(disk.Options{Dir: dir, Sync: wal.SyncAlways, CompactEvery: -1, MaxHeld: 64,
			Rebuild: func(dst, recipe []byte) ([]byte, error) {
				built++
				return dlr.Body(dst, recipe)
			}})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	s, err := New(Options{Messages: st, Holds: st.Holds(), Durable: true, DeadLetters: st.DeadLetters(),
		Settings: Settings{HoldLifetime: time.Hour, ReceiptIDDecimal: true, ReceiptZone: time.FixedZone("CET", 3600)}})
	if err != nil {
		t.Fatal(err)
	}
	out := &outbox{}
	s.Attach(out)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	r := storage.Record{ID: 0x5a17, SystemID: "alice", State: msg.StateEnroute, RegisteredDelivery: 1, DataCoding: 0x08,
		Submitted: time.Now().Add(-time.Minute).UnixNano(), SourceTON: 5, DestTON: 1, DestNPI: 1}
	r.SetAddrs([]byte("INFO"), []byte("4915112345678"), []byte{0, 'h', 0x20, 0xac})
	if err := st.Put(&r); err != nil {
		t.Fatal(err)
	}
	if err := s.Receipt(&msg.Receipt{ID: r.ID, State: msg.StateUndeliverable, Err: 34, NetworkError: [3]byte{3, 0, 34},
		HasNetErr: true, Done: time.Now().UnixNano()}); err != nil {
		t.Fatal(err)
	}
	got := out.take()
	if len(got) != 1 {
		t.Fatalf("sent %d receipts", len(got))
	}
	sent := append([]byte(nil), got[0].Body...)
	s.Stop(t.Context()) // not answered: it stays held
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = open()
	defer st.Close()
	var dst [2]storage.Held
	n, err := st.Holds().Lease("alice", time.Now().Add(time.Minute).UnixNano(), dst[:])
	if err != nil || n != 1 || built != 1 {
		t.Fatalf("after the restart: %d held (%v), %d built from a recipe; want one", n, err, built)
	}
	if !bytes.Equal(dst[0].Body, sent) || dst[0].ID != r.ID || dst[0].Kind != storage.HeldReceipt {
		t.Fatalf("after the restart: %+v\nbody %q\nsent %q", dst[0], dst[0].Body, sent)
	}
}
