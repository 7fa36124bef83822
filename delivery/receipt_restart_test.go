package delivery

import (
	"bytes"
	"slices"
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

// Every path that holds a receipt on the disk store (an intermediate
// report, a final receipt, a receipt of a message that ended here) logs
// the recipe of the body it sent: after compaction copies them forward
// and a restart, each comes back octet for octet as it was sent.
func TestDurableReceiptsSameAfterCompactionAndRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *disk.Store {
		st, err := disk.Open(disk.Options{Dir: dir, Sync: wal.SyncAlways, SegmentSize: 16 << 10, CompactEvery: -1,
			MaxHeld: 1024, Rebuild: dlr.Body})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	zone, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Messages: st, Holds: st.Holds(), Durable: true, DeadLetters: st.DeadLetters(),
		Settings: Settings{HoldLifetime: time.Hour, ReceiptIDDecimal: true, ReceiptZone: zone}})
	if err != nil {
		t.Fatal(err)
	}
	out := &outbox{}
	s.Attach(out)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	var sent []string
	take := func() {
		for _, d := range out.take() {
			sent = append(sent, string(d.Body))
		}
	}
	texts := []struct {
		dc   byte
		text []byte
	}{{0, []byte("@£$¥ hello, a text longer than twenty")}, {0x08, []byte{0, 'h', 0x20, 0xac, 0xd8, 0x3d, 0xde, 0x00}},
		{0x03, []byte("caf\xe9")}, {0x04, []byte{0, 1, 2, 0xff}}, {0x01, []byte("  spaced IA5 ")}}
	now := time.Now()
	for i := range 60 {
		c := texts[i%len(texts)]
		r := storage.Record{ID: msg.ID(0xfedcba9876543210 + uint64(i)), SystemID: []string{"alice", "bob"}[i%2],
			State: msg.StateEnroute, RegisteredDelivery: 0x11, DataCoding: c.dc,
			Submitted: now.Add(-time.Duration(i) * time.Hour).UnixNano(), SourceTON: 5, DestTON: 1, DestNPI: 1}
		r.SetAddrs([]byte("INFO"), []byte("49151123456"+string(rune('0'+i%10))), c.text)
		if err := st.Put(&r); err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0:
			if err := s.Receipt(&msg.Receipt{ID: r.ID, State: msg.StateEnroute, Intermediate: true, Err: uint16(i)}); err != nil {
				t.Fatal(err)
			}
		case 1:
			if err := s.Receipt(&msg.Receipt{ID: r.ID, State: msg.StateUndeliverable, Err: uint16(1000 + i),
				NetworkError: [3]byte{3, 0, byte(i)}, HasNetErr: true, Done: now.UnixNano()}); err != nil {
				t.Fatal(err)
			}
		default:
			s.FailedReceipt(&r, msg.StateExpired, uint16(i), now.Add(time.Duration(i)*time.Minute).UnixNano())
		}
		take()
	}
	if len(sent) != 60 {
		t.Fatalf("sent %d receipts, want 60", len(sent))
	}
	s.Stop(t.Context()) // none answered: all stay held
	// Past a few segments, so compaction has the receipts' to copy.
	big := make([]byte, 2000)
	for range 40 {
		h := storage.Held{SystemID: "churn", Kind: storage.HeldMO, Body: big, Expires: now.Add(time.Hour).UnixNano()}
		key, err := st.Holds().Hold(&h)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Holds().Ack(key); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = open()
	if n, err := st.Compact(true); err != nil || n == 0 {
		t.Fatalf("compaction removed %d segments: %v", n, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open()
	defer st.Close()
	var got []string
	for _, user := range []string{"alice", "bob"} {
		var dst [64]storage.Held
		n, err := st.Holds().Lease(user, time.Now().Add(time.Minute).UnixNano(), dst[:])
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range dst[:n] {
			got = append(got, string(h.Body))
		}
	}
	slices.Sort(sent)
	slices.Sort(got)
	if !slices.Equal(got, sent) {
		t.Fatalf("after compaction and a restart: %d held\n%q\nsent %d\n%q", len(got), got, len(sent), sent)
	}
	if c := st.Stats().ReplayCorrupt; c != 0 {
		t.Fatalf("%d entries counted damaged", c)
	}
}
