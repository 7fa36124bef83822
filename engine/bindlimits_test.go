package engine

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// gateAuth is fakeAuth with a BindGate: binds from an address in delay wait
// that long; system_ids in refuse are refused at the gate.
type gateAuth struct {
	*fakeAuth
	delay  map[netip.Addr]time.Duration
	refuse map[string]bool
	gated  atomic.Int32
}

func (a *gateAuth) GateBind(req *BindRequest) (time.Duration, codec.Status) {
	a.gated.Add(1)
	if a.refuse[req.SystemID] {
		return 0, codec.StatusBindFail
	}
	return a.delay[req.Remote.Addr()], codec.StatusOK
}

var (
	lo1 = netip.MustParseAddr("127.0.0.1")
	lo2 = netip.MustParseAddr("127.0.0.2")
)

// dialFrom connects to addr from the loopback address local.
func dialFrom(t testing.TB, addr string, local netip.Addr) *smpptest.Client {
	t.Helper()
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(local, 0)), Timeout: wait}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := smpptest.NewClient(nc)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestBindGateRefusesWithoutWorker(t *testing.T) {
	t.Parallel()
	ga := &gateAuth{fakeAuth: newAuth(), refuse: map[string]bool{"user": true}}
	ts := start(t, func(o *Options) { o.Authenticator = ga })
	c := ts.dial(t)
	mustSend(t, c, codec.BindTransmitterID, 1, smpptest.BindBody("user", "secret", 0x34))
	mustExpect(t, c, codec.BindTransmitterRespID, codec.StatusBindFail)
	mustClosed(t, c)
	if n := ga.calls.Load(); n != 0 {
		t.Fatalf("a bind refused at the gate reached the Authenticator (%d calls)", n)
	}
	ts.logs.waitLog(t, `"event":"bind"`, `"status":"ESME_RBINDFAIL"`, `"reason":"blocked"`, `"system_id":"user"`)
	// Another system_id passes the gate and is checked as usual.
	o := ts.dial(t)
	if h, _, err := o.Bind(codec.BindTransmitterID, "user2", "secret2", 0x34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind through the gate: %v %v", h.Status, err)
	}
}

// A slowed bind waits on the loop's wheel, not on an auth worker: with a
// single worker, a bind from another address is answered while the slowed
// one still waits. The slowed session reads nothing meanwhile, so a PDU
// sent behind its bind is answered after the bind.
func TestSlowedBindHoldsNoWorker(t *testing.T) {
	t.Parallel()
	const delay = 3 * time.Second
	ga := &gateAuth{fakeAuth: newAuth(), delay: map[netip.Addr]time.Duration{lo2: delay}}
	ts := start(t, func(o *Options) {
		o.Authenticator = ga
		o.AuthWorkers = 1
	})
	slow := dialFrom(t, ts.addr, lo2)
	sent := time.Now()
	mustSend(t, slow, codec.BindTransceiverID, 1, smpptest.BindBody("user", "secret", 0x34))
	mustSend(t, slow, codec.EnquireLinkID, 2, nil)
	eventually(t, "slowed bind gated", func() bool { return ga.gated.Load() == 1 })

	fast := dialFrom(t, ts.addr, lo1)
	h, _, err := fast.Bind(codec.BindTransceiverID, "user2", "secret2", 0x34)
	if err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind from another address: %v %v", h.Status, err)
	}
	if took := time.Since(sent); took >= delay {
		t.Fatalf("a bind from another address waited %v, behind the slowed one (%v)", took, delay)
	}
	if n := ga.calls.Load(); n != 1 {
		t.Fatalf("Authenticator calls %d before the delay ended, want 1 (the fast bind)", n)
	}
	mustExpect(t, slow, codec.BindTransceiverRespID, codec.StatusOK)
	// The delay runs on the timer wheel, whose slot is a tick (10 ms): it
	// may end up to a tick before the exact deadline.
	if took := time.Since(sent); took < delay-2*10*time.Millisecond {
		t.Fatalf("slowed bind answered after %v, before its %v delay", took, delay)
	}
	mustExpect(t, slow, codec.EnquireLinkRespID, codec.StatusOK)
}

// A slowed session that closes while it waits drops its parked bind: the
// Authenticator never sees it.
func TestParkedBindDroppedAtClose(t *testing.T) {
	t.Parallel()
	ga := &gateAuth{fakeAuth: newAuth(), delay: map[netip.Addr]time.Duration{lo1: 300 * time.Millisecond}}
	ts := start(t, func(o *Options) { o.Authenticator = ga })
	c := ts.dial(t)
	mustSend(t, c, codec.BindTransceiverID, 1, smpptest.BindBody("user", "secret", 0x34))
	eventually(t, "bind gated", func() bool { return ga.gated.Load() == 1 })
	_ = c.Close()
	eventually(t, "session closed", func() bool { return ts.Stats().Sessions == 0 })
	time.Sleep(500 * time.Millisecond) // past the delay
	if n := ga.calls.Load(); n != 0 {
		t.Fatalf("a parked bind of a closed session reached the Authenticator (%d calls)", n)
	}
}

// One address may hold MaxPendingBindsPerIP binds at the auth workers; its
// next bind is refused while other addresses still queue theirs.
func TestPendingBindsPerAddress(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) {
		gatedAuth(o)
		o.AuthWorkers = 1
		o.AuthQueue = 8
		o.MaxPendingBindsPerIP = 2
	})
	bind := func(c *smpptest.Client) {
		t.Helper()
		mustSend(t, c, codec.BindTransceiverID, 1, smpptest.BindBody("user", "secret", 0x34))
	}
	a1, a2, a3 := dialFrom(t, ts.addr, lo1), dialFrom(t, ts.addr, lo1), dialFrom(t, ts.addr, lo1)
	bind(a1)
	eventually(t, "first bind at the worker", func() bool { return ts.auth.calls.Load() == 1 })
	bind(a2)
	eventually(t, "second bind queued", func() bool { return len(ts.authQ) == 1 })
	bind(a3)
	mustExpect(t, a3, codec.BindTransceiverRespID, codec.StatusBindFail)
	mustClosed(t, a3)
	ts.logs.waitLog(t, `"event":"bind"`, `"reason":"pending_per_address"`, `"remote":"127.0.0.1:`)
	b1 := dialFrom(t, ts.addr, lo2)
	bind(b1)
	eventually(t, "other address queued", func() bool { return len(ts.authQ) == 2 })
	for range 3 {
		ts.auth.gate <- struct{}{}
	}
	for _, c := range []*smpptest.Client{a1, a2, b1} {
		mustExpect(t, c, codec.BindTransceiverRespID, codec.StatusOK)
	}
	if st := ts.Stats(); st.BindsOverShare != 1 || st.AuthQueueFull != 0 {
		t.Fatalf("stats %+v", st)
	}
	ts.pending.mu.Lock()
	left := len(ts.pending.n)
	ts.pending.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d addresses still counted after every bind was answered", left)
	}
}

func TestPendingBindsShareKeysIPv6Per64(t *testing.T) {
	var p pendingBinds
	p.init(2)
	a := addrKey(netip.MustParseAddr("2001:db8:1:2::1"))
	b := addrKey(netip.MustParseAddr("2001:db8:1:2:ffff::2"))
	if !p.take(a) || !p.take(b) || p.take(addrKey(netip.MustParseAddr("2001:db8:1:2::3"))) {
		t.Fatal("one /64 is one share")
	}
	if !p.take(addrKey(netip.MustParseAddr("2001:db8:1:3::1"))) {
		t.Fatal("the next /64 has its own share")
	}
	p.give(a)
	if !p.take(b) {
		t.Fatal("a place given back is free again")
	}
}

func TestAddrKey(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := addrKey(netip.MustParseAddr(in)); got != netip.MustParseAddr(want) {
			t.Errorf("addrKey(%s) = %v, want %s", in, got, want)
		}
	}
	f("192.0.2.7", "192.0.2.7")
	f("::ffff:192.0.2.7", "192.0.2.7")
	f("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::")
	f("2001:db8:1:2::9%eth0", "2001:db8:1:2::")
	f("::1", "::")
}
