package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// durableCases hold a durable store to what survives a Close and an Open
// (RunDurable): everything but leases, and the retention rule.
var durableCases = []testCase{
	{name: "Durable/Records", run: durableRecords},
	{name: "Durable/Recover", run: durableRecover},
	{name: "Durable/Upstream", run: durableUpstream},
	{name: "Durable/Holds", run: durableHolds},
	{name: "Durable/Ledger", run: durableLedger},
	{name: "Durable/DeadLettersAndIDFloor", run: durableDeadAndFloor},
	{name: "Durable/Retention", run: durableRetention},
}

// stateOps gives records 1..7 their histories: 1 put, 2 accepted, 3 final,
// 4 decided at acceptance, 5 replaced, 6 deleted, 7 final then late.
func stateOps(t *testing.T, e *env) {
	t.Helper()
	for i := uint64(1); i <= 7; i++ {
		r := record(id(i), e.now()+int64(i))
		if err := e.s.PutMessage(&r, fmt.Appendf(nil, "message %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.s.SetAccepted(id(2), 0, 0, 0))
	must(e.s.SetState(id(3), msg.StateDelivered, 0, e.now()+10))
	must(e.s.SetAccepted(id(4), msg.StateUndeliverable, 0x0b, e.now()+int64(time.Minute)))
	n := record(id(5), e.now()+20)
	n.RegisteredDelivery, n.Parts = 0x11, 4
	n.SetAddrs(nil, nil, []byte("replaced"))
	must(e.s.SetReplaced(id(5), &n))
	must(e.s.Delete(id(6)))
	must(e.s.SetState(id(7), msg.StateRejected, 8, e.now()+30))
	if err := e.s.SetState(id(7), msg.StateDelivered, 0, e.now()+40); !errors.Is(err, storage.ErrFinal) {
		t.Fatalf("late SetState = %v", err)
	}
}

// snapshot is every record 1..7 as Get shows it ("-" for none).
func (e *env) snapshot() []string {
	out := make([]string, 0, 7)
	for i := uint64(1); i <= 7; i++ {
		var r storage.Record
		if err := e.s.Get(id(i), &r); err != nil {
			out = append(out, "-")
			continue
		}
		out = append(out, fmt.Sprintf("%+v", r))
	}
	return out
}

func durableRecords(t *testing.T, e *env) {
	stateOps(t, e)
	before, by, n := e.snapshot(), e.s.Stats().RecordsByState, e.s.Len()
	e.reopen(t)
	after := e.snapshot()
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("record %d\nbefore %s\nafter  %s", i+1, before[i], after[i])
		}
	}
	if got := e.s.Stats().RecordsByState; got != by || e.s.Len() != n {
		t.Fatalf("after reopen: Len %d RecordsByState %v, want %d %v", e.s.Len(), got, n, by)
	}
	// The first final state still wins.
	if err := e.s.SetState(id(3), msg.StateExpired, 0, e.now()); !errors.Is(err, storage.ErrFinal) {
		t.Fatalf("SetState on a final record after reopen = %v", err)
	}
	e.advance(2 * time.Minute) // record 4's decided state shows, as before
	if got := e.mustGet(t, id(4)); got.State != msg.StateUndeliverable || got.Err != 0x0b {
		t.Fatalf("decided state after reopen: %v err %d", got.State, got.Err)
	}
}

func durableRecover(t *testing.T, e *env) {
	stateOps(t, e)
	e.reopen(t)
	var got []string
	err := e.s.Recover(func(r *storage.Record, m []byte) error {
		got = append(got, fmt.Sprintf("%d:%v:%q", r.ID>>12, r.State, m))
		if r.SystemID != "alice" || r.Connector != 3 || r.Charge != 1500 {
			t.Errorf("recovered %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 1 and 5 were never accepted: their bytes, to send again; 2 was
	// accepted (no bytes: the upstream has it); 4's decided state shows
	// before its time; 3 and 7 are final, 6 is gone.
	want := []string{`1:ENROUTE:"message 1"`, `2:ENROUTE:""`, `4:UNDELIVERABLE:""`, `5:ENROUTE:"message 5"`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Recover gave %v\nwant %v", got, want)
	}
	if st := e.s.Stats(); st.Recovered != 4 {
		t.Fatalf("Stats.Recovered = %d", st.Recovered)
	}
	stop := errors.New("stop")
	calls := 0
	if err := e.s.Recover(func(*storage.Record, []byte) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Recover with a failing fn = %v after %d calls", err, calls)
	}
}

func durableUpstream(t *testing.T, e *env) {
	e.put(t, record(id(1), e.now()))
	for c, up := range []string{"UP-A", "UP-B"} {
		if err := e.s.PutUpstream(c, []byte(up), id(uint64(c+1))); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.PutUpstream(0, []byte("UP-A"), id(3)); err != nil { // replaced
		t.Fatal(err)
	}
	if err := e.s.PutUpstreamOf(id(1), []byte("SMSC-1")); err != nil {
		t.Fatal(err)
	}
	e.reopen(t)
	if got, ok := e.s.Upstream(0, []byte("UP-A")); !ok || got != id(3) {
		t.Fatalf("Upstream(0, UP-A) = %v, %v", got, ok)
	}
	if got, ok := e.s.Upstream(1, []byte("UP-B")); !ok || got != id(2) {
		t.Fatalf("Upstream(1, UP-B) = %v, %v", got, ok)
	}
	if got, ok := e.s.UpstreamOf(id(1), nil); !ok || string(got) != "SMSC-1" {
		t.Fatalf("UpstreamOf = %q, %v", got, ok)
	}
	if st := e.s.Stats(); st.Upstream != 2 || st.Reverse != 1 {
		t.Fatalf("Stats: %+v", st)
	}
}

func durableHolds(t *testing.T, e *env) {
	exp := e.now() + int64(time.Hour)
	keys := make([]storage.HeldKey, 6)
	for i := 1; i <= 5; i++ {
		keys[i] = e.hold(t, "alice", i, exp)
	}
	e.hold(t, "bob", 6, exp)
	got, _ := e.lease(t, "alice", 3, e.now()+int64(time.Hour))
	if err := e.holds.Ack(got[0].Key); err != nil { // 1 delivered
		t.Fatal(err)
	}
	if err := e.holds.Release(got[2].Key, 9); err != nil { // 3 tried 9 times
		t.Fatal(err)
	}
	if err := e.holds.Ack(keys[4]); err != nil { // 4 refused for good
		t.Fatal(err)
	}
	// 2 is still leased: its lease does not survive, the item does.
	e.reopen(t)
	if n, u := e.holds.Len(), e.holds.Users(); n != 4 || u != 2 {
		t.Fatalf("after reopen: Len %d Users %d, want 4 and 2", n, u)
	}
	items, ids := e.lease(t, "alice", 8, e.now()+int64(time.Minute))
	wantIDs(t, "alice after reopen", ids, 2, 3, 5)
	for _, h := range items {
		if h.ID == 3 && h.Attempts != 9 {
			t.Fatalf("item 3 attempts %d, want the 9 of its release", h.Attempts)
		}
		if h.Expires != exp || h.Kind != storage.HeldReceipt {
			t.Fatalf("item after reopen: %+v", h)
		}
		if err := e.holds.Ack(h.Key); err != nil { // the keys work in the new store
			t.Fatal(err)
		}
	}
	_, ids = e.lease(t, "bob", 8, e.now()+int64(time.Minute))
	wantIDs(t, "bob after reopen", ids, 6)
	e.reopen(t)
	if n := e.holds.Len(); n != 1 {
		t.Fatalf("after acks and a reopen: Len %d, want bob's 1", n)
	}
}

func durableLedger(t *testing.T, e *env) {
	ledgerOps(t, e)
	e.reopen(t)
	if got := e.balances(t); fmt.Sprint(got) != fmt.Sprint(wantBalances) {
		t.Fatalf("Balances after reopen = %v, want %v", got, wantBalances)
	}
	// The same id after a reopen is no new charge either.
	r := record(id(100), e.now())
	r.SystemID, r.Charge, r.ChargeParts = "bob", 30, 0
	e.put(t, r)
	if got := e.balances(t)["bob"]; got != wantBalances["bob"] {
		t.Fatalf("bob after a re-Put = %s", got)
	}
}

func durableDeadAndFloor(t *testing.T, e *env) {
	for n := 1; n <= maxDeadLetters+1; n++ {
		d := deadLetter(n)
		if err := e.s.DeadLetters().Add(&d); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.SetIDFloor(12345); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(e.letters(t, 0))
	e.reopen(t)
	if got := fmt.Sprint(e.letters(t, 0)); got != want {
		t.Fatalf("dead letters after reopen %s, want %s", got, want)
	}
	if v := e.s.IDFloor(); v != 12345 {
		t.Fatalf("IDFloor after reopen = %d", v)
	}
}

// durableRetention: a record lives until max(Submitted, Done, Expires)
// plus the TTL, whatever the number of records, and not a reopen longer.
func durableRetention(t *testing.T, e *env) {
	sub := e.now()
	long := record(id(1), sub)
	long.Expires = sub + int64(3*ttl) // a long validity
	e.put(t, long)
	short := record(id(2), sub)
	short.Expires = 0
	e.put(t, short)
	late := record(id(3), sub)
	late.Expires = 0
	e.put(t, late)
	e.advance(ttl / 2)
	if err := e.s.SetState(id(3), msg.StateDelivered, 0, e.now()); err != nil { // done at ttl/2
		t.Fatal(err)
	}
	e.advance(ttl/2 + time.Second) // ttl+1s after the submission
	e.s.Sweep(e.now())
	var out storage.Record
	if err := e.s.Get(id(2), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a record past Submitted+TTL: %v", err)
	}
	e.mustGet(t, id(1))
	e.mustGet(t, id(3))
	e.reopen(t)
	if err := e.s.Get(id(2), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("an expired record came back at reopen: %v", err)
	}
	e.mustGet(t, id(1))
	e.advance(ttl / 2) // 1.5 ttl: past Done+TTL of 3
	e.s.Sweep(e.now())
	if err := e.s.Get(id(3), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a record past Done+TTL: %v", err)
	}
	e.mustGet(t, id(1))
	e.advance(3 * ttl) // past Expires+TTL of 1
	if n := e.s.Sweep(e.now()); n < 1 {
		t.Fatalf("Sweep reclaimed %d", n)
	}
	if err := e.s.Get(id(1), &out); !errors.Is(err, storage.ErrNotFound) || e.s.Len() != 0 {
		t.Fatalf("a record past Expires+TTL: %v (Len %d)", err, e.s.Len())
	}
}
