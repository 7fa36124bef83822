package accounts

import (
	"errors"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

var testLimits = Limits{
	FailWindow: time.Minute,
	SlowAfter:  3,
	SlowDelay:  time.Second,
	BlockAfter: 5,
	BlockFor:   5 * time.Minute,
}

func limitedStore(t *testing.T, lim Limits) (*Store, *fakeClock) {
	clk := newFakeClock()
	return mustStore(t, []User{testUser(t, "a", "pw"), testUser(t, "b", "pw")}, Options{Limits: lim, Clock: clk}), clk
}

func try(s *Store, id, pw string, ip netip.Addr) error {
	b, err := s.Authenticate(id, pw, BindTransmitter, ip)
	if b != nil {
		b.Release()
	}
	return err
}

func TestLimiterTransitions(t *testing.T) {
	s, clk := limitedStore(t, testLimits)
	// Failures 1..3 are answered at once.
	for i := range 3 {
		if err := try(s, "a", "bad", localIP); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if clk.sleeps() != 0 {
		t.Fatalf("slowed before slow_after: %v", clk.slept)
	}
	// From the 3rd failure on every bind waits slow_delay, the right
	// password too, and still succeeds.
	if err := try(s, "a", "bad", localIP); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	if err := try(s, "b", "pw", localIP); err != nil {
		t.Fatalf("slowed but correct bind: %v", err)
	}
	if clk.sleeps() != 2 || clk.slept[0] != time.Second {
		t.Fatalf("slept %v, want two 1s delays", clk.slept)
	}
	// 5th failure blocks: no password check, even the right one.
	if err := try(s, "a", "bad", localIP); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	if err := try(s, "a", "pw", localIP); !errors.Is(err, ErrThrottled) {
		t.Fatalf("blocked key: %v", err)
	}
	if err := try(s, "b", "pw", localIP); !errors.Is(err, ErrThrottled) {
		t.Fatalf("blocked address, other user: %v", err)
	}
	if err := try(s, "b", "pw", otherIP); err != nil {
		t.Fatalf("other address, other user: %v", err)
	}
	if err := try(s, "a", "pw", otherIP); !errors.Is(err, ErrThrottled) {
		t.Fatalf("blocked system_id from another address: %v", err)
	}
	st := s.Stats()
	if st.Throttled != 3 || st.Slowed != 3 {
		t.Errorf("stats %+v", st)
	}
	// Still blocked just before block_for ends, free after.
	clk.Advance(5*time.Minute - 3*time.Second)
	if err := try(s, "a", "pw", localIP); !errors.Is(err, ErrThrottled) {
		t.Fatalf("before block_for ends: %v", err)
	}
	clk.Advance(4 * time.Second)
	if err := try(s, "a", "pw", localIP); err != nil {
		t.Fatalf("after block_for: %v", err)
	}
	// The address starts a fresh window: three more failures before a slow.
	n := clk.sleeps()
	for range 3 {
		_ = try(s, "b", "bad", localIP)
	}
	if clk.sleeps() != n {
		t.Errorf("fresh window slowed early")
	}
}

func TestLimiterWindowExpires(t *testing.T) {
	s, clk := limitedStore(t, testLimits)
	for range 4 {
		_ = try(s, "a", "bad", localIP)
		clk.Advance(10 * time.Second)
	}
	// 4 failures in 40s: the next bind is slowed.
	n := clk.sleeps()
	_ = try(s, "b", "pw", localIP)
	if clk.sleeps() != n+1 {
		t.Fatal("not slowed inside the window")
	}
	// After the window, counts start over.
	clk.Advance(time.Minute)
	n = clk.sleeps()
	_ = try(s, "b", "pw", localIP)
	if clk.sleeps() != n {
		t.Error("slowed after the window passed")
	}
}

func TestLimiterSuccessClearsSystemIDOnly(t *testing.T) {
	s, clk := limitedStore(t, testLimits)
	for range 3 {
		_ = try(s, "a", "bad", localIP)
	}
	// The real owner logs in from elsewhere: system_id count cleared.
	n := clk.sleeps()
	if err := try(s, "a", "pw", otherIP); err != nil {
		t.Fatal(err)
	}
	if err := try(s, "a", "pw", otherIP); err != nil || clk.sleeps() != n+1 {
		t.Fatalf("after success from elsewhere: err %v, sleeps %d (want exactly the first slowed)", err, clk.sleeps()-n)
	}
	// The guessing address is still counted.
	n = clk.sleeps()
	_ = try(s, "b", "pw", localIP)
	if clk.sleeps() != n+1 {
		t.Error("a success cleared the failing address's count")
	}
}

func TestLimiterIPv6Per64(t *testing.T) {
	s, _ := limitedStore(t, Limits{FailWindow: time.Minute, BlockAfter: 2, BlockFor: time.Minute})
	_ = try(s, "nobody1", "x", netip.MustParseAddr("2001:db8:1:2::1"))
	_ = try(s, "nobody2", "x", netip.MustParseAddr("2001:db8:1:2:ffff::9"))
	if err := try(s, "a", "pw", netip.MustParseAddr("2001:db8:1:2::77")); !errors.Is(err, ErrThrottled) {
		t.Fatalf("same /64: %v", err)
	}
	if err := try(s, "a", "pw", netip.MustParseAddr("2001:db8:1:3::1")); err != nil {
		t.Fatalf("next /64: %v", err)
	}
	// IPv4-mapped and plain IPv4 are one key.
	_ = try(s, "nobody3", "x", netip.MustParseAddr("::ffff:192.0.2.99"))
	_ = try(s, "nobody4", "x", netip.MustParseAddr("192.0.2.99"))
	if err := try(s, "a", "pw", netip.MustParseAddr("192.0.2.99")); !errors.Is(err, ErrThrottled) {
		t.Fatalf("mapped IPv4: %v", err)
	}
}

func TestLimiterBoundedKeys(t *testing.T) {
	lim := testLimits
	lim.MaxKeys = 8
	s, _ := limitedStore(t, lim)
	for i := range 100 {
		_ = try(s, "user"+strconv.Itoa(i), "x", netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	if n, m := s.lim.ips.len(), s.lim.ids.len(); n != 8 || m != 8 {
		t.Errorf("tracked %d addresses, %d ids; cap 8", n, m)
	}
}

func TestLimiterOff(t *testing.T) {
	s, clk := limitedStore(t, Limits{})
	for range 100 {
		_ = try(s, "a", "bad", localIP)
	}
	if err := try(s, "a", "pw", localIP); err != nil || clk.sleeps() != 0 || s.lim != nil {
		t.Fatalf("limiter off: %v, %d sleeps", err, clk.sleeps())
	}
}

func TestLRU(t *testing.T) {
	l := newLRU[int, int](3)
	for i := range 3 {
		*l.touch(i) = i * 10
	}
	l.touch(0) // 0 is now newest; 1 is oldest
	*l.touch(3) = 30
	if _, ok := l.get(1); ok {
		t.Error("oldest entry not evicted")
	}
	for _, k := range []int{0, 2, 3} {
		if v, ok := l.get(k); !ok || *v != k*10 {
			t.Errorf("get(%d) = %v, %v", k, v, ok)
		}
	}
	l.remove(2)
	l.remove(2)
	var order []int
	l.each(func(k int, _ *int) { order = append(order, k) })
	if len(order) != 2 || order[0] != 3 || order[1] != 0 || l.len() != 2 {
		t.Errorf("order %v len %d", order, l.len())
	}
}
