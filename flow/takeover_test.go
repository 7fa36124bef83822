package flow

import (
	"slices"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

// TestTakeOverDeferred: a take-over reports what it queued for a time
// still to come (a scheduled message, a decided receipt not yet due),
// which a departed node alive all along sends too; not what was due
// already (counted possible duplicates), nor a message waiting for its
// upstream's receipt, nor one past its validity; and lists the ids of
// what it counted possible duplicates (sent at once, due already).
func TestTakeOverDeferred(t *testing.T) {
	th, _, _ := durableHub(t, hubSpec{conns: 1, routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "all", Kind: "static", Connectors: []string{"a"}}},
	}})
	p := newUser(t, "alice", userSpec{receipts: true})
	now := th.clock.Now().UnixNano()
	msgOf := func(id msg.ID, schedule, expires int64) (storage.Record, *msg.Message) {
		m := msg.NewMessage()
		t.Cleanup(m.Release)
		m.ID, m.SystemID, m.Route, m.Command, m.Received, m.Expires = id, p.SystemID(), "a", uint32(codec.SubmitSMID), now, expires
		m.Schedule = schedule
		m.Source, m.Dest, m.ShortMessage, m.RegisteredDelivery = []byte("1"), []byte("491"), []byte("later"), 1
		rec := storage.Record{ID: id, SystemID: p.SystemID(), State: msg.StateEnroute, Submitted: now, RegisteredDelivery: 1}
		return rec, m
	}
	var rc recoverer
	r1, m1 := msgOf(201, now+int64(time.Hour), now+int64(2*time.Hour)) // scheduled: deferred
	rc.add(r1, m1)
	// Due: a counted possible duplicate. So is one the departed node's
	// connector had written upstream without its submit_sm_resp recorded:
	// its record is as unsent as this one (no upstream id, body kept).
	r2, m2 := msgOf(202, 0, now+int64(time.Hour))
	rc.add(r2, m2)
	r3, m3 := msgOf(203, 0, now-1) // past its validity: EXPIRED here
	rc.add(r3, m3)
	r4, _ := msgOf(204, 0, 0) // accepted upstream: its receipt will come
	rc.add(r4, nil)
	r5, _ := msgOf(205, 0, 0) // decided DELIVERED, its receipt due in a minute: deferred
	r5.State, r5.Done = msg.StateDelivered, now+int64(time.Minute)
	rc.add(r5, nil)
	r6, _ := msgOf(206, 0, 0) // decided, due already: a counted possible duplicate
	r6.State, r6.Done = msg.StateDelivered, now
	rc.add(r6, nil)
	for i := range rc.recs {
		if err := th.store.Put(&rc.recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := th.TakeOverDeferred(&rc)
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Deferred
	if d.N != 2 || !slices.Equal(d.IDs, []msg.ID{201, 205}) {
		t.Fatalf("deferred %d %v, want 2 [201 205]", d.N, d.IDs)
	}
	if s := th.Stats(); s.Redriven != 2 || s.RedrivenDup != 2 {
		t.Fatalf("redriven %d, possible duplicates %d; want 2 and 2", s.Redriven, s.RedrivenDup)
	}
	if rep.PossibleDuplicates != 2 || !slices.Equal(rep.DuplicateIDs, []msg.ID{202, 206}) {
		t.Fatalf("possible duplicates %d %v, want 2 [202 206]", rep.PossibleDuplicates, rep.DuplicateIDs)
	}
}
