package memory

import (
	"errors"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// GetStored reads what Get reads but the view of a state decided at
// acceptance: before and after that state's time it shows the stored
// state, where Get shows ENROUTE and then the decided one.
func TestGetStoredSkipsTheDecidedStatesView(t *testing.T) {
	clk := newClock()
	s := New(Options{MaxRecords: 64, TTL: time.Hour, Now: clk.now})
	r := rec(7, clk.now())
	if err := s.Put(&r); err != nil {
		t.Fatal(err)
	}
	at := clk.now() + int64(time.Second)
	if err := s.SetAccepted(r.ID, msg.StateDelivered, 0, at); err != nil {
		t.Fatal(err)
	}
	for _, step := range []time.Duration{0, 2 * time.Second} {
		clk.advance(step)
		got := mustGet(t, s, r.ID)
		var stored storage.Record
		if err := s.GetStored(r.ID, &stored); err != nil {
			t.Fatal(err)
		}
		if stored.State != msg.StateEnroute || stored.Done != at {
			t.Fatalf("after %v: GetStored state %v done %d, want the stored ENROUTE and done %d", step, stored.State, stored.Done, at)
		}
		stored.State, stored.Err, stored.Done = got.State, got.Err, got.Done
		if stored != got {
			t.Fatalf("after %v: GetStored differs from Get beyond the view:\n%+v\n%+v", step, stored, got)
		}
	}
	var out storage.Record
	if err := s.GetStored(msg.ID(8), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetStored of an unknown id = %v, want ErrNotFound", err)
	}
}

// BenchmarkReadDecided: a read of a record whose final state was decided
// at acceptance (every record the simulator accepts), with the default
// clocks: Get pays its view's precise clock read, GetStored does not.
func BenchmarkReadDecided(b *testing.B) {
	s := New(Options{MaxRecords: 1 << 12, TTL: time.Hour})
	now := time.Now().UnixNano()
	for i := range msg.ID(1024) {
		r := rec(i+1, now)
		if err := s.Put(&r); err != nil {
			b.Fatal(err)
		}
		if err := s.SetAccepted(r.ID, msg.StateDelivered, 0, now); err != nil {
			b.Fatal(err)
		}
	}
	for _, read := range []struct {
		name string
		get  func(msg.ID, *storage.Record) error
	}{{"Get", s.Get}, {"GetStored", s.GetStored}} {
		b.Run(read.name, func(b *testing.B) {
			var out storage.Record
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := read.get(msg.ID(i%1024+1), &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
