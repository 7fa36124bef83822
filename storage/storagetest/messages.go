package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// messageCases hold storage.Messages to its contract.
var messageCases = []testCase{
	{name: "Record/RoundTrip", run: recordRoundTrip},
	{name: "Record/ReplaceSameID", run: recordReplace},
	{name: "Record/Unknown", run: recordUnknown},
	{name: "Record/StampsZeroSubmitted", run: recordStamps},
	{name: "Record/SetState", run: recordSetState},
	{name: "Record/Finish", run: recordFinish},
	{name: "Record/SetAccepted", run: recordSetAccepted},
	{name: "Record/GetStored", run: recordGetStored},
	{name: "Record/SetReplaced", run: recordSetReplaced},
	{name: "Record/Delete", run: recordDelete},
	{name: "Record/TTL", run: recordTTL},
}

func recordRoundTrip(t *testing.T, e *env) {
	r := record(id(1), e.now())
	r.State, r.Err, r.Done = msg.StateDelivered, 0x45, e.now()+5
	e.put(t, r)
	r.Source[0] = 'X' // the store kept a copy, not r
	got := e.mustGet(t, id(1))
	want := record(id(1), e.now())
	want.State, want.Err, want.Done = msg.StateDelivered, 0x45, e.now()+5
	if !same(got, want) {
		t.Fatalf("Get = %+v\nwant %+v", got, want)
	}
	got.Dest[0] = 'Y' // nor does it share the copy it gave out
	if again := e.mustGet(t, id(1)); !same(again, want) {
		t.Fatalf("a changed copy changed the store: %+v", again)
	}
	if n := e.s.Len(); n != 1 {
		t.Fatalf("Len = %d, want 1", n)
	}
}

func recordReplace(t *testing.T, e *env) {
	e.put(t, record(id(1), e.now()))
	r := record(id(1), e.now())
	r.SetAddrs([]byte("111"), []byte("222"), []byte("other"))
	r.State = msg.StateUndeliverable
	e.put(t, r)
	if got := e.mustGet(t, id(1)); !same(got, r) {
		t.Fatalf("Get after a second Put = %+v, want %+v", got, r)
	}
	if n := e.s.Len(); n != 1 {
		t.Fatalf("Len = %d after two Puts of one id", n)
	}
}

func recordUnknown(t *testing.T, e *env) {
	e.put(t, record(id(1), e.now()))
	out := record(id(9), 42)
	keep := out
	if err := e.s.Get(id(2), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get(unknown) = %v, want ErrNotFound", err)
	}
	if out != keep {
		t.Fatal("Get of an unknown id changed out")
	}
	var r storage.Record
	for name, err := range map[string]error{
		"SetState":    e.s.SetState(id(2), msg.StateDelivered, 0, e.now()),
		"Finish":      e.s.Finish(id(2), msg.StateDelivered, 0, e.now(), &r),
		"SetAccepted": e.s.SetAccepted(id(2), msg.StateDelivered, 0, e.now()),
		"SetReplaced": e.s.SetReplaced(id(2), &out),
		"Delete":      e.s.Delete(id(2)),
	} {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s(unknown) = %v, want ErrNotFound", name, err)
		}
	}
}

func recordStamps(t *testing.T, e *env) {
	e.put(t, record(id(1), 0))
	if got := e.mustGet(t, id(1)).Submitted; got != e.now() {
		t.Fatalf("Submitted = %d, want the clock's %d", got, e.now())
	}
}

func recordSetState(t *testing.T, e *env) {
	r := record(id(1), e.now())
	e.put(t, r)
	done := e.now() + int64(time.Second)
	if err := e.s.SetState(id(1), msg.StateUndeliverable, 0x0b, done); err != nil {
		t.Fatal(err)
	}
	r.State, r.Err, r.Done = msg.StateUndeliverable, 0x0b, done
	if got := e.mustGet(t, id(1)); !same(got, r) {
		t.Fatalf("after SetState: %+v, want %+v", got, r)
	}
}

func recordFinish(t *testing.T, e *env) {
	r := record(id(1), e.now())
	e.put(t, r)
	done := e.now() + int64(time.Second)
	var out storage.Record
	if err := e.s.Finish(id(1), msg.StateDelivered, 0, done, &out); err != nil {
		t.Fatal(err)
	}
	r.State, r.Done = msg.StateDelivered, done
	if !same(out, r) {
		t.Fatalf("Finish out = %+v, want %+v", out, r)
	}
	if got := e.mustGet(t, id(1)); !same(got, r) {
		t.Fatalf("Get after Finish = %+v", got)
	}
	// No receipt asked: the counters' fields are enough.
	q := record(id(2), e.now())
	q.RegisteredDelivery = 0
	e.put(t, q)
	if err := e.s.Finish(id(2), msg.StateExpired, 7, done, &out); err != nil {
		t.Fatal(err)
	}
	if out.ID != id(2) || out.State != msg.StateExpired || out.Err != 7 || out.Connector != 3 ||
		out.Submitted != q.Submitted || out.Done != done {
		t.Fatalf("Finish without receipt out = %+v", out)
	}
}

func recordSetAccepted(t *testing.T, e *env) {
	r := record(id(1), e.now())
	e.put(t, r)
	if err := e.s.SetAccepted(id(1), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet(t, id(1)); !same(got, r) {
		t.Fatalf("SetAccepted without a final state changed the record: %+v", got)
	}
	at := e.now() + int64(time.Second)
	if err := e.s.SetAccepted(id(1), msg.StateUndeliverable, 0x0b, at); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet(t, id(1)); got.State != msg.StateEnroute || got.Err != 0 || got.Done != 0 {
		t.Fatalf("before the decided time: %v err %d done %d, want ENROUTE", got.State, got.Err, got.Done)
	}
	e.advance(time.Second)
	if got := e.mustGet(t, id(1)); got.State != msg.StateUndeliverable || got.Err != 0x0b || got.Done != at {
		t.Fatalf("from the decided time: %v err %d done %d", got.State, got.Err, got.Done)
	}
	// A state recorded later replaces the decided one.
	if err := e.s.SetState(id(1), msg.StateDeleted, 0, e.now()); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet(t, id(1)); got.State != msg.StateDeleted {
		t.Fatalf("after SetState: %v, want DELETED", got.State)
	}
	// A receipt that overtook the acceptance keeps its state.
	e.put(t, record(id(2), e.now()))
	if err := e.s.SetState(id(2), msg.StateDelivered, 0, e.now()); err != nil {
		t.Fatal(err)
	}
	if err := e.s.SetAccepted(id(2), msg.StateExpired, 5, e.now()); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet(t, id(2)); got.State != msg.StateDelivered || got.Err != 0 {
		t.Fatalf("a final record became %v err %d at acceptance", got.State, got.Err)
	}
}

// storedGetter is the read the CDR writer takes where a store has it: Get
// without the view of a state decided at acceptance.
type storedGetter interface {
	GetStored(id msg.ID, out *storage.Record) error
}

// recordGetStored: GetStored reads what Get reads but the decided state's
// view: before and after that state's time it shows the stored state,
// where Get shows ENROUTE and then the decided one.
func recordGetStored(t *testing.T, e *env) {
	g, ok := e.s.(storedGetter)
	if !ok {
		t.Skip("the store has no GetStored: the CDR writer reads Get")
	}
	e.put(t, record(id(1), e.now()))
	at := e.now() + int64(time.Second)
	if err := e.s.SetAccepted(id(1), msg.StateDelivered, 0, at); err != nil {
		t.Fatal(err)
	}
	for _, step := range []time.Duration{0, 2 * time.Second} {
		e.advance(step)
		got := e.mustGet(t, id(1))
		var stored storage.Record
		if err := g.GetStored(id(1), &stored); err != nil {
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
	if err := g.GetStored(id(8), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetStored of an unknown id = %v, want ErrNotFound", err)
	}
}

func recordSetReplaced(t *testing.T, e *env) {
	r := record(id(1), e.now())
	e.put(t, r)
	if err := e.s.SetState(id(1), msg.StateDelivered, 0, e.now()); err != nil {
		t.Fatal(err)
	}
	n := record(id(99), e.now()+int64(time.Minute))
	n.RegisteredDelivery, n.Parts, n.State, n.SystemID = 0x11, 4, msg.StateRejected, "mallory"
	n.SetAddrs([]byte("999"), []byte("888"), []byte("new text"))
	if err := e.s.SetReplaced(id(1), &n); err != nil {
		t.Fatal(err)
	}
	// Only the replaced fields change (the text by its prefix: octets past
	// TextLen are not part of the record).
	got := e.mustGet(t, id(1))
	if string(got.TextPrefix()) != "new text" || got.RegisteredDelivery != 0x11 || got.Parts != 4 ||
		got.Submitted != n.Submitted {
		t.Fatalf("replaced fields: %+v", got)
	}
	if got.State != msg.StateDelivered || got.SystemID != "alice" || string(got.SourceAddr()) != string(r.SourceAddr()) ||
		string(got.DestAddr()) != string(r.DestAddr()) || got.Connector != r.Connector || got.DataCoding != r.DataCoding {
		t.Fatalf("fields SetReplaced must keep: %+v", got)
	}
}

func recordDelete(t *testing.T, e *env) {
	for i := uint64(1); i <= 3; i++ {
		e.put(t, record(id(i), e.now()))
	}
	// An older record first, then the newest.
	for _, i := range []uint64{2, 3} {
		if err := e.s.Delete(id(i)); err != nil {
			t.Fatalf("Delete(%d): %v", i, err)
		}
		var out storage.Record
		if err := e.s.Get(id(i), &out); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Get after Delete(%d) = %v", i, err)
		}
		if err := e.s.Delete(id(i)); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("second Delete(%d) = %v", i, err)
		}
	}
	e.mustGet(t, id(1))
	if n := e.s.Len(); n != 1 {
		t.Fatalf("Len = %d after deleting 2 of 3", n)
	}
	e.put(t, record(id(4), e.now())) // the store goes on after a deletion
	e.mustGet(t, id(4))
}

func recordTTL(t *testing.T, e *env) {
	// No validity end: the lifetime runs from the submission.
	r := record(id(1), e.now())
	r.Expires = 0
	e.put(t, r)
	e.advance(ttl / 2)
	r = record(id(2), e.now())
	r.Expires = 0
	e.put(t, r)
	e.advance(ttl/2 + time.Second)
	var out storage.Record
	if err := e.s.Get(id(1), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get past the TTL = %v, want ErrNotFound", err)
	}
	if err := e.s.SetState(id(1), msg.StateDelivered, 0, e.now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("SetState past the TTL = %v, want ErrNotFound", err)
	}
	e.mustGet(t, id(2))
	if n := e.s.Sweep(e.now()); n != 1 {
		t.Fatalf("Sweep reclaimed %d, want 1", n)
	}
	if n := e.s.Len(); n != 1 {
		t.Fatalf("Len = %d after the sweep", n)
	}
	if st := e.s.Stats(); st.Expired != 1 || st.Records != 1 {
		t.Fatalf("Stats after the sweep: %+v", st)
	}
}

// same reports whether a and b are the same record: every field, the
// addresses and text by their lengths (octets past them are no part of a
// record, and a store need not keep them).
func same(a, b storage.Record) bool {
	return string(a.SourceAddr()) == string(b.SourceAddr()) && string(a.DestAddr()) == string(b.DestAddr()) &&
		string(a.TextPrefix()) == string(b.TextPrefix()) && a.ID == b.ID && a.SystemID == b.SystemID &&
		a.State == b.State && a.Err == b.Err && a.RegisteredDelivery == b.RegisteredDelivery &&
		a.DataCoding == b.DataCoding && a.ESMClass == b.ESMClass && a.SourceTON == b.SourceTON &&
		a.SourceNPI == b.SourceNPI && a.DestTON == b.DestTON && a.DestNPI == b.DestNPI &&
		a.Connector == b.Connector && a.Submitted == b.Submitted && a.Done == b.Done && a.Parts == b.Parts &&
		a.Expires == b.Expires && a.Charge == b.Charge && a.ChargeParts == b.ChargeParts && a.MTRoute == b.MTRoute
}
