package accounts

import (
	"errors"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAuthenticateErrors(t *testing.T) {
	disabled := testUser(t, "off", "pw")
	disabled.Enabled = false
	rxOnly := testUser(t, "rx", "pw")
	rxOnly.BindTypes = BindReceiver
	one := testUser(t, "one", "pw")
	one.MaxBinds = 1
	fenced := testUser(t, "fenced", "pw")
	fenced.AllowIPs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	s := mustStore(t, []User{testUser(t, "ok", "pw"), disabled, rxOnly, one, fenced}, Options{})

	held, err := s.Authenticate("one", "pw", BindTransmitter, localIP)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()

	cases := []struct {
		name, id, pw string
		bt           BindType
		ip           string
		want         error
	}{
		{"success", "ok", "pw", BindTransceiver, "127.0.0.1", nil},
		{"unknown user", "nobody", "pw", BindTransmitter, "127.0.0.1", ErrBadCredentials},
		{"wrong password", "ok", "pW", BindTransmitter, "127.0.0.1", ErrBadCredentials},
		{"empty password", "ok", "", BindTransmitter, "127.0.0.1", ErrBadCredentials},
		{"disabled", "off", "pw", BindTransmitter, "127.0.0.1", ErrDisabled},
		{"disabled, wrong password", "off", "x", BindTransmitter, "127.0.0.1", ErrBadCredentials},
		{"bind type", "rx", "pw", BindTransmitter, "127.0.0.1", ErrBindTypeNotAllowed},
		{"bind type allowed", "rx", "pw", BindReceiver, "127.0.0.1", nil},
		{"invalid bind type", "ok", "pw", BindType(0), "127.0.0.1", ErrBindTypeNotAllowed},
		{"bind type mask", "ok", "pw", BindTransmitter | BindReceiver, "127.0.0.1", ErrBindTypeNotAllowed},
		{"too many binds", "one", "pw", BindReceiver, "127.0.0.1", ErrTooManyBinds},
		{"ip outside", "fenced", "pw", BindTransmitter, "192.0.2.1", ErrIPNotAllowed},
		{"ip inside v4", "fenced", "pw", BindTransmitter, "10.1.2.3", nil},
		{"ip inside v4-mapped", "fenced", "pw", BindTransmitter, "::ffff:10.1.2.3", nil},
		{"ip inside v6", "fenced", "pw", BindTransmitter, "2001:db8::7", nil},
		{"ip outside v6", "fenced", "pw", BindTransmitter, "2001:db9::7", ErrIPNotAllowed},
		{"ip wrong password first", "fenced", "x", BindTransmitter, "192.0.2.1", ErrBadCredentials},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := s.Authenticate(tc.id, tc.pw, tc.bt, netip.MustParseAddr(tc.ip))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if (b != nil) != (tc.want == nil) {
				t.Fatalf("bind %v with err %v", b, err)
			}
			if b != nil {
				if b.SystemID() != tc.id || b.User().SystemID != tc.id || b.Type() != tc.bt {
					t.Errorf("bind = %s %s %s", b.SystemID(), b.User().SystemID, b.Type())
				}
				b.Release()
			}
		})
	}
}

func TestBindTypes(t *testing.T) {
	m, err := ParseBindTypes([]string{"transmitter", "transceiver"})
	if err != nil || m != BindTransmitter|BindTransceiver {
		t.Errorf("ParseBindTypes = %v, %v", m, err)
	}
	if _, err := ParseBindTypes([]string{"esme"}); err == nil {
		t.Error("ParseBindTypes accepts esme")
	}
	for bt, s := range map[BindType]string{BindTransmitter: "transmitter", BindReceiver: "receiver", BindTransceiver: "transceiver", 0: "BindType(invalid)"} {
		if bt.String() != s {
			t.Errorf("%d.String() = %q", bt, bt.String())
		}
	}
}

func TestNewStoreRejects(t *testing.T) {
	u := testUser(t, "a", "pw")
	noTypes := u
	noTypes.BindTypes = 0
	neg := u
	neg.MaxBinds = -1
	for name, users := range map[string][]User{
		"duplicate":     {u, u},
		"empty id":      {{PasswordHash: u.PasswordHash, BindTypes: AllBindTypes}},
		"no bind types": {noTypes},
		"negative max":  {neg},
	} {
		if _, err := NewStore(users, nil, Options{}); err == nil {
			t.Errorf("%s: NewStore accepted %+v", name, users)
		}
	}
	if _, err := NewStore(nil, nil, Options{Limits: Limits{SlowAfter: 1}}); err == nil {
		t.Error("limits without a window accepted")
	}
}

// TestConcurrentBinds: many goroutines race for one user's slots; exactly
// max_binds win, and the count returns to zero after releases (twice each).
func TestConcurrentBinds(t *testing.T) {
	u := testUser(t, "busy", "pw")
	u.MaxBinds = 1000
	s := mustStore(t, []User{u, testUser(t, "free", "pw")}, Options{CacheTTL: time.Minute, CacheSize: 10})
	const workers, each = 50, 40 // 2000 attempts for 1000 slots
	var (
		wg       sync.WaitGroup
		won      atomic.Int64
		refused  atomic.Int64
		mu       sync.Mutex
		binds    []*Bind
		unlimits atomic.Int64
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				b, err := s.Authenticate("busy", "pw", BindTransceiver, localIP)
				switch {
				case err == nil:
					won.Add(1)
					mu.Lock()
					binds = append(binds, b)
					mu.Unlock()
				case errors.Is(err, ErrTooManyBinds):
					refused.Add(1)
				default:
					t.Error(err)
				}
				if f, err := s.Authenticate("free", "pw", BindReceiver, localIP); err == nil {
					unlimits.Add(1)
					defer f.Release()
				}
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1000 || refused.Load() != workers*each-1000 || s.Binds("busy") != 1000 {
		t.Fatalf("won %d refused %d count %d", won.Load(), refused.Load(), s.Binds("busy"))
	}
	if unlimits.Load() != workers*each {
		t.Errorf("unlimited user got %d of %d binds", unlimits.Load(), workers*each)
	}
	var rel sync.WaitGroup
	for _, b := range binds {
		rel.Add(2)
		go func() { defer rel.Done(); b.Release() }()
		go func() { defer rel.Done(); b.Release() }()
	}
	rel.Wait()
	if n := s.Binds("busy"); n != 0 {
		t.Errorf("after releasing every bind twice, count = %d", n)
	}
}

func TestReloadKeepsCounts(t *testing.T) {
	u := testUser(t, "a", "pw")
	u.MaxBinds = 3
	s := mustStore(t, []User{u, testUser(t, "b", "pw")}, Options{})
	var held []*Bind
	for range 3 {
		b, err := s.Authenticate("a", "pw", BindTransmitter, localIP)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, b)
	}
	// Lower the limit: the three binds stay, new ones wait until below 2.
	u.MaxBinds = 2
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	if n := s.Binds("a"); n != 3 {
		t.Fatalf("count after reload = %d, want 3", n)
	}
	if _, err := s.Authenticate("a", "pw", BindTransmitter, localIP); !errors.Is(err, ErrTooManyBinds) {
		t.Fatalf("over the lowered limit: %v", err)
	}
	held[0].Release()
	held[1].Release()
	b, err := s.Authenticate("a", "pw", BindTransmitter, localIP)
	if err != nil {
		t.Fatalf("below the lowered limit: %v", err)
	}
	// A bind outlives the removal of its user and still releases its slot.
	if err := s.Reload(nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate("a", "pw", BindTransmitter, localIP); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("removed user: %v", err)
	}
	if b.User().MaxBinds != 2 || b.SystemID() != "a" {
		t.Errorf("bind's user changed: %+v", b.User())
	}
	if n := s.Binds("a"); n != 2 {
		t.Fatalf("count of removed user = %d, want 2", n)
	}
	b.Release()
	held[2].Release()
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	if n := s.Binds("a"); n != 0 {
		t.Errorf("count after re-adding = %d, want 0", n)
	}
	// A failed reload keeps the previous users.
	bad := u
	bad.PasswordHash = "nope"
	if err := s.Reload([]User{bad}, nil); err == nil {
		t.Fatal("bad reload accepted")
	}
	if _, ok := s.Lookup("a"); !ok {
		t.Error("failed reload dropped the users")
	}
}

func TestCache(t *testing.T) {
	clk := newFakeClock()
	s := mustStore(t, []User{testUser(t, "a", "pw")}, Options{CacheTTL: time.Minute, CacheSize: 10, Clock: clk})
	bind := func(pw string) error {
		b, err := s.Authenticate("a", pw, BindTransmitter, localIP)
		if b != nil {
			b.Release()
		}
		return err
	}
	if err := bind("pw"); err != nil {
		t.Fatal(err)
	}
	if err := bind("pw"); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.CacheHits != 1 || st.CacheMisses != 1 {
		t.Fatalf("stats %+v, want 1 hit 1 miss", st)
	}
	// A wrong password never matches the cached entry.
	if err := bind("px"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	// TTL.
	clk.Advance(59 * time.Second)
	_ = bind("pw")
	clk.Advance(2 * time.Second)
	_ = bind("pw")
	if st := s.Stats(); st.CacheHits != 2 || st.CacheMisses != 3 {
		t.Fatalf("stats %+v, want 2 hits 3 misses", st)
	}
	// Reload with a new password: the old one stops working at once.
	u := testUser(t, "a", "new")
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	if s.cache.len() != 0 {
		t.Errorf("cache still holds %d entries for a changed user", s.cache.len())
	}
	if err := bind("pw"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password after reload: %v", err)
	}
	if err := bind("new"); err != nil {
		t.Fatal(err)
	}
	// An unchanged user keeps its entry across a reload.
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	before := s.Stats().CacheHits
	_ = bind("new")
	if s.Stats().CacheHits != before+1 {
		t.Error("reload of an unchanged user dropped its cache entry")
	}
}

func TestCacheBounded(t *testing.T) {
	var users []User
	for i := range 5 {
		users = append(users, testUser(t, "u"+strconv.Itoa(i), "pw"))
	}
	s := mustStore(t, users, Options{CacheTTL: time.Hour, CacheSize: 2})
	for _, u := range users {
		b, err := s.Authenticate(u.SystemID, "pw", BindTransmitter, localIP)
		if err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if n := s.cache.len(); n != 2 {
		t.Errorf("cache holds %d entries, cap 2", n)
	}
	// The newest survive.
	before := s.Stats().CacheHits
	b, _ := s.Authenticate("u4", "pw", BindTransmitter, localIP)
	b.Release()
	if s.Stats().CacheHits != before+1 {
		t.Error("newest entry was evicted")
	}
}

func TestCacheNeverHoldsPassword(t *testing.T) {
	c := newCredCache(time.Minute, 4)
	mac := c.mac("id", "secret-password")
	c.put("id", "h", &mac, time.Now())
	e, _ := c.ents.get("id")
	if string(e.mac[:]) == "secret-password" || e.encoded != "h" {
		t.Fatal("unexpected entry")
	}
	// Keyed: another cache (another process) derives a different value.
	other := newCredCache(time.Minute, 4)
	if other.mac("id", "secret-password") == mac {
		t.Error("mac is not keyed per cache")
	}
	// The split between system_id and password is unambiguous.
	if c.mac("ab", "c") == c.mac("a", "bc") {
		t.Error("mac(ab,c) == mac(a,bc)")
	}
}
