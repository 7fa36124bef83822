package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// seamCases hold the durability seam (PutMessage, the first final state,
// the ledger, dead letters, the id floor, the committer, Recover and the
// held share) to its contract in any store, durable or not.
var seamCases = []testCase{
	{name: "Record/PutMessage", run: recordPutMessage},
	{name: "Record/FirstFinalWins", run: recordFirstFinal},
	{name: "Record/ByState", run: recordByState},
	{name: "Ledger/Balances", run: ledgerBalances},
	{name: "Ledger/BadEntry", run: ledgerBad},
	{name: "DeadLetters/List", run: deadList},
	{name: "DeadLetters/Bound", run: deadBound},
	{name: "IDFloor", run: idFloor},
	{name: "Committer", run: committer},
	{name: "Recover/Empty", run: recoverEmpty},
	{name: "Held/Share", maxHeld: 16, share: shareOf, run: heldShare},
}

func recordPutMessage(t *testing.T, e *env) {
	r := record(id(1), e.now())
	body := []byte("the message's binary form")
	if err := e.s.PutMessage(&r, body); err != nil {
		t.Fatal(err)
	}
	body[0] = 'X' // the store copied what it keeps
	if got := e.mustGet(t, id(1)); !same(got, r) {
		t.Fatalf("Get after PutMessage = %+v\nwant %+v", got, r)
	}
	// PutMessage of the same id replaces, as Put does.
	r.SetAddrs([]byte("1"), []byte("2"), []byte("3"))
	if err := e.s.PutMessage(&r, []byte("other")); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet(t, id(1)); !same(got, r) || e.s.Len() != 1 {
		t.Fatalf("Get after a second PutMessage = %+v (Len %d)", got, e.s.Len())
	}
}

func recordFirstFinal(t *testing.T, e *env) {
	r := record(id(1), e.now())
	e.put(t, r)
	done := e.now() + int64(time.Second)
	if err := e.s.SetState(id(1), msg.StateUndeliverable, 0x0b, done); err != nil {
		t.Fatal(err)
	}
	r.State, r.Err, r.Done = msg.StateUndeliverable, 0x0b, done
	if err := e.s.SetState(id(1), msg.StateDelivered, 0, done+1); !errors.Is(err, storage.ErrFinal) {
		t.Fatalf("SetState on a final record = %v, want ErrFinal", err)
	}
	if err := e.s.SetState(id(1), msg.StateEnroute, 0, 0); !errors.Is(err, storage.ErrFinal) {
		t.Fatalf("SetState ENROUTE on a final record = %v, want ErrFinal", err)
	}
	var out storage.Record
	if err := e.s.Finish(id(1), msg.StateDelivered, 0, done+2, &out); !errors.Is(err, storage.ErrFinal) {
		t.Fatalf("Finish on a final record = %v, want ErrFinal", err)
	}
	if !same(out, r) {
		t.Fatalf("Finish's out on ErrFinal = %+v\nwant the stored %+v", out, r)
	}
	if got := e.mustGet(t, id(1)); !same(got, r) {
		t.Fatalf("a late state changed the record: %+v", got)
	}
	if st := e.s.Stats(); st.LateFinal != 3 {
		t.Fatalf("Stats.LateFinal = %d, want 3", st.LateFinal)
	}
	// A state decided at acceptance is not recorded: a receipt replaces it
	// without ErrFinal, and the next one is late.
	e.put(t, record(id(2), e.now()))
	if err := e.s.SetAccepted(id(2), msg.StateDelivered, 0, e.now()); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Finish(id(2), msg.StateExpired, 0, e.now(), &out); err != nil || out.State != msg.StateExpired {
		t.Fatalf("Finish after a decided state = %v, state %v", err, out.State)
	}
	if err := e.s.Finish(id(2), msg.StateDelivered, 0, e.now(), &out); !errors.Is(err, storage.ErrFinal) {
		t.Fatalf("second Finish = %v, want ErrFinal", err)
	}
	// Put replaces a final record whole (a new record, not a state).
	e.put(t, record(id(1), e.now()))
	if got := e.mustGet(t, id(1)); got.State != msg.StateEnroute {
		t.Fatalf("Put over a final record: %v", got.State)
	}
}

func recordByState(t *testing.T, e *env) {
	for i := uint64(1); i <= 5; i++ {
		e.put(t, record(id(i), e.now()))
	}
	for i, st := range map[uint64]msg.State{1: msg.StateDelivered, 2: msg.StateDelivered, 3: msg.StateRejected} {
		if err := e.s.SetState(id(i), st, 0, e.now()); err != nil {
			t.Fatal(err)
		}
	}
	by := e.s.Stats().RecordsByState
	if by[msg.StateEnroute] != 2 || by[msg.StateDelivered] != 2 || by[msg.StateRejected] != 1 {
		t.Fatalf("RecordsByState = %v", by)
	}
}

// balances returns the ledger's balances as "user=balance/set" strings.
func (e *env) balances(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	if err := e.s.Ledger().Balances(func(user string, b int64, set bool) {
		if _, dup := got[user]; dup {
			t.Errorf("Balances named %s twice", user)
		}
		got[user] = fmt.Sprintf("%d/%v", b, set)
	}); err != nil {
		t.Fatalf("Balances: %v", err)
	}
	return got
}

// ledgerOps writes one history to the ledger and the records, whose
// balances are wantBalances.
func ledgerOps(t *testing.T, e *env) {
	t.Helper()
	l := e.s.Ledger()
	app := func(user string, k storage.LedgerKind, amount int64, mid msg.ID) {
		t.Helper()
		if err := l.Append(&storage.LedgerEntry{SystemID: user, Kind: k, Amount: amount, ID: mid}); err != nil {
			t.Fatalf("Append(%s %v %d): %v", user, k, amount, err)
		}
	}
	charged := func(user string, n uint64, charge int64) {
		t.Helper()
		r := record(id(n), e.now())
		r.SystemID, r.Charge, r.ChargeParts = user, charge, 0
		e.put(t, r)
	}
	parts := func(user string, n uint64, p uint16) {
		t.Helper()
		r := record(id(n), e.now())
		r.SystemID, r.Charge, r.ChargeParts = user, 0, p
		e.put(t, r)
	}
	app("bob", storage.LedgerTopUp, 7, 0) // before any set: overridden by it
	app("bob", storage.LedgerSet, 1000, 0)
	charged("bob", 100, 30)
	charged("bob", 100, 30) // the same id again (a failover): no second charge
	charged("bob", 101, 20)
	charged("bob", 101, 50) // a running total: 30 more
	app("bob", storage.LedgerTopUp, 5, 0)
	app("bob", storage.LedgerCharge, 3, id(100))
	app("bob", storage.LedgerRefund, 50, id(101))
	charged("carol", 102, 40) // never set: the changes only
	app("carol", storage.LedgerRefund, 15, id(102))
	app("dave", storage.LedgerSet, 0, 0)
	charged("erin", 103, 0) // nothing charged: no ledger entry
	// Quota parts go to the user's quota account by the same rules.
	app(storage.QuotaAccount("dave"), storage.LedgerSet, 100, 0)
	parts("dave", 104, 3)
	parts("dave", 104, 5) // a running total: 2 more
	app(storage.QuotaAccount("dave"), storage.LedgerRefund, 1, id(104))
}

// wantBalances is what ledgerOps leaves.
var wantBalances = map[string]string{"bob": "972/true", "carol": "-25/false", "dave": "0/true", "dave quota": "96/true"}

func ledgerBalances(t *testing.T, e *env) {
	ledgerOps(t, e)
	if got := e.balances(t); fmt.Sprint(got) != fmt.Sprint(wantBalances) {
		t.Fatalf("Balances = %v, want %v", got, wantBalances)
	}
	// Deleting a record does not refund it: a refund is an entry.
	if err := e.s.Delete(id(100)); err != nil {
		t.Fatal(err)
	}
	if got := e.balances(t); got["bob"] != wantBalances["bob"] {
		t.Fatalf("bob after Delete = %s, want %s", got["bob"], wantBalances["bob"])
	}
}

func ledgerBad(t *testing.T, e *env) {
	for _, bad := range []storage.LedgerEntry{
		{SystemID: "bob", Kind: 0, Amount: 1},
		{SystemID: "bob", Kind: storage.LedgerRefund + 1, Amount: 1},
		{SystemID: "bob", Kind: storage.LedgerTopUp, Amount: -1},
	} {
		if err := e.s.Ledger().Append(&bad); !errors.Is(err, storage.ErrBadLedgerEntry) {
			t.Errorf("Append(%+v) = %v, want ErrBadLedgerEntry", bad, err)
		}
	}
	if got := e.balances(t); len(got) != 0 {
		t.Fatalf("refused entries left balances: %v", got)
	}
}

// deadLetter returns the n-th letter of the cases.
func deadLetter(n int) storage.DeadLetter {
	return storage.DeadLetter{Kind: storage.HeldReceipt, Connector: int32(n % 4), SystemID: "alice", ID: id(uint64(n)),
		Reason: fmt.Sprintf("unknown id %d", n), Body: fmt.Appendf(nil, "dead body %d", n)}
}

// letters lists up to max dead letters as their ids, checking each against
// deadLetter.
func (e *env) letters(t *testing.T, max int) []int {
	t.Helper()
	var ids []int
	err := e.s.DeadLetters().List(max, func(d *storage.DeadLetter) {
		n := int(d.ID >> 12)
		w := deadLetter(n)
		if d.Kind != w.Kind || d.Connector != w.Connector || d.SystemID != w.SystemID || d.Reason != w.Reason ||
			string(d.Body) != string(w.Body) || d.At == 0 {
			t.Errorf("letter %d = %+v, want %+v", n, d, w)
		}
		ids = append(ids, n)
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return ids
}

func deadList(t *testing.T, e *env) {
	for n := 1; n <= 3; n++ {
		d := deadLetter(n)
		if n == 2 {
			d.At = e.now() - int64(time.Second) // kept as given; 0 is stamped
		}
		if err := e.s.DeadLetters().Add(&d); err != nil {
			t.Fatal(err)
		}
		d.Body[0] = 'X' // copied
	}
	wantIDs(t, "List(all)", e.letters(t, 0), 3, 2, 1)
	wantIDs(t, "List(2)", e.letters(t, 2), 3, 2)
	var ats []int64
	if err := e.s.DeadLetters().List(0, func(d *storage.DeadLetter) { ats = append(ats, d.At) }); err != nil {
		t.Fatal(err)
	}
	if ats[0] != e.now() || ats[1] != e.now()-int64(time.Second) {
		t.Fatalf("At = %v", ats)
	}
	if n := e.s.DeadLetters().Len(); n != 3 {
		t.Fatalf("Len = %d", n)
	}
	if st := e.s.Stats(); st.DeadLetters != 3 || st.DeadLettersAdded != 3 || st.DeadLettersDropped != 0 {
		t.Fatalf("Stats: %+v", st)
	}
}

func deadBound(t *testing.T, e *env) {
	for n := 1; n <= maxDeadLetters+2; n++ {
		d := deadLetter(n)
		if err := e.s.DeadLetters().Add(&d); err != nil {
			t.Fatal(err)
		}
	}
	ids := e.letters(t, 0)
	if len(ids) != maxDeadLetters || ids[0] != maxDeadLetters+2 || ids[len(ids)-1] != 3 {
		t.Fatalf("kept %v: want the newest %d", ids, maxDeadLetters)
	}
	if st := e.s.Stats(); st.DeadLetters != maxDeadLetters || st.DeadLettersDropped != 2 {
		t.Fatalf("Stats: %+v", st)
	}
}

func idFloor(t *testing.T, e *env) {
	if v := e.s.IDFloor(); v != 0 {
		t.Fatalf("IDFloor of a new store = %d", v)
	}
	for _, c := range []struct{ set, want uint64 }{{100, 100}, {50, 100}, {1 << 60, 1 << 60}} {
		if err := e.s.SetIDFloor(c.set); err != nil {
			t.Fatal(err)
		}
		if v := e.s.IDFloor(); v != c.want {
			t.Fatalf("IDFloor after SetIDFloor(%d) = %d, want %d", c.set, v, c.want)
		}
	}
}

func committer(t *testing.T, e *env) {
	c := e.s.Committer()
	commits := make(chan uint64, 1024)
	c.OnCommit(func(p uint64) {
		select {
		case commits <- p:
		default:
		}
	})
	if c.Committed() > c.Written() {
		t.Fatalf("Committed %d past Written %d", c.Committed(), c.Written())
	}
	before := c.Written()
	e.put(t, record(id(1), e.now()))
	w := c.Written()
	if w < before {
		t.Fatalf("Written went back: %d then %d", before, w)
	}
	if err := c.WaitCommitted(w); err != nil {
		t.Fatalf("WaitCommitted(%d): %v", w, err)
	}
	if got := c.Committed(); got < w {
		t.Fatalf("Committed %d after WaitCommitted(%d)", got, w)
	}
	if w == 0 {
		return // not durable: nothing to commit, nothing reported
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case p := <-commits:
			if p >= w {
				return
			}
		case <-deadline:
			t.Fatalf("OnCommit never reported %d", w)
		}
	}
}

func recoverEmpty(t *testing.T, e *env) {
	if err := e.s.Recover(func(r *storage.Record, _ []byte) error {
		t.Errorf("a new store recovered %+v", r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// shareOf is the cases' HeldShare: alice may hold 2 items, the others
// only the store's limit.
func shareOf(user string) int {
	if user == "alice" {
		return 2
	}
	return 0
}

func heldShare(t *testing.T, e *env) {
	exp := e.now() + int64(time.Hour)
	k := e.hold(t, "alice", 1, exp)
	e.hold(t, "alice", 2, exp)
	h := storage.Held{SystemID: "alice", Kind: storage.HeldMO, Body: []byte("x"), Expires: exp}
	if _, err := e.holds.Hold(&h); !errors.Is(err, storage.ErrHeldFull) {
		t.Fatalf("Hold over alice's share = %v, want ErrHeldFull", err)
	}
	for i := 3; i <= 6; i++ { // bob is not held back by alice's share
		e.hold(t, "bob", i, exp)
	}
	if st := e.s.Stats(); st.HeldRefused != 1 || st.HeldShareRefused != 1 || st.Held != 6 {
		t.Fatalf("Stats: %+v", st)
	}
	if err := e.holds.Ack(k); err != nil {
		t.Fatal(err)
	}
	e.hold(t, "alice", 7, exp) // an ack makes room in her share
}
