package engine

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

func TestConnectionLimitPerIP(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) { o.MaxConnectionsPerIP = 2 })
	a := ts.bound(t, codec.BindTransceiverID)
	b := ts.dial(t)
	c := ts.dial(t)
	mustClosed(t, c)
	eventually(t, "refusal counted", func() bool { return ts.Stats().Refused == 1 })
	mustSend(t, b, codec.EnquireLinkID, 1, nil)
	mustExpect(t, b, codec.EnquireLinkRespID, codec.StatusOK)
	_ = b.Close() // frees a slot
	eventually(t, "slot freed", func() bool { return ts.Stats().Sessions == 1 })
	d := ts.dial(t)
	mustSend(t, d, codec.EnquireLinkID, 2, nil)
	mustExpect(t, d, codec.EnquireLinkRespID, codec.StatusOK)
	mustSend(t, a, codec.EnquireLinkID, 3, nil)
	mustExpect(t, a, codec.EnquireLinkRespID, codec.StatusOK)
}

// IPv6 peers are counted per /64 (one host usually owns the whole /64);
// IPv4-mapped and plain IPv4 are one address.
func TestConnectionLimitKeysIPv6Per64(t *testing.T) {
	var c connLimits
	c.init(100, 2)
	ip := netip.MustParseAddr
	if !c.acquire(ip("2001:db8:1:2::1")) || !c.acquire(ip("2001:db8:1:2:ffff::2")) {
		t.Fatal("under the limit")
	}
	if c.acquire(ip("2001:db8:1:2::3")) {
		t.Fatal("a third address of a full /64 was admitted")
	}
	if !c.acquire(ip("2001:db8:1:3::1")) {
		t.Fatal("the next /64 has its own count")
	}
	c.release(ip("2001:db8:1:2::1"))
	if !c.acquire(ip("2001:db8:1:2::99%eth0")) {
		t.Fatal("a released slot of the /64 is free again")
	}
	if !c.acquire(ip("::ffff:192.0.2.1")) || !c.acquire(ip("192.0.2.1")) || c.acquire(ip("::ffff:192.0.2.1")) {
		t.Fatal("IPv4-mapped and plain IPv4 are one address")
	}
}

func TestConnectionLimitTotal(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) { o.MaxConnections = 1 })
	a := ts.dial(t)
	mustSend(t, a, codec.EnquireLinkID, 1, nil)
	mustExpect(t, a, codec.EnquireLinkRespID, codec.StatusOK)
	b := ts.dial(t)
	mustClosed(t, b)
	if ts.Stats().Refused != 1 {
		t.Fatalf("refused %d", ts.Stats().Refused)
	}
}

func TestSlowConsumerClosedAtBacklogCap(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) { o.MaxOutboundBacklog = 64 << 10 })
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	nc, err := d.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var chunk []byte
	for i := 0; i < 4096; i++ {
		chunk = append(chunk, smpptest.Frame(codec.EnquireLinkID, 0, uint32(i+1), nil)...)
	}
	// Never read: responses pile up in the server until the cap closes us.
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) && ts.Stats().SlowConsumers == 0 {
		_ = nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := nc.Write(chunk); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			break
		}
	}
	eventually(t, "slow consumer closed", func() bool { return ts.Stats().SlowConsumers == 1 })
	ts.logs.waitLog(t, `"reason":"slow_consumer"`)
	// Others are still served.
	o := ts.dial(t)
	mustSend(t, o, codec.EnquireLinkID, 1, nil)
	mustExpect(t, o, codec.EnquireLinkRespID, codec.StatusOK)
}

func TestRegistryRoundRobinAndGenerations(t *testing.T) {
	var r registry
	l := &loop{}
	a, b := &session{gen: 3}, &session{gen: 7}
	r.add("u", l, a)
	r.add("u", l, b)
	got := map[*session]int{}
	for i := 0; i < 6; i++ {
		ref, ok, _ := r.pickWithRoom("u", 1)
		if !ok {
			t.Fatal("no session")
		}
		got[ref.s]++
		if ref.gen != ref.s.gen {
			t.Fatalf("gen %d for session at %d", ref.gen, ref.s.gen)
		}
	}
	if got[a] != 3 || got[b] != 3 {
		t.Fatalf("split %d/%d", got[a], got[b])
	}
	// A reused session (new generation) does not remove the old entry.
	a.gen++
	r.remove("u", a)
	if len(r.m["u"].refs) != 2 {
		t.Fatalf("stale remove took an entry: %d left", len(r.m["u"].refs))
	}
	a.gen--
	r.remove("u", a)
	r.remove("u", b)
	if _, ok, _ := r.pickWithRoom("u", 1); ok {
		t.Fatal("picked from an empty user")
	}
	if len(r.m) != 0 {
		t.Fatalf("empty entry kept: %v", r.m)
	}
}

// BenchmarkRegistryPickParallel is Server.Deliver's lookup from many
// goroutines at once (read lock plus an atomic cursor).
func BenchmarkRegistryPickParallel(b *testing.B) {
	var r registry
	l := &loop{}
	for i := 0; i < 4; i++ {
		r.add("user", l, &session{gen: uint32(i)})
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok, _ := r.pickWithRoom("user", 1); !ok {
				b.Error("no session")
				return
			}
		}
	})
}

func TestRegistrySkipsFullSessions(t *testing.T) {
	var r registry
	l := &loop{}
	a, b := &session{gen: 1}, &session{gen: 1}
	r.add("u", l, a)
	r.add("u", l, b)
	a.deliverPending.Store(4)
	for i := 0; i < 4; i++ {
		ref, found, room := r.pickWithRoom("u", 4)
		if !found || !room || ref.s != b {
			t.Fatalf("pick %d: found %v room %v session a=%v", i, found, room, ref.s == a)
		}
	}
	b.deliverPending.Store(4)
	if _, found, room := r.pickWithRoom("u", 4); !found || room {
		t.Fatalf("every session full: found %v room %v", found, room)
	}
}
