package accounts

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// richUser has every field set.
func richUser(t testing.TB) User {
	u := testUser(t, "rich", "pw")
	u.Group = "g"
	u.MaxBinds = 9
	u.MaxBindsPerType = [3]int{1, 2, 3}
	u.AllowIPs = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	u.DefaultSource = "INFO"
	u.SourceAddrs = []string{"INFO", "336*"}
	u.Receipts = true
	u.Limits = UserLimits{Throughput: 10, Burst: 20, Balance: Micros(5_000_000), Quota: 100, QuotaUsed: 10,
		MaxValidity: time.Hour, MaxPriority: pri(2)}
	return u
}

var testGroups = []Group{{Name: "g", Enabled: true}}

func TestUserFieldsKept(t *testing.T) {
	in := richUser(t)
	s, err := NewStore([]User{in}, testGroups, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Authenticate("rich", "pw", BindTransmitter, localIP)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	u := b.User()
	if u.Group != "g" || u.MaxBindsPerType != [3]int{1, 2, 3} || u.DefaultSource != "INFO" || !u.Receipts ||
		len(u.SourceAddrs) != 2 || u.Limits.Throughput != 10 || u.Limits.MaxValidity != time.Hour || *u.Limits.MaxPriority != 2 {
		t.Fatalf("record %+v", u)
	}
	if !u.SourceAllowed([]byte("3361")) || u.SourceAllowed([]byte("INFO2")) {
		t.Fatal("record's source patterns not compiled")
	}
	if left, _ := u.Limits.QuotaCounter().Left(); left != 90 || u.Limits.Credit().Balance() != Micros(5_000_000) {
		t.Fatalf("live counters: quota %d balance %v", left, u.Limits.Credit().Balance())
	}
	// The store copied what it was given.
	in.SourceAddrs[0] = "HACK"
	*in.Limits.MaxPriority = 3
	in.AllowIPs[0] = netip.MustParsePrefix("0.0.0.0/0")
	if u.SourceAddrs[0] != "INFO" || *u.Limits.MaxPriority != 2 || u.AllowIPs[0].Bits() != 8 {
		t.Fatal("store shares the caller's slices or pointers")
	}
	// Lookup hands out copies too.
	l, ok := s.Lookup("rich")
	if !ok || l.Limits.QuotaUsed != 10 || l.Limits.Balance != Micros(5_000_000) {
		t.Fatalf("Lookup %+v", l)
	}
	l.SourceAddrs[1] = "x"
	*l.Limits.MaxPriority = 0
	if u.SourceAddrs[1] != "336*" || *u.Limits.MaxPriority != 2 {
		t.Fatal("Lookup shares the record's slices")
	}
}

// TestBindSeesReload: a held bind reads the current record after a reload,
// and its last record (inactive) after the user is removed.
func TestBindSeesReload(t *testing.T) {
	u := richUser(t)
	s, _ := NewStore([]User{u}, testGroups, Options{})
	b, err := s.Authenticate("rich", "pw", BindTransceiver, localIP)
	if err != nil {
		t.Fatal(err)
	}
	before := b.User()
	u.Limits.MaxPriority = pri(0)
	u.Receipts = false
	if err := s.Reload([]User{u}, testGroups); err != nil {
		t.Fatal(err)
	}
	after := b.User()
	if after == before || after.Receipts || *after.Limits.MaxPriority != 0 {
		t.Fatalf("bind still sees the old record: %+v", after)
	}
	if before.Receipts != true || *before.Limits.MaxPriority != 2 {
		t.Fatal("the old record was modified")
	}
	var a Admission
	if _, r := a.Admit(&b.User().Limits, 1, 0, 1, 0, t0); r != RefusePriorityOff {
		t.Fatalf("new max_priority not applied: %v", r)
	}
	if err := s.Reload(nil, testGroups); err != nil {
		t.Fatal(err)
	}
	if gone := b.User(); gone.Active() || gone.SystemID != "rich" || gone.Receipts {
		t.Fatalf("removed user's record %+v active=%v", gone, gone.Active())
	}
	if _, ok := s.Lookup("rich"); ok {
		t.Fatal("removed user still found")
	}
	b.Release()
	if s.Binds("rich") != 0 {
		t.Fatal("removed user's slot not released")
	}
	// Re-added: fresh counters from the file, active again.
	if err := s.Reload([]User{u}, testGroups); err != nil {
		t.Fatal(err)
	}
	if !b.User().Active() {
		t.Fatal("re-added user inactive")
	}
}

func TestReloadCarriesCounters(t *testing.T) {
	var a Admission
	u := testUser(t, "a", "pw")
	u.Limits = UserLimits{Throughput: 1, Burst: 5, Balance: Micros(10_000_000), Quota: 100, QuotaUsed: 0}
	s := mustStore(t, []User{u}, Options{})
	lim := func() *UserLimits { return &s.snap.Load().users["a"].cur.Load().user.Limits }
	c0, q0, b0 := lim().Credit(), lim().QuotaCounter(), lim().Bucket()
	if _, r := a.Admit(lim(), 3, 1, 0, 0, t0); r != Admitted { // 3 units, 3 parts, 3 tokens
		t.Fatal(r)
	}
	check := func(step string, bal int64, left int64, tokens int) {
		t.Helper()
		l := lim()
		gotLeft, _ := l.QuotaCounter().Left()
		if l.Credit().Balance().Micros() != bal || gotLeft != left || l.Bucket().Tokens(t0) != tokens {
			t.Fatalf("%s: balance %d left %d tokens %d; want %d %d %d", step, l.Credit().Balance().Micros(),
				gotLeft, l.Bucket().Tokens(t0), bal, left, tokens)
		}
	}
	check("admitted", 7_000_000, 97, 2)

	// 1. The same file again (SIGHUP with nothing edited): everything kept.
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	check("same file", 7_000_000, 97, 2)
	if lim().Credit() != c0 || lim().QuotaCounter() != q0 || lim().Bucket() != b0 {
		t.Fatal("unchanged reload replaced a counter")
	}
	// 2. Other fields edited (max_priority, burst): balance and quota kept,
	// the bucket rebuilt full because its parameters changed.
	u.Limits.MaxPriority = pri(1)
	u.Limits.Burst = 6
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	check("burst edited", 7_000_000, 97, 6)
	if lim().Credit() != c0 || lim().QuotaCounter() != q0 {
		t.Fatal("counters replaced although balance and quota were not edited")
	}
	// 3. Balance edited by the operator: the file wins, in the same counter
	// (so refunds of earlier charges land on it).
	u.Limits.Balance = Micros(50_000_000)
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	check("balance edited", 50_000_000, 97, 6)
	if lim().Credit() != c0 {
		t.Fatal("balance edit replaced the counter")
	}
	// ... and the next unchanged reload keeps the live value again.
	lim().Credit().Charge(1)
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	check("after edit, unchanged", 49_999_999, 97, 6)
	// 4. Quota total raised: parts left move by the difference, usage kept.
	u.Limits.Quota = 150
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	check("quota raised", 49_999_999, 147, 6)
	// 5. quota_used edited (operator reset usage): the file wins.
	u.Limits.QuotaUsed = 20
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	check("quota_used edited", 49_999_999, 130, 6)
	// 6. Quota lowered below what is used: none left, still limited.
	u.Limits.Quota = 10
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	check("quota lowered", 49_999_999, 0, 6)
	if _, r := a.Admit(lim(), 1, 0, 0, 0, t0); r != RefuseQuota {
		t.Fatalf("quota below usage: %v", r)
	}
	// 7. Switches between unlimited and limited.
	u.Limits.Balance, u.Limits.Quota = Unlimited, 0
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	if !lim().Credit().Balance().IsUnlimited() {
		t.Fatal("balance not unlimited")
	}
	if _, limited := lim().QuotaCounter().Left(); limited {
		t.Fatal("quota not unlimited")
	}
	u.Limits.Balance, u.Limits.Quota, u.Limits.QuotaUsed = Micros(3), 5, 1
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	check("limited again", 3, 4, 6)
}

// TestRefundAcrossReload: a charge taken before a reload is refunded to the
// balance the reload kept.
func TestRefundAcrossReload(t *testing.T) {
	var a Admission
	u := testUser(t, "a", "pw")
	u.Limits.Balance = Micros(1_000_000)
	s := mustStore(t, []User{u}, Options{})
	b, _ := s.Authenticate("a", "pw", BindTransmitter, localIP)
	defer b.Release()
	ch, r := a.Admit(&b.User().Limits, 1, 0.25, 0, 0, t0)
	if r != Admitted {
		t.Fatal(r)
	}
	u.Limits.Throughput = 5 // an unrelated edit
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	ch.Refund(1)
	if got := b.User().Limits.Credit().Balance().Micros(); got != 1_000_000 {
		t.Fatalf("balance after refund across reload %d", got)
	}
}

// TestAdmitDuringReload: sessions admit through bind.User().Limits while
// SIGHUPs reload the same file and edit other fields. The balance is never
// refilled, so exactly the prepaid number of parts gets through. Run with
// -race: Bind.User and Reload share records without locks.
func TestAdmitDuringReload(t *testing.T) {
	const parts = 400
	u := testUser(t, "a", "pw")
	u.Limits = UserLimits{Balance: Micros(parts * 10_000), Quota: parts + 100}
	s := mustStore(t, []User{u}, Options{})
	var binds []*Bind
	for range 4 {
		b, err := s.Authenticate("a", "pw", BindTransceiver, localIP)
		if err != nil {
			t.Fatal(err)
		}
		binds = append(binds, b)
	}
	var (
		a        Admission
		admitted atomic.Int64
		wg       sync.WaitGroup
	)
	for _, b := range binds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				uu := b.User()
				if _, r := a.Admit(&uu.Limits, 1, 0.01, 0, 0, t0); r == Admitted {
					admitted.Add(1)
				} else if r != RefuseBalance {
					t.Errorf("refusal %v", r)
					return
				}
				_ = uu.SourceAllowed([]byte("x"))
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		v := u
		for i := 0; i < 200; i++ {
			v.Limits.MaxValidity = time.Duration(i) * time.Second
			v.Receipts = i%2 == 0
			if err := s.Reload([]User{v}, nil); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	if admitted.Load() != parts {
		t.Fatalf("admitted %d parts, balance covered %d", admitted.Load(), parts)
	}
	l, _ := s.Lookup("a")
	if l.Limits.QuotaUsed != parts || l.Limits.Balance.Micros() != 0 {
		t.Fatalf("quota_used %d balance %v", l.Limits.QuotaUsed, l.Limits.Balance)
	}
	for _, b := range binds {
		b.Release()
	}
}
