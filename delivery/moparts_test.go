package delivery

import (
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk"
	"github.com/smppd/smppd/storage/disk/wal"
)

// part is part seq of total of a concatenated MO (8-bit UDH, reference
// 7) from 4917 to alice.
func part(seq, total byte, text string) *msg.Inbound {
	sm := append([]byte{5, 0, 3, 7, total, seq}, text...)
	return &msg.Inbound{Connector: "smsc", SystemID: "alice", Source: []byte("4917"), Dest: []byte("1"),
		ESMClass: codec.ESMClassUDHI, ShortMessage: sm, Received: t0.UnixNano()}
}

// heldParts counts the held copies of MO parts.
func heldParts(t *testing.T, h storage.Holds) int {
	t.Helper()
	var dst [64]storage.Held
	n, err := h.Lease(partsQueue, t0.Add(time.Second).UnixNano(), dst[:])
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := h.Release(dst[i].Key, 0); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// text decodes a delivered deliver_sm's short_message.
func text(t *testing.T, d *engine.Delivery) string {
	t.Helper()
	var sm codec.SM
	if err := sm.Decode(d.Body); err != nil {
		t.Fatal(err)
	}
	return string(sm.ShortMessage)
}

// A part of a concatenated MO is held in the store until its whole MO is
// kept; the whole goes, and the parts' copies with it.
func TestMOPartsHeldUntilWhole(t *testing.T) {
	s, st, out := durableService(t, 16, func(o *Options) { o.ReassembleMO = true })
	if err := s.MO(part(1, 2, "Hello, ")); err != nil {
		t.Fatal(err)
	}
	if n := heldParts(t, st.Holds()); n != 1 || len(out.take()) != 0 {
		t.Fatalf("held parts %d: want the first part held, nothing sent", n)
	}
	if err := s.MO(part(2, 2, "world")); err != nil {
		t.Fatal(err)
	}
	got := out.take()
	if len(got) != 1 || text(t, got[0]) != "Hello, world" {
		t.Fatalf("sent %d", len(got))
	}
	if n := heldParts(t, st.Holds()); n != 0 || st.Holds().Len() != 1 {
		t.Fatalf("held parts %d, held %d: want only the whole MO held", n, st.Holds().Len())
	}
}

// The parts a previous run held are fed to the Reassembler again at
// Start: the part that comes after the restart completes the MO.
func TestMOPartsRecoveredAtStart(t *testing.T) {
	s, st, _ := durableService(t, 16, func(o *Options) { o.ReassembleMO = true })
	if err := s.MO(part(1, 2, "Hello, ")); err != nil {
		t.Fatal(err)
	}
	// The next run on the same store.
	o := s.opts
	s2, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	out2 := &outbox{}
	s2.Attach(out2)
	if err := s2.Start(); err != nil {
		t.Fatal(err)
	}
	defer s2.Stop(t.Context())
	if err := s2.MO(part(2, 2, "world")); err != nil {
		t.Fatal(err)
	}
	got := out2.take()
	if len(got) != 1 || text(t, got[0]) != "Hello, world" {
		t.Fatalf("after the restart: sent %d", len(got))
	}
	if n := heldParts(t, st.Holds()); n != 0 {
		t.Fatalf("%d part copies left", n)
	}
}

// A part the store cannot hold is refused (its upstream resends it); a
// whole MO it cannot hold leaves the other parts held and waiting, so the
// resent last part completes it; a set that times out lets its copies go.
func TestMOPartsNotKept(t *testing.T) {
	s, ds, out := unkeptService(t, 8)
	s.opts.ReassembleMO = true
	ds.holdsDown.Store(true)
	if err := s.MO(part(1, 3, "a")); err == nil {
		t.Fatal("part on a full store: nil")
	}
	ds.holdsDown.Store(false)
	for seq, txt := range []string{"a", "b"} {
		if err := s.MO(part(byte(seq+1), 3, txt)); err != nil {
			t.Fatal(err)
		}
	}
	ds.usersDown.Store(true)
	if err := s.MO(part(3, 3, "c")); err == nil {
		t.Fatal("whole MO on a full store: nil")
	}
	if n := heldParts(t, ds.h.Holds); n != 3 || len(out.take()) != 0 {
		t.Fatalf("held parts %d: want all three kept, nothing sent", n)
	}
	ds.usersDown.Store(false)
	if err := s.MO(part(3, 3, "c")); err != nil { // the upstream's resend
		t.Fatal(err)
	}
	if got := out.take(); len(got) != 1 || text(t, got[0]) != "abc" {
		t.Fatalf("sent %d", len(got))
	}
	if n := heldParts(t, ds.h.Holds); n != 0 {
		t.Fatalf("%d part copies left", n)
	}
	// An incomplete set that times out lets its copies go.
	if err := s.MO(part(1, 2, "x")); err != nil {
		t.Fatal(err)
	}
	s.Step(t0.Add(2 * s.opts.ReassemblyTimeout))
	if n := heldParts(t, ds.h.Holds); n != 0 || s.Stats().MOIncomplete != 1 {
		t.Fatalf("held parts %d, incomplete %d after the timeout", n, s.Stats().MOIncomplete)
	}
}

// On the disk store: a part held before a restart (the store closed and
// opened again) is reassembled with the part that comes after it.
func TestMOPartsSurviveRestartOnDisk(t *testing.T) {
	dir := t.TempDir()
	open := func() *disk.Store {
		st, err := disk.Open(disk.Options{Dir: dir, Sync: wal.SyncAlways, CompactEvery: -1, MaxHeld: 64})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	run := func(st *disk.Store) (*Service, *outbox) {
		s, err := New(Options{Messages: st, Holds: st.Holds(), Durable: true, DeadLetters: st.DeadLetters(),
			Settings: Settings{ReassembleMO: true, HoldLifetime: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		out := &outbox{}
		s.Attach(out)
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		return s, out
	}
	st := open()
	s, _ := run(st)
	p1 := part(1, 2, "Hello, ")
	p1.Received = time.Now().UnixNano()
	if err := s.MO(p1); err != nil {
		t.Fatal(err)
	}
	s.Stop(t.Context())
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open()
	defer st.Close()
	s, out := run(st)
	defer s.Stop(t.Context())
	p2 := part(2, 2, "world")
	p2.Received = time.Now().UnixNano()
	if err := s.MO(p2); err != nil {
		t.Fatal(err)
	}
	if got := out.take(); len(got) != 1 || text(t, got[0]) != "Hello, world" {
		t.Fatalf("after the restart: sent %d", len(got))
	}
	if st.Holds().Len() != 1 {
		t.Fatalf("held %d: want the whole MO only", st.Holds().Len())
	}
}
