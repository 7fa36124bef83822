package accounts

import (
	"errors"
	"sync"
	"testing"
)

// recorder is a Persist hook that keeps every snapshot it is given.
type recorder struct {
	mu    sync.Mutex
	saves [][]User
	fail  error
}

func (r *recorder) persist(users []User) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.saves = append(r.saves, users)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.saves)
}

// last returns the last saved snapshot as a map.
func (r *recorder) last(t *testing.T) map[string]User {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.saves) == 0 {
		t.Fatal("nothing saved")
	}
	m := map[string]User{}
	for _, u := range r.saves[len(r.saves)-1] {
		m[u.SystemID] = u
	}
	return m
}

func persistStore(t *testing.T) (*Store, *recorder) {
	t.Helper()
	a := testUser(t, "a", "pw")
	a.Limits = UserLimits{Balance: Micros(10_000_000), Quota: 10}
	b := testUser(t, "b", "pw")
	b.Group = "g"
	rec := &recorder{}
	s, err := NewStore([]User{a, b}, testGroups, Options{Persist: rec.persist})
	if err != nil {
		t.Fatal(err)
	}
	if rec.count() != 0 || s.Dirty() {
		t.Fatal("loading saved or left the store dirty")
	}
	return s, rec
}

func TestRuntimeChangesPersist(t *testing.T) {
	s, rec := persistStore(t)

	if err := s.SetBalance("a", Micros(2_500_000)); err != nil {
		t.Fatal(err)
	}
	if got := rec.last(t)["a"].Limits.Balance; got != Micros(2_500_000) || rec.count() != 1 {
		t.Fatalf("after SetBalance: saved %v (%d saves)", got, rec.count())
	}
	if err := s.TopUp("a", Micros(500_000)); err != nil {
		t.Fatal(err)
	}
	if got := rec.last(t)["a"].Limits.Balance; got != Micros(3_000_000) {
		t.Fatalf("after TopUp: saved %v", got)
	}
	if err := s.SetEnabled("b", false); err != nil {
		t.Fatal(err)
	}
	saved := rec.last(t)
	if saved["b"].Enabled || !saved["a"].Enabled || len(saved) != 2 {
		t.Fatalf("after SetEnabled: %+v", saved)
	}
	if _, err := s.Authenticate("b", "pw", BindTransmitter, localIP); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled at runtime: %v", err)
	}
	if err := s.SetEnabled("b", true); err != nil {
		t.Fatal(err)
	}

	// Upsert of a new user: appended, with its own values.
	c := testUser(t, "c", "pw")
	c.Limits = UserLimits{Balance: Micros(7_000_000), Quota: 3, QuotaUsed: 1}
	c.SourceAddrs = []string{"re:[0-9]+"}
	if err := s.Upsert(c); err != nil {
		t.Fatal(err)
	}
	order := rec.saves[len(rec.saves)-1]
	if len(order) != 3 || order[0].SystemID != "a" || order[2].SystemID != "c" || order[2].Limits.QuotaUsed != 1 ||
		order[2].Limits.Balance != Micros(7_000_000) {
		t.Fatalf("after Upsert new: %+v", order)
	}
	bc, err := s.Authenticate("c", "pw", BindReceiver, localIP)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Release()
	if !bc.User().SourceAllowed([]byte("123")) || bc.User().SourceAllowed([]byte("12a")) {
		t.Fatal("upserted user's patterns not compiled")
	}

	// Upsert of an existing user: profile replaced, live balance and usage
	// kept whatever the request says, bound sessions see the new record.
	var adm Admission
	if _, r := adm.Admit(&bc.User().Limits, 1, 1, 0, 0, t0); r != Admitted {
		t.Fatal(r)
	}
	c.Receipts = true
	c.Limits.Balance = Micros(1 << 40)
	c.Limits.QuotaUsed = 0
	c.Limits.Quota = 13
	if err := s.Upsert(c); err != nil {
		t.Fatal(err)
	}
	got := rec.last(t)["c"]
	if !got.Receipts || got.Limits.Balance != Micros(6_000_000) || got.Limits.QuotaUsed != 2 || got.Limits.Quota != 13 {
		t.Fatalf("after Upsert existing: %+v", got.Limits)
	}
	if !bc.User().Receipts || s.Binds("c") != 1 {
		t.Fatal("bound session does not see the upserted record")
	}
	if left, _ := bc.User().Limits.QuotaCounter().Left(); left != 11 {
		t.Fatalf("quota left %d, want 13-2", left)
	}

	// Errors change nothing and save nothing.
	n := rec.count()
	for name, err := range map[string]error{
		"unknown SetBalance": s.SetBalance("zz", Micros(1)),
		"unknown TopUp":      s.TopUp("zz", Micros(1)),
		"unknown SetEnabled": s.SetEnabled("zz", true),
		"unlimited top-up":   s.TopUp("a", Unlimited),
		"bad upsert":         s.Upsert(User{SystemID: "d", PasswordHash: "x", BindTypes: AllBindTypes}),
		"no system_id":       s.Upsert(User{}),
		"unknown group":      s.Upsert(User{SystemID: "d", PasswordHash: testHash(t, "pw"), BindTypes: AllBindTypes, Group: "zz"}),
	} {
		if err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if !errors.Is(s.SetBalance("zz", Micros(1)), ErrUnknownUser) || rec.count() != n {
		t.Fatal("errors saved or wrong sentinel")
	}
	if err := s.TopUp("b", Micros(1)); !errors.Is(err, ErrUnlimitedBalance) {
		t.Fatalf("TopUp unlimited balance: %v", err)
	}
	bal, _ := s.Lookup("a")
	if err := s.TopUp("a", Micros(MaxMicros-bal.Limits.Balance.Micros())); err != nil {
		t.Fatal(err)
	}
	if err := s.TopUp("a", Micros(1)); !errors.Is(err, ErrAmount) {
		t.Fatalf("top-up above MaxMicros: %v", err)
	}

	// Unlimited <-> limited balance.
	if err := s.SetBalance("b", Micros(4)); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.Lookup("b"); l.Limits.Balance != Micros(4) {
		t.Fatalf("b balance %v", l.Limits.Balance)
	}
	if err := s.SetBalance("b", Unlimited); err != nil {
		t.Fatal(err)
	}
	if !rec.last(t)["b"].Limits.Balance.IsUnlimited() {
		t.Fatal("unlimited not saved")
	}
}

// TestPeriodicPersist: Persist writes only when a live counter moved, and a
// reload of what was written keeps the live counters (the SIGHUP after a
// flush must not refill or reset anything).
func TestPeriodicPersist(t *testing.T) {
	s, rec := persistStore(t)
	if wrote, err := s.Persist(); wrote || err != nil {
		t.Fatalf("clean Persist wrote=%v err=%v", wrote, err)
	}
	b, _ := s.Authenticate("a", "pw", BindTransmitter, localIP)
	defer b.Release()
	var adm Admission
	for range 10 {
		if _, r := adm.Admit(&b.User().Limits, 1, 0.5, 0, 0, t0); r != Admitted {
			t.Fatal(r)
		}
	}
	if !s.Dirty() {
		t.Fatal("charges did not make the store dirty")
	}
	if wrote, err := s.Persist(); !wrote || err != nil {
		t.Fatalf("dirty Persist wrote=%v err=%v", wrote, err)
	}
	saved := rec.saves[len(rec.saves)-1]
	if a := saved[0]; a.Limits.Balance != Micros(5_000_000) || a.Limits.QuotaUsed != 10 || a.Limits.Quota != 10 {
		t.Fatalf("saved %+v", a.Limits)
	}
	if s.Dirty() {
		t.Fatal("still dirty after a write")
	}
	if wrote, _ := s.Persist(); wrote {
		t.Fatal("wrote twice")
	}
	// The quota is used up and saved as quota_used == quota: reloading the
	// saved file keeps it used up (not 0 = unlimited) and keeps the counters.
	credit := b.User().Limits.Credit()
	if err := s.Reload(saved, testGroups); err != nil {
		t.Fatal(err)
	}
	if b.User().Limits.Credit() != credit {
		t.Fatal("reload of the saved file replaced the balance counter")
	}
	if _, r := adm.Admit(&b.User().Limits, 1, 0, 0, 0, t0); r != RefuseQuota {
		t.Fatalf("used-up quota after reload: %v", r)
	}
	// A charge after the flush, then a reload of the (now stale) file: the
	// file says what was written, so the live balance stays.
	b.User().Limits.Credit().Charge(1_000_000)
	if err := s.Reload(saved, testGroups); err != nil {
		t.Fatal(err)
	}
	if got := b.User().Limits.Credit().Balance(); got != Micros(4_000_000) {
		t.Fatalf("stale-file reload refilled the balance: %v", got)
	}
	// A fresh store from the saved file (a restart) starts where it left off.
	s2, err := NewStore(saved, testGroups, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := s2.Lookup("a"); l.Limits.Balance != Micros(5_000_000) || l.Limits.QuotaUsed != 10 {
		t.Fatalf("restart from saved file: %+v", l.Limits)
	}
}

func TestPersistFailure(t *testing.T) {
	s, rec := persistStore(t)
	boom := errors.New("disk full")
	rec.fail = boom
	err := s.SetEnabled("a", false)
	if !errors.Is(err, ErrNotSaved) || !errors.Is(err, boom) {
		t.Fatalf("SetEnabled with a failing hook: %v", err)
	}
	if u, _ := s.Lookup("a"); u.Enabled {
		t.Fatal("change not in force after a failed save")
	}
	if !s.Dirty() {
		t.Fatal("not dirty after a failed save")
	}
	if wrote, err := s.Persist(); wrote || !errors.Is(err, boom) {
		t.Fatalf("Persist: %v %v", wrote, err)
	}
	rec.fail = nil
	if wrote, err := s.Persist(); !wrote || err != nil {
		t.Fatalf("retry: %v %v", wrote, err)
	}
	if rec.last(t)["a"].Enabled {
		t.Fatal("retry wrote the old record")
	}
	// No hook: changes apply, nothing is written, Persist reports false.
	plain := mustStore(t, []User{testUser(t, "x", "pw")}, Options{})
	if err := plain.SetEnabled("x", false); err != nil {
		t.Fatal(err)
	}
	if wrote, err := plain.Persist(); wrote || err != nil || !plain.Dirty() {
		t.Fatalf("no hook: %v %v dirty=%v", wrote, err, plain.Dirty())
	}
}

// TestRuntimeSurvivesReload: a runtime balance change that was saved, or
// not, survives a reload of a file the operator did not edit.
func TestRuntimeSurvivesReload(t *testing.T) {
	a := testUser(t, "a", "pw")
	a.Limits.Balance = Micros(10)
	s := mustStore(t, []User{a}, Options{}) // no hook: the file stays as loaded
	if err := s.SetBalance("a", Micros(99)); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload([]User{a}, nil); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.Lookup("a"); l.Limits.Balance != Micros(99) {
		t.Fatalf("runtime balance lost on reload: %v", l.Limits.Balance)
	}
	a.Limits.Balance = Micros(20) // operator edit wins
	if err := s.Reload([]User{a}, nil); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.Lookup("a"); l.Limits.Balance != Micros(20) {
		t.Fatalf("edited balance not taken: %v", l.Limits.Balance)
	}
}

// TestConcurrentRuntimeChanges: top-ups, admits, flushes and reloads at
// once (for -race); every top-up and charge is accounted for.
func TestConcurrentRuntimeChanges(t *testing.T) {
	s, rec := persistStore(t)
	b, _ := s.Authenticate("a", "pw", BindTransceiver, localIP)
	defer b.Release()
	a := testUser(t, "a", "pw")
	a.Limits = UserLimits{Balance: Micros(10_000_000), Quota: 10}
	bu := testUser(t, "b", "pw")
	bu.Group = "g"
	var wg sync.WaitGroup
	wg.Add(4)
	go func() {
		defer wg.Done()
		for range 50 {
			if err := s.TopUp("a", Micros(1_000)); err != nil {
				t.Error(err)
			}
		}
	}()
	go func() {
		defer wg.Done()
		var adm Admission
		for range 50 {
			if ch, r := adm.Admit(&b.User().Limits, 1, 0.001, 0, 0, t0); r == Admitted {
				ch.Refund(1)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 20 {
			if _, err := s.Persist(); err != nil {
				t.Error(err)
			}
			_ = s.Users()
		}
	}()
	go func() { // SIGHUPs re-reading the file as last written
		defer wg.Done()
		for range 20 {
			err := s.ReloadWith(func() ([]User, []Group, error) {
				rec.mu.Lock()
				defer rec.mu.Unlock()
				if n := len(rec.saves); n > 0 {
					return rec.saves[n-1], testGroups, nil
				}
				return []User{a, bu}, testGroups, nil
			})
			if err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	if l, _ := s.Lookup("a"); l.Limits.Balance != Micros(10_050_000) {
		t.Fatalf("balance %v, want 10.05", l.Limits.Balance)
	}
	if _, err := s.Persist(); err != nil {
		t.Fatal(err)
	}
	if rec.last(t)["a"].Limits.Balance != Micros(10_050_000) || s.Dirty() {
		t.Fatal("final save wrong")
	}
}
