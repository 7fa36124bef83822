package accounts

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/smppd/smppd/msg"
)

// bookLedger is a Ledger that sums entries as the durable store does at
// replay (a set resets, top-ups and refunds add, charges subtract) and
// keeps the entries, so a second Store can be started from it.
type bookLedger struct {
	mu      sync.Mutex
	entries []LedgerEntry
	fail    error // Append returns it while set
}

func (l *bookLedger) Append(e LedgerEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	if e.Amount < 0 || e.Kind < LedgerSet || e.Kind > LedgerRefund {
		return errors.New("bad entry") // as storage refuses it
	}
	l.entries = append(l.entries, e)
	return nil
}

// put is a message record's charge, written with the record (as the
// durable store reads storage.Record.Charge and ChargeParts).
func (l *bookLedger) put(systemID string, id msg.ID, c *Charge) {
	if c.Micros() > 0 {
		l.mustAppend(LedgerEntry{Account: systemID, Kind: LedgerCharge, Amount: c.Micros(), ID: id})
	}
	if c.Parts() > 0 {
		l.mustAppend(LedgerEntry{Account: QuotaAccount(systemID), Kind: LedgerCharge, Amount: c.Parts(), ID: id})
	}
}

func (l *bookLedger) mustAppend(e LedgerEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
}

func (l *bookLedger) Balances(fn func(account string, balance int64, set bool)) error {
	type bal struct {
		v   int64
		set bool
	}
	l.mu.Lock()
	sums := map[string]bal{}
	for _, e := range l.entries {
		b := sums[e.Account]
		switch e.Kind {
		case LedgerSet:
			b = bal{e.Amount, true}
		case LedgerTopUp, LedgerRefund:
			b.v += e.Amount
		case LedgerCharge:
			b.v -= e.Amount
		}
		sums[e.Account] = b
	}
	l.mu.Unlock()
	for a, b := range sums {
		fn(a, b.v, b.set)
	}
	return nil
}

func (l *bookLedger) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// since returns the entries appended after the first n.
func (l *bookLedger) since(n int) []LedgerEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries[n:])
}

func ledgerUser(t testing.TB, id string, bal Amount, quota, used int64) User {
	u := testUser(t, id, "pw")
	u.Limits = UserLimits{Balance: bal, Quota: quota, QuotaUsed: used}
	return u
}

func ledgerStore(t testing.TB, l *bookLedger, users ...User) *Store {
	t.Helper()
	s, err := NewStore(users, nil, Options{Ledger: l})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// live returns systemID's live balance and quota_used.
func live(t testing.TB, s *Store, systemID string) (Amount, int64) {
	t.Helper()
	u, ok := s.Lookup(systemID)
	if !ok {
		t.Fatalf("no user %s", systemID)
	}
	return u.Limits.Balance, u.Limits.QuotaUsed
}

func limitsOf(s *Store, systemID string) *UserLimits {
	return &s.snap.Load().users[systemID].cur.Load().user.Limits
}

// TestLedgerRestart: a run's sets, top-ups, charges (carried by records
// and logged) and refunds give the next start exactly the balance and
// quota the run ended with, whatever the users file says.
func TestLedgerRestart(t *testing.T) {
	var a Admission
	l := &bookLedger{}
	file := []User{ledgerUser(t, "a", Micros(10_000_000), 100, 5), ledgerUser(t, "b", Unlimited, 0, 0)}
	s := ledgerStore(t, l, file...)
	if r := s.Restored(); r.FromFile != 2 || r.FromLedger != 0 || len(r.Differ) != 0 {
		t.Fatalf("first start %+v", r)
	}
	// Submits: the charge travels with the message's record.
	var kept []Charge
	for id := msg.ID(1); id <= 6; id++ {
		ch, r := a.Admit(limitsOf(s, "a"), 2, 0.5, 0, 0, t0)
		if r != Admitted {
			t.Fatal(r)
		}
		l.put("a", id, &ch)
		kept = append(kept, ch)
	}
	// Two fail upstream: refunded, written with their ids.
	n := l.len()
	if err := kept[0].Refund(1); err != nil {
		t.Fatal(err)
	}
	if err := kept[3].Refund(4); err != nil {
		t.Fatal(err)
	}
	want := []LedgerEntry{
		{Account: "a", Kind: LedgerRefund, Amount: 1_000_000, ID: 1},
		{Account: QuotaAccount("a"), Kind: LedgerRefund, Amount: 2, ID: 1},
		{Account: "a", Kind: LedgerRefund, Amount: 1_000_000, ID: 4},
		{Account: QuotaAccount("a"), Kind: LedgerRefund, Amount: 2, ID: 4},
	}
	if got := l.since(n); !slices.Equal(got, want) {
		t.Fatalf("refund entries %+v, want %+v", got, want)
	}
	// A replace_sm's extra parts: no record carries them, Log writes them.
	ch, r := a.Admit(limitsOf(s, "a"), 1, 0.5, 0, 0, t0)
	if r != Admitted {
		t.Fatal(r)
	}
	if err := ch.Log(2); err != nil {
		t.Fatal(err)
	}
	if err := s.TopUp("a", Micros(250_000)); err != nil {
		t.Fatal(err)
	}
	bal, used := live(t, s, "a")
	if bal != Micros(10_000_000-4*1_000_000-500_000+250_000) || used != 5+8+1 {
		t.Fatalf("live a: %v used %d", bal, used)
	}

	// Restart with the users file as it was at the first start (the
	// periodic copy never ran): the ledger's values win.
	s2 := ledgerStore(t, l, file...)
	bal2, used2 := live(t, s2, "a")
	if bal2 != bal || used2 != used {
		t.Fatalf("after restart a: %v used %d, want %v used %d", bal2, used2, bal, used)
	}
	if b, _ := live(t, s2, "b"); !b.IsUnlimited() {
		t.Fatalf("b after restart %v", b)
	}
	r2 := s2.Restored()
	if r2.FromLedger != 2 || r2.FromFile != 0 || !slices.Equal(r2.Differ, []string{"a"}) {
		t.Fatalf("second start %+v", r2)
	}
	// A start that finds everything in the ledger writes nothing.
	if n := l.len(); ledgerStore(t, l, file...) != nil && l.len() != n {
		t.Fatal("a start with every user in the ledger wrote sets")
	}
	// A refund after the restart of a charge from before it (a recovered
	// message): the ledger already counts the charge.
	rc := s2.Recharged("a", 1_000_000, 2)
	if err := rc.Refund(6); err != nil {
		t.Fatal(err)
	}
	if b, u := live(t, s2, "a"); b != Micros(bal.Micros()+1_000_000) || u != used-2 {
		t.Fatalf("after a recovered refund: %v used %d", b, u)
	}
	s3 := ledgerStore(t, l, file...)
	if b, u := live(t, s3, "a"); b != Micros(bal.Micros()+1_000_000) || u != used-2 {
		t.Fatalf("third start: %v used %d", b, u)
	}
	if c := s3.Recharged("b", 5, 5); c.Micros() != 0 || c.Parts() != 0 {
		t.Fatal("Recharged gives back to an unlimited balance")
	}
	if c := s3.Recharged("gone", 5, 5); c.Micros() != 0 {
		t.Fatal("Recharged of an unknown user")
	}
}

// TestLedgerStartWithoutSet: a user the ledger has charges for but no set
// (its set could never be written) starts from the users file plus them.
func TestLedgerStartWithoutSet(t *testing.T) {
	l := &bookLedger{}
	l.mustAppend(LedgerEntry{Account: "a", Kind: LedgerCharge, Amount: 300, ID: 9})
	l.mustAppend(LedgerEntry{Account: QuotaAccount("a"), Kind: LedgerCharge, Amount: 3, ID: 9})
	l.mustAppend(LedgerEntry{Account: "a", Kind: LedgerRefund, Amount: 100, ID: 9})
	s := ledgerStore(t, l, ledgerUser(t, "a", Micros(1_000), 10, 1))
	if b, u := live(t, s, "a"); b != Micros(800) || u != 4 {
		t.Fatalf("a: %v used %d", b, u)
	}
	want := []LedgerEntry{
		{Account: "a", Kind: LedgerSet, Amount: 800},
		{Account: QuotaAccount("a"), Kind: LedgerSet, Amount: quotaBase - 4},
	}
	if got := l.since(3); !slices.Equal(got, want) {
		t.Fatalf("sets written %+v, want %+v", got, want)
	}
	if r := s.Restored(); r.FromFile != 1 || r.FromLedger != 0 || len(r.Differ) != 0 {
		t.Fatalf("restored %+v", r)
	}
}

// TestLedgerRefusesStart: a ledger that cannot be written fails NewStore
// rather than serve balances the next start would count twice.
func TestLedgerRefusesStart(t *testing.T) {
	l := &bookLedger{fail: errors.New("disk full")}
	_, err := NewStore([]User{ledgerUser(t, "a", Micros(1), 0, 0)}, nil, Options{Ledger: l})
	if !errors.Is(err, ErrLedger) {
		t.Fatalf("NewStore with a failing ledger: %v", err)
	}
}

// TestLedgerRuntimeChanges: the operations API's sets and top-ups are
// written before they are made; a refused write changes nothing.
func TestLedgerRuntimeChanges(t *testing.T) {
	l := &bookLedger{}
	rec := &recorder{}
	s, err := NewStore([]User{ledgerUser(t, "a", Micros(1_000_000), 0, 0)}, nil, Options{Ledger: l, Persist: rec.persist})
	if err != nil {
		t.Fatal(err)
	}
	n := l.len()
	if err := s.SetBalance("a", Micros(5_000_000)); err != nil {
		t.Fatal(err)
	}
	if err := s.TopUp("a", Micros(1_500_000)); err != nil {
		t.Fatal(err)
	}
	want := []LedgerEntry{{Account: "a", Kind: LedgerSet, Amount: 5_000_000}, {Account: "a", Kind: LedgerTopUp, Amount: 1_500_000}}
	if got := l.since(n); !slices.Equal(got, want) {
		t.Fatalf("entries %+v, want %+v", got, want)
	}
	saves := rec.count()
	l.fail = errors.New("device failed")
	for name, err := range map[string]error{
		"set":   s.SetBalance("a", Micros(1)),
		"topup": s.TopUp("a", Micros(1)),
		"new":   s.Upsert(ledgerUser(t, "c", Micros(1), 0, 0)),
	} {
		if !errors.Is(err, ErrLedger) {
			t.Errorf("%s with a failing ledger: %v", name, err)
		}
	}
	if b, _ := live(t, s, "a"); b != Micros(6_500_000) {
		t.Fatalf("a failed write changed the balance: %v", b)
	}
	if _, ok := s.Lookup("c"); ok || rec.count() != saves {
		t.Fatal("a failed write added a user or saved")
	}
	if st := s.Stats(); st.LedgerErrors != 3 {
		t.Fatalf("LedgerErrors %d", st.LedgerErrors)
	}
	l.fail = nil
	// A new user is written as sets; an update of an existing one (the
	// live balance kept) writes nothing, nor does a changed quota total.
	n = l.len()
	c := ledgerUser(t, "c", Micros(7), 10, 2)
	if err := s.Upsert(c); err != nil {
		t.Fatal(err)
	}
	c.Limits.Quota, c.Limits.Throughput = 20, 5
	if err := s.Upsert(c); err != nil {
		t.Fatal(err)
	}
	want = []LedgerEntry{{Account: "c", Kind: LedgerSet, Amount: 7}, {Account: QuotaAccount("c"), Kind: LedgerSet, Amount: quotaBase - 2}}
	if got := l.since(n); !slices.Equal(got, want) {
		t.Fatalf("upsert entries %+v, want %+v", got, want)
	}
	// Overflow checks come before the write.
	n = l.len()
	if err := s.TopUp("a", Micros(MaxMicros)); !errors.Is(err, ErrAmount) {
		t.Fatalf("top-up past MaxMicros: %v", err)
	}
	if err := s.SetBalance("a", Micros(MaxMicros+1)); !errors.Is(err, ErrAmount) {
		t.Fatalf("set past MaxMicros: %v", err)
	}
	if l.len() != n {
		t.Fatal("a refused change was written")
	}
}

// TestLedgerUnlimited: switching a balance to unlimited is a set the next
// start reads back; refunds of charges taken before the switch go nowhere,
// in memory and in the ledger.
func TestLedgerUnlimited(t *testing.T) {
	var a Admission
	l := &bookLedger{}
	file := []User{ledgerUser(t, "a", Micros(1_000_000), 0, 0)}
	s := ledgerStore(t, l, file...)
	ch, r := a.Admit(limitsOf(s, "a"), 1, 0.25, 0, 0, t0)
	if r != Admitted {
		t.Fatal(r)
	}
	l.put("a", 1, &ch)
	if err := s.SetBalance("a", Unlimited); err != nil {
		t.Fatal(err)
	}
	// A message in flight at the switch is recorded after it.
	late, r := a.Admit(limitsOf(s, "a"), 1, 0.25, 0, 0, t0)
	if r != Admitted || late.Micros() != 0 {
		t.Fatalf("unlimited admit %v %d", r, late.Micros())
	}
	l.mustAppend(LedgerEntry{Account: "a", Kind: LedgerCharge, Amount: 250_000, ID: 2})
	n := l.len()
	if err := ch.Refund(1); err != nil || l.len() != n {
		t.Fatalf("refund to a retired balance: %v, %d entries written", err, l.len()-n)
	}
	s2 := ledgerStore(t, l, file...)
	if b, _ := live(t, s2, "a"); !b.IsUnlimited() {
		t.Fatalf("after restart %v, want unlimited", b)
	}
	if err := s2.SetBalance("a", Micros(3)); err != nil {
		t.Fatal(err)
	}
	if b, _ := live(t, ledgerStore(t, l, file...), "a"); b != Micros(3) {
		t.Fatalf("limited again after restart: %v", b)
	}
}

// TestLedgerReload is what editing `balance` (and quota_used) in the users
// file means at SIGHUP: a set, written to the ledger, only when the file's
// value differs from what the file said when smppd last read or wrote it.
// An unchanged file never undoes the charges made since.
func TestLedgerReload(t *testing.T) {
	var a Admission
	l := &bookLedger{}
	rec := &recorder{}
	u := ledgerUser(t, "a", Micros(10_000_000), 100, 0)
	s, err := NewStore([]User{u}, nil, Options{Ledger: l, Persist: rec.persist})
	if err != nil {
		t.Fatal(err)
	}
	charge := func(id msg.ID) {
		ch, r := a.Admit(limitsOf(s, "a"), 1, 1, 0, 0, t0)
		if r != Admitted {
			t.Fatal(r)
		}
		l.put("a", id, &ch)
	}
	reload := func(step string, users ...User) []LedgerEntry {
		t.Helper()
		n := l.len()
		if err := s.Reload(users, nil); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		var out []LedgerEntry
		for _, e := range l.since(n) {
			if e.Kind != LedgerCharge {
				out = append(out, e)
			}
		}
		return out
	}
	expect := func(step string, bal Amount, used int64) {
		t.Helper()
		b, u := live(t, s, "a")
		if b != bal || u != used {
			t.Fatalf("%s: %v used %d, want %v used %d", step, b, u, bal, used)
		}
		// The ledger agrees: a start now gives the same.
		s2 := ledgerStore(t, &bookLedger{entries: l.since(0)}, u0(t))
		if b2, u2 := live(t, s2, "a"); b2 != bal || u2 != used {
			t.Fatalf("%s: a start from the ledger gives %v used %d", step, b2, u2)
		}
	}
	charge(1)
	charge(2)
	if got := reload("unchanged", u); len(got) != 0 {
		t.Fatalf("unchanged file wrote %+v", got)
	}
	expect("unchanged", Micros(8_000_000), 2)

	// The operator edits balance: a set.
	u.Limits.Balance = Micros(50_000_000)
	got := reload("edited", u)
	if want := []LedgerEntry{{Account: "a", Kind: LedgerSet, Amount: 50_000_000}}; !slices.Equal(got, want) {
		t.Fatalf("edited balance wrote %+v", got)
	}
	expect("edited", Micros(50_000_000), 2)
	charge(3)
	if got := reload("unchanged after the edit", u); len(got) != 0 {
		t.Fatalf("unchanged file wrote %+v", got)
	}
	expect("unchanged after the edit", Micros(49_000_000), 3)

	// The periodic copy writes the live values to the file; a reload of
	// that file is not an edit.
	if wrote, err := s.Persist(); err != nil || !wrote {
		t.Fatalf("persist %v %v", wrote, err)
	}
	u = rec.last(t)["a"]
	charge(4)
	if got := reload("as written", u); len(got) != 0 {
		t.Fatalf("reloading the written file wrote %+v", got)
	}
	expect("as written", Micros(48_000_000), 4)

	// quota (the total) changed: nothing written, usage kept; quota_used
	// edited: a set.
	u.Limits.Quota = 200
	if got := reload("quota total", u); len(got) != 0 {
		t.Fatalf("a quota total change wrote %+v", got)
	}
	expect("quota total", Micros(48_000_000), 4)
	u.Limits.QuotaUsed = 0
	got = reload("quota_used reset", u)
	if want := []LedgerEntry{{Account: QuotaAccount("a"), Kind: LedgerSet, Amount: quotaBase}}; !slices.Equal(got, want) {
		t.Fatalf("quota_used edit wrote %+v", got)
	}
	expect("quota_used reset", Micros(48_000_000), 0)

	// A user new to the file is written as sets.
	b := ledgerUser(t, "b", Micros(5), 0, 0)
	if got := reload("new user", u, b); !slices.Equal(got, []LedgerEntry{{Account: "b", Kind: LedgerSet, Amount: 5}}) {
		t.Fatalf("new user wrote %+v", got)
	}

	// A ledger that refuses the set: the reload changes nothing, and the
	// next one tries again.
	u.Limits.Balance = Micros(1)
	l.fail = errors.New("disk full")
	if err := s.Reload([]User{u}, nil); !errors.Is(err, ErrLedger) {
		t.Fatalf("reload with a failing ledger: %v", err)
	}
	if bal, _ := live(t, s, "a"); bal != Micros(48_000_000) {
		t.Fatalf("refused reload changed the balance: %v", bal)
	}
	if _, ok := s.Lookup("b"); !ok {
		t.Fatal("refused reload removed a user")
	}
	l.fail = nil
	if got := reload("retried", u); !slices.Equal(got, []LedgerEntry{{Account: "a", Kind: LedgerSet, Amount: 1}}) {
		t.Fatalf("retried reload wrote %+v", got)
	}
}

// u0 is TestLedgerReload's user as the first users file said it.
func u0(t testing.TB) User { return ledgerUser(t, "a", Micros(10_000_000), 100, 0) }

// TestChargeUndoAndLog: Undo writes nothing; Log writes charges, and a
// failing Log leaves nothing written.
func TestChargeUndoAndLog(t *testing.T) {
	var a Admission
	l := &bookLedger{}
	s := ledgerStore(t, l, ledgerUser(t, "a", Micros(1_000_000), 10, 0))
	n := l.len()
	ch, _ := a.Admit(limitsOf(s, "a"), 2, 0.1, 0, 0, t0)
	ch.Undo()
	if b, u := live(t, s, "a"); l.len() != n || b != Micros(1_000_000) || u != 0 {
		t.Fatalf("Undo: %d entries, %v used %d", l.len()-n, b, u)
	}
	ch, _ = a.Admit(limitsOf(s, "a"), 2, 0.1, 0, 0, t0)
	l.fail = errors.New("disk full")
	if err := ch.Log(7); !errors.Is(err, ErrLedger) {
		t.Fatalf("Log on a failing ledger: %v", err)
	}
	l.fail = nil
	ch.Undo()
	if l.len() != n {
		t.Fatal("a failed Log left entries")
	}
	ch, _ = a.Admit(limitsOf(s, "a"), 2, 0.1, 0, 0, t0)
	if err := ch.Log(8); err != nil {
		t.Fatal(err)
	}
	want := []LedgerEntry{{Account: "a", Kind: LedgerCharge, Amount: 200_000, ID: 8}, {Account: QuotaAccount("a"), Kind: LedgerCharge, Amount: 2, ID: 8}}
	if got := l.since(n); !slices.Equal(got, want) {
		t.Fatalf("Log wrote %+v", got)
	}
	// Without a ledger every path still gives back.
	var plain Admission
	u := prepared(t, UserLimits{Balance: Micros(10), Quota: 1})
	c, _ := plain.Admit(u, 1, 0.000005, 0, 0, t0)
	if err := c.Log(1); err != nil {
		t.Fatal(err)
	}
	if err := c.Refund(1); err != nil || u.Credit().Balance() != Micros(10) {
		t.Fatalf("refund without a ledger: %v %v", err, u.Credit().Balance())
	}
}

// TestLedgerConcurrent: submits charge (their records carry the charge),
// half fail and are refunded, top-ups and reloads of an unchanged file run
// meanwhile; the next start finds exactly the live balance and quota. Run
// with -race.
func TestLedgerConcurrent(t *testing.T) {
	var a Admission
	l := &bookLedger{}
	file := []User{ledgerUser(t, "a", Micros(1_000_000_000), 1_000_000, 0)}
	s := ledgerStore(t, l, file...)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				id := msg.ID(w*1000 + i + 1)
				ch, r := a.Admit(limitsOf(s, "a"), 1+i%3, 0.01, 0, 0, t0)
				if r != Admitted {
					t.Error(r)
					return
				}
				l.put("a", id, &ch)
				if i%2 == 0 {
					if err := ch.Refund(id); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			if err := s.TopUp("a", Micros(1_000)); err != nil {
				t.Error(err)
			}
			if err := s.Reload(file, nil); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	bal, used := live(t, s, "a")
	if b2, u2 := live(t, ledgerStore(t, l, file...), "a"); b2 != bal || u2 != used {
		t.Fatalf("start from the ledger: %v used %d, live %v used %d", b2, u2, bal, used)
	}
	if bal == Micros(1_000_000_000) || used == 0 {
		t.Fatal("nothing was charged")
	}
}
