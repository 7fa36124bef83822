package delivery

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// errDevice stands for a full or failing device.
var errDevice = errors.New("test: device full")

// downStore is the memory store whose state writes (down) and held items
// (holdsDown) fail, as the disk store's do while its device is full.
type downStore struct {
	*memory.Store
	down, holdsDown atomic.Bool
	usersDown       atomic.Bool // held items of users fail; MO parts' copies do not
	h               downHolds
}

func (s *downStore) setDown(v bool) {
	s.down.Store(v)
	s.holdsDown.Store(v)
}

type downHolds struct {
	storage.Holds
	s *downStore
}

func (h *downHolds) Hold(it *storage.Held) (storage.HeldKey, error) {
	if h.s.holdsDown.Load() || h.s.usersDown.Load() && it.SystemID != partsQueue {
		return 0, errDevice
	}
	return h.Holds.Hold(it)
}

func (s *downStore) Finish(id msg.ID, st msg.State, code uint16, done int64, out *storage.Record) error {
	if s.down.Load() {
		return errDevice
	}
	return s.Store.Finish(id, st, code, done, out)
}

func (s *downStore) SetState(id msg.ID, st msg.State, code uint16, done int64) error {
	if s.down.Load() {
		return errDevice
	}
	return s.Store.SetState(id, st, code, done)
}

func unkeptService(t *testing.T, maxWaiting int) (*Service, *downStore, *outbox) {
	t.Helper()
	ds := &downStore{Store: memory.New(memory.Options{MaxRecords: 64, MaxHeld: 64})}
	ds.h = downHolds{Holds: ds.Store.Holds(), s: ds}
	s, _, out := durableService(t, 64, func(o *Options) {
		o.Messages, o.Holds, o.MaxWaiting = ds, &ds.h, maxWaiting
	})
	return s, ds, out
}

// A receipt no one sends again (the simulator's) that the store cannot
// keep waits in memory and goes, state recorded, once the store takes it;
// an upstream's (Resends) is refused only, for the upstream to resend.
func TestUnkeptReceiptRetried(t *testing.T) {
	s, ds, out := unkeptService(t, 8)
	putRecord(t, ds, 7, 1)
	putRecord(t, ds, 8, 1)
	ds.setDown(true)
	if err := s.Receipt(&msg.Receipt{ID: 7, State: msg.StateDelivered}); !errors.Is(err, errDevice) {
		t.Fatalf("Receipt on a full store: %v", err)
	}
	if err := s.Receipt(&msg.Receipt{ID: 8, State: msg.StateDelivered, Resends: true}); !errors.Is(err, errDevice) {
		t.Fatalf("upstream receipt on a full store: %v", err)
	}
	if s.Unkept() != 1 || len(out.take()) != 0 {
		t.Fatalf("unkept %d: want the simulator's receipt only, nothing sent", s.Unkept())
	}
	s.Step(t0) // still down: it stays
	if s.Unkept() != 1 || len(out.take()) != 0 {
		t.Fatalf("unkept %d after a round on a full store", s.Unkept())
	}
	ds.setDown(false)
	s.Step(t0)
	if got := out.take(); len(got) != 1 || s.Unkept() != 0 {
		t.Fatalf("sent %d, unkept %d after the store recovered", len(got), s.Unkept())
	}
	var r storage.Record
	if err := ds.Get(7, &r); err != nil || r.State != msg.StateDelivered {
		t.Fatalf("record %v %v", r.State, err)
	}
	if err := ds.Get(8, &r); err != nil || r.State != msg.StateEnroute {
		t.Fatalf("the upstream's receipt was recorded: %v %v", r.State, err)
	}
	if st := s.Stats(); st.UnkeptKept != 1 || st.UnkeptLost != 0 || st.UnkeptNow != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A held receipt whose state the store refuses goes at once; only its
// state waits in memory, and is recorded once the store takes it.
func TestUnkeptStateOnly(t *testing.T) {
	s, ds, out := unkeptService(t, 8)
	putRecord(t, ds, 7, 1)
	ds.down.Store(true) // held items are kept: only the state fails
	if err := s.Receipt(&msg.Receipt{ID: 7, State: msg.StateUndeliverable, Err: 5, Done: t0.UnixNano()}); err != nil {
		t.Fatal(err)
	}
	if len(out.take()) != 1 || s.Unkept() != 1 {
		t.Fatalf("unkept %d: want the receipt sent and its state waiting", s.Unkept())
	}
	ds.setDown(false)
	s.Step(t0)
	var r storage.Record
	if err := ds.Get(7, &r); err != nil || r.State != msg.StateUndeliverable || r.Err != 5 || s.Unkept() != 0 {
		t.Fatalf("record %v err %d (%v), unkept %d", r.State, r.Err, err, s.Unkept())
	}
	if len(out.take()) != 0 {
		t.Fatal("the receipt went twice")
	}
}

// A failure decided here whose receipt the store cannot keep is sent once
// the store takes it; past MaxWaiting waiting receipts one is lost,
// counted.
func TestUnkeptFailedReceiptAndBound(t *testing.T) {
	s, ds, out := unkeptService(t, 1)
	putRecord(t, ds, 7, 1)
	putRecord(t, ds, 8, 1)
	ds.setDown(true)
	var r storage.Record
	if err := ds.Get(7, &r); err != nil {
		t.Fatal(err)
	}
	s.FailedReceipt(&r, msg.StateRejected, 0x45, t0.UnixNano())
	if err := s.Receipt(&msg.Receipt{ID: 8, State: msg.StateDelivered}); err == nil {
		t.Fatal("Receipt on a full store: nil")
	}
	if st := s.Stats(); st.UnkeptNow != 1 || st.UnkeptLost != 1 {
		t.Fatalf("stats %+v: want one waiting, one lost", st)
	}
	ds.setDown(false)
	s.Step(t0)
	got := out.take()
	if len(got) != 1 || got[0].Body == nil || s.Unkept() != 0 {
		t.Fatalf("sent %d, unkept %d", len(got), s.Unkept())
	}
}
