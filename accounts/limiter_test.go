package accounts

import (
	"errors"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

var testLimits = Limits{
	FailWindow:        time.Minute,
	SlowAfter:         3,
	SlowDelay:         time.Second,
	BlockAfter:        5,
	AddressBlockAfter: 8,
	BlockFor:          5 * time.Minute,
}

func limitedStore(t *testing.T, lim Limits) (*Store, *fakeClock) {
	clk := newFakeClock()
	return mustStore(t, []User{testUser(t, "a", "pw"), testUser(t, "b", "pw")}, Options{Limits: lim, Clock: clk}), clk
}

// try binds the way the engine does: Gate, then (once its delay has
// passed) Authenticate. It returns the delay Gate asked for.
func try(s *Store, id, pw string, ip netip.Addr) (time.Duration, error) {
	d, err := s.Gate(id, ip)
	if err != nil {
		return 0, err
	}
	b, err := s.Authenticate(id, pw, BindTransmitter, ip)
	if b != nil {
		b.Release()
	}
	return d, err
}

// want runs try and fails unless the delay and the error are as expected.
func want(t *testing.T, s *Store, id, pw string, ip netip.Addr, delay time.Duration, wantErr error) {
	t.Helper()
	d, err := try(s, id, pw, ip)
	if d != delay || !errors.Is(err, wantErr) {
		t.Fatalf("bind %s/%s from %v: delay %v err %v, want %v %v", id, pw, ip, d, err, delay, wantErr)
	}
}

func TestLimiterTransitions(t *testing.T) {
	s, clk := limitedStore(t, testLimits)
	// Failures 1..3 are answered at once.
	for range 3 {
		want(t, s, "a", "bad", localIP, 0, ErrBadCredentials)
	}
	// From the 3rd failure on every bind waits slow_delay: the 4th failure,
	// and the right password of another user from that address.
	want(t, s, "a", "bad", localIP, time.Second, ErrBadCredentials)
	want(t, s, "b", "pw", localIP, time.Second, nil)
	// The 5th failure of the pair blocks it: no password check, even the
	// right one.
	want(t, s, "a", "bad", localIP, time.Second, ErrBadCredentials)
	want(t, s, "a", "pw", localIP, 0, ErrThrottled)
	// The address is not blocked (5 < 8): another user there binds, slowed.
	want(t, s, "b", "pw", localIP, time.Second, nil)
	// The system_id is only slowed elsewhere, and its success clears it.
	want(t, s, "a", "pw", otherIP, time.Second, nil)
	want(t, s, "a", "pw", otherIP, 0, nil)
	if st := s.Stats(); st.Throttled != 1 || st.Slowed != 5 {
		t.Errorf("stats %+v", st)
	}
	// Still blocked just before block_for ends, free after.
	clk.Advance(5*time.Minute - 3*time.Second)
	want(t, s, "a", "pw", localIP, 0, ErrThrottled)
	clk.Advance(4 * time.Second)
	want(t, s, "a", "pw", localIP, 0, nil)
	// The pair starts a fresh window: three more failures before a slow.
	for range 3 {
		want(t, s, "a", "bad", localIP, 0, ErrBadCredentials)
	}
	want(t, s, "a", "bad", localIP, time.Second, ErrBadCredentials)
}

// The real user of a system_id keeps binding from its own address however
// hard another address guesses its password; the guesser is blocked.
func TestLimiterGuesserCannotLockOutUser(t *testing.T) {
	lim := Limits{FailWindow: time.Minute, SlowAfter: 5, SlowDelay: time.Second, BlockAfter: 20,
		AddressBlockAfter: 100, BlockFor: 5 * time.Minute}
	clk := newFakeClock()
	s := mustStore(t, []User{testUser(t, "demo", "demopass")}, Options{Limits: lim, Clock: clk})
	attacker, user := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.1")
	for i := range 200 {
		_, err := try(s, "demo", "guess"+strconv.Itoa(i), attacker)
		if err == nil {
			t.Fatal("a guess bound")
		}
	}
	if st := s.Stats(); st.Throttled != 180 {
		t.Errorf("guesses refused unchecked: %d, want 180 (all after block_after 20)", st.Throttled)
	}
	want(t, s, "demo", "demopass", attacker, 0, ErrThrottled)
	// Slowed at most (the system_id has 20 failures), never refused.
	want(t, s, "demo", "demopass", user, time.Second, nil)
	want(t, s, "demo", "demopass", user, 0, nil)
	// Another /32 of the attacker's is its own address.
	want(t, s, "demo", "demopass", netip.MustParseAddr("127.0.0.3"), 0, nil)
}

// A success clears its (address, system_id) pair, not its address: an
// address that guesses many users keeps its count when one of them binds.
func TestLimiterSuccessClearsPairNotAddress(t *testing.T) {
	s, _ := limitedStore(t, Limits{FailWindow: time.Minute, BlockAfter: 3, AddressBlockAfter: 6, BlockFor: time.Minute})
	for range 2 {
		want(t, s, "a", "bad", localIP, 0, ErrBadCredentials)
	}
	want(t, s, "a", "pw", localIP, 0, nil) // pair 2 → 0, address stays 2
	for range 2 {
		want(t, s, "a", "bad", localIP, 0, ErrBadCredentials)
	}
	want(t, s, "a", "pw", localIP, 0, nil) // pair at 2 < 3: not blocked
	for range 2 {
		want(t, s, "b", "bad", localIP, 0, ErrBadCredentials)
	}
	// The address reached 6: every system_id from it is refused.
	want(t, s, "a", "pw", localIP, 0, ErrThrottled)
	want(t, s, "b", "pw", otherIP, 0, nil)
}

func TestLimiterSuccessClearsSystemIDSlow(t *testing.T) {
	s, _ := limitedStore(t, Limits{FailWindow: time.Minute, SlowAfter: 2, SlowDelay: time.Second})
	for i := range 2 {
		want(t, s, "a", "bad", netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 0, ErrBadCredentials)
	}
	// Two addresses, one failure each: only the system_id slows.
	want(t, s, "a", "pw", otherIP, time.Second, nil)
	want(t, s, "a", "pw", otherIP, 0, nil)
	want(t, s, "b", "pw", netip.AddrFrom4([4]byte{10, 0, 0, 1}), 0, nil)
}

func TestLimiterWindowExpires(t *testing.T) {
	s, clk := limitedStore(t, testLimits)
	for range 4 {
		_, _ = try(s, "a", "bad", localIP)
		clk.Advance(10 * time.Second)
	}
	// 4 failures in 40s: the next bind is slowed.
	want(t, s, "b", "pw", localIP, time.Second, nil)
	// After the window, counts start over.
	clk.Advance(time.Minute)
	want(t, s, "b", "pw", localIP, 0, nil)
}

func TestLimiterIPv6Per64(t *testing.T) {
	s, _ := limitedStore(t, Limits{FailWindow: time.Minute, BlockAfter: 2, AddressBlockAfter: 2, BlockFor: time.Minute})
	_, _ = try(s, "nobody1", "x", netip.MustParseAddr("2001:db8:1:2::1"))
	_, _ = try(s, "nobody2", "x", netip.MustParseAddr("2001:db8:1:2:ffff::9"))
	want(t, s, "a", "pw", netip.MustParseAddr("2001:db8:1:2::77"), 0, ErrThrottled)
	want(t, s, "a", "pw", netip.MustParseAddr("2001:db8:1:3::1"), 0, nil)
	// IPv4-mapped and plain IPv4 are one key.
	_, _ = try(s, "nobody3", "x", netip.MustParseAddr("::ffff:192.0.2.99"))
	_, _ = try(s, "nobody4", "x", netip.MustParseAddr("192.0.2.99"))
	want(t, s, "a", "pw", netip.MustParseAddr("192.0.2.99"), 0, ErrThrottled)

	// The pair is keyed by the /64 too: two addresses of one /64 guessing
	// one user block that user there, not in the next /64.
	s, _ = limitedStore(t, Limits{FailWindow: time.Minute, BlockAfter: 2, BlockFor: time.Minute})
	_, _ = try(s, "a", "x", netip.MustParseAddr("2001:db8:5:6::1"))
	_, _ = try(s, "a", "x", netip.MustParseAddr("2001:db8:5:6::2%eth0"))
	want(t, s, "a", "pw", netip.MustParseAddr("2001:db8:5:6::3"), 0, ErrThrottled)
	want(t, s, "b", "pw", netip.MustParseAddr("2001:db8:5:6::3"), 0, nil)
	want(t, s, "a", "pw", netip.MustParseAddr("2001:db8:5:7::3"), 0, nil)
}

func TestLimiterBoundedKeys(t *testing.T) {
	lim := testLimits
	lim.MaxKeys = 8
	s, _ := limitedStore(t, lim)
	for i := range 100 {
		_, _ = try(s, "user"+strconv.Itoa(i), "x", netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	if n, p, m := s.lim.ips.len(), s.lim.pairs.len(), s.lim.ids.len(); n != 8 || p != 8 || m != 8 {
		t.Errorf("tracked %d addresses, %d pairs, %d ids; cap 8", n, p, m)
	}
}

func TestLimiterOff(t *testing.T) {
	s, _ := limitedStore(t, Limits{})
	for range 100 {
		_, _ = try(s, "a", "bad", localIP)
	}
	want(t, s, "a", "pw", localIP, 0, nil)
	if s.lim != nil {
		t.Fatal("limiter built with no thresholds")
	}
}

// Gate runs on an event loop for every bind: it must not allocate, hit or
// miss.
func TestGateAllocations(t *testing.T) {
	s, _ := limitedStore(t, testLimits)
	for range 4 {
		_, _ = try(s, "a", "bad", localIP)
	}
	for _, ip := range []netip.Addr{localIP, otherIP, netip.MustParseAddr("2001:db8::1")} {
		if n := testing.AllocsPerRun(100, func() { _, _ = s.Gate("a", ip) }); n != 0 {
			t.Errorf("Gate from %v: %v allocs", ip, n)
		}
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
