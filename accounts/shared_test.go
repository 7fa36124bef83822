package accounts

import (
	"errors"
	"sync"
	"testing"
)

// fakeDir is a Directory that applies a change at once, as the cluster's
// watch does on the node that wrote it, with pools in memory.
type fakeDir struct {
	s *Store

	mu     sync.Mutex
	users  map[string]User
	pools  map[string]int64 // -1: unlimited
	shorts []string
}

func newFakeDir(s *Store) *fakeDir {
	return &fakeDir{s: s, users: map[string]User{}, pools: map[string]int64{}}
}

func (d *fakeDir) applyLocked() error {
	var us []User
	for _, u := range d.users {
		u.Limits.Balance = Micros(0)
		if d.pools[u.SystemID] < 0 {
			u.Limits.Balance = Unlimited
		}
		us = append(us, u)
	}
	return d.s.ApplyShared(us, nil)
}

func (d *fakeDir) PutUser(u User, prev *User) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if prev == nil {
		d.pools[u.SystemID] = u.Limits.Balance.Micros()
		if u.Limits.Balance.IsUnlimited() {
			d.pools[u.SystemID] = -1
		}
	}
	d.users[u.SystemID] = u
	return d.applyLocked()
}

func (d *fakeDir) SetBalance(id string, b Amount) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pools[id] = b.Micros()
	if b.IsUnlimited() {
		d.pools[id] = -1
	}
	return d.applyLocked()
}

func (d *fakeDir) TopUp(id string, b Amount) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pools[id] += b.Micros()
	return nil
}

func (d *fakeDir) DeleteUser(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.users, id)
	return d.applyLocked()
}

func (d *fakeDir) Short(account string, _ int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.shorts = append(d.shorts, account)
}

func (d *fakeDir) Refilling(account string, need int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pools[account] >= need
}

func (d *fakeDir) Total(account string) (int64, bool, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.pools[account]
	if v < 0 {
		return 0, true, ok
	}
	h, _ := d.s.Held(account)
	return v + h, false, ok
}

// In shared mode a limited balance is this node's slice: empty at first
// (a refusal while the pool can refill is throttled, and asks for a
// refill), charged locally once lent; the file cannot reload users; the
// runtime changes go to the Directory; Lookup shows the cluster's total.
func TestSharedModeChargesTheSlice(t *testing.T) {
	u := testUser(t, "ann", "pw")
	u.Limits.Balance = Micros(10 * MicrosPerUnit)
	s := mustStore(t, []User{u}, Options{})
	d := newFakeDir(s)
	s.Share(d)
	d.users["ann"] = u
	d.pools["ann"] = 10 * MicrosPerUnit
	if err := d.applyLocked(); err != nil {
		t.Fatal(err)
	}
	if h, ok := s.Held("ann"); !ok || h != 0 {
		t.Fatalf("slice after Share: %d %v, want an empty limited one", h, ok)
	}
	b, err := s.Authenticate("ann", "pw", BindTransmitter, localIP)
	if err != nil {
		t.Fatal(err)
	}
	var adm Admission
	if _, r := adm.Admit(&b.User().Limits, 1, 1, 0, 0, 1); r != RefuseThrottled {
		t.Fatalf("empty slice, pool of 10: %v, want throttled", r)
	}
	if len(d.shorts) != 1 || d.shorts[0] != "ann" {
		t.Fatalf("shorts %v", d.shorts)
	}
	// The lender moves 3 units from the pool to this node.
	d.pools["ann"] -= 3 * MicrosPerUnit
	if !s.Lend("ann", 3*MicrosPerUnit) {
		t.Fatal("Lend refused")
	}
	ch, r := adm.Admit(&b.User().Limits, 2, 1, 0, 0, 2)
	if r != Admitted || ch.Micros() != 2*MicrosPerUnit {
		t.Fatalf("admit from the slice: %v %d", r, ch.Micros())
	}
	if lu, _ := s.Lookup("ann"); lu.Limits.Balance != Micros(8*MicrosPerUnit) {
		t.Fatalf("Lookup balance %v, want the cluster's 8", lu.Limits.Balance)
	}
	// A record change keeps the slice.
	if err := s.SetEnabled("ann", true); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Held("ann"); h != MicrosPerUnit {
		t.Fatalf("slice after a record change %d, want 1 unit", h)
	}
	if err := ch.Refund(1); err != nil || mustHeld(t, s, "ann") != 3*MicrosPerUnit {
		t.Fatalf("refund to the slice: %v", err)
	}
	if got := s.Withdraw("ann", 5*MicrosPerUnit); got != 3*MicrosPerUnit {
		t.Fatalf("withdrew %d, want the 3 units held", got)
	}
	// The pool is empty and so is the slice: a plain refusal.
	d.pools["ann"] = 0
	if _, r := adm.Admit(&b.User().Limits, 1, 1, 0, 0, 3); r != RefuseBalance {
		t.Fatalf("empty pool: %v, want balance refused", r)
	}
	if err := s.Reload([]User{u}, nil); !errors.Is(err, ErrShared) {
		t.Fatalf("Reload in shared mode: %v", err)
	}
	// unlimited through the Directory: a new, unlimited counter.
	if err := s.SetBalance("ann", Unlimited); err != nil {
		t.Fatal(err)
	}
	if _, r := adm.Admit(&b.User().Limits, 1, 1, 0, 0, 4); r != Admitted {
		t.Fatalf("unlimited: %v", r)
	}
	if err := s.TopUp("nobody", Micros(1)); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("top-up of an unknown user: %v", err)
	}
	if err := s.Remove("ann"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup("ann"); ok || b.User().Active() {
		t.Fatal("ann still there, or her bind still active, after Remove")
	}
}

// A quota in shared mode is a slice of parts too.
func TestSharedModeQuotaSlice(t *testing.T) {
	u := testUser(t, "bo", "pw")
	u.Limits.Quota = 100
	s := mustStore(t, []User{u}, Options{})
	d := newFakeDir(s)
	s.Share(d)
	d.pools[QuotaAccount("bo")] = 100
	lim := &s.snap.Load().users["bo"].cur.Load().user.Limits
	var adm Admission
	if _, r := adm.Admit(lim, 1, 0, 0, 0, 1); r != RefuseThrottled {
		t.Fatalf("empty quota slice: %v", r)
	}
	s.Lend(QuotaAccount("bo"), 2)
	if _, r := adm.Admit(lim, 2, 0, 0, 0, 2); r != Admitted {
		t.Fatalf("quota slice of 2: %v", r)
	}
	d.pools[QuotaAccount("bo")] = 0
	if _, r := adm.Admit(lim, 1, 0, 0, 0, 3); r != RefuseQuota {
		t.Fatalf("spent quota, empty pool: %v", r)
	}
}

func mustHeld(t *testing.T, s *Store, acct string) int64 {
	t.Helper()
	h, ok := s.Held(acct)
	if !ok {
		t.Fatalf("%s not held", acct)
	}
	return h
}

// Each node enforces the user's throughput times its share of the
// user's sending binds; a re-split keeps the bucket's debt.
func TestSplitThroughput(t *testing.T) {
	u := testUser(t, "cy", "pw")
	u.Limits.Throughput = 100
	s := mustStore(t, []User{u}, Options{})
	b, err := s.Authenticate("cy", "pw", BindTransmitter, localIP)
	if err != nil {
		t.Fatal(err)
	}
	var gotLocal int
	s.SplitThroughput(func(_ string, local int) float64 { gotLocal = local; return 0.25 })
	if gotLocal != 1 {
		t.Fatalf("local sending binds %d, want 1", gotLocal)
	}
	bk := b.User().Limits.Bucket()
	if bk.share != 0.25 || bk.interval != 40_000_000 || bk.Burst() != 100 {
		t.Fatalf("bucket share %v interval %d burst %d, want 25/s with the configured burst", bk.share, bk.interval, bk.Burst())
	}
	s.SplitThroughput(func(string, int) float64 { return 0.251 }) // noise: kept
	if b.User().Limits.Bucket() != bk {
		t.Fatal("a share within epsilon rebuilt the bucket")
	}
	s.SplitThroughput(func(string, int) float64 { return 7 }) // out of range: the whole rate
	if got := b.User().Limits.Bucket(); got.interval != 10_000_000 {
		t.Fatalf("interval %d, want 100/s", got.interval)
	}
}
