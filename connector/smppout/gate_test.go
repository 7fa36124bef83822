package smppout

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/msg"
)

// The bind gate holds the binds past it back; raised, they bind; lowered
// while submits are in flight, the sessions past it finish those first
// (every message accepted, none failed) and then unbind.
func TestBindGate(t *testing.T) {
	var gate atomic.Int32
	gate.Store(1)
	e := setup(t, smsctest.Options{Default: smsctest.Action{Hold: true}},
		Options{Binds: 3, Window: 2, EnquireLink: 200 * time.Millisecond, BindGate: func() int { return int(gate.Load()) },
			BindGateRaise: 100 * time.Millisecond})
	eventually(t, "one bind", func() bool { return e.srv.Bound() == 1 })
	time.Sleep(4 * gateWait)
	if n := e.srv.Bound(); n != 1 || e.c.Stats().Binds != 1 {
		t.Fatalf("%d bound past a gate of 1", n)
	}
	gate.Store(3)
	eventually(t, "three binds", func() bool { return e.srv.Bound() == 3 && e.c.Stats().Binds == 3 })
	for i := 1; i <= 6; i++ {
		e.submit(t, newMsg(msg.ID(i), "4917", "g"))
	}
	eventually(t, "six held, two per bind", func() bool { return e.srv.Held() == 6 })
	gate.Store(1)
	time.Sleep(300 * time.Millisecond) // several ticks: the binds past the gate still have submits in flight
	if n := e.srv.Bound(); n != 3 {
		t.Fatalf("%d bound: a bind past the gate left with submits in flight", n)
	}
	for a, _, _, _ := e.sink.counts(); a < 6; a, _, _, _ = e.sink.counts() {
		if e.srv.ReleaseHeld() == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	eventually(t, "back to one bind", func() bool { return e.srv.Bound() == 1 && e.c.Stats().Binds == 1 })
	for i := 7; i <= 10; i++ {
		e.submit(t, newMsg(msg.ID(i), "4917", "g"))
	}
	for a, _, _, _ := e.sink.counts(); a < 10; a, _, _, _ = e.sink.counts() {
		if e.srv.ReleaseHeld() == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if a, f, _, _ := e.sink.counts(); a != 10 || f != 0 || e.srv.Bound() != 1 {
		t.Fatalf("accepted %d, failed %d, bound %d", a, f, e.srv.Bound())
	}
}

// With tx+rx a transmitter and its receiver pass the gate together.
func TestBindGatePairs(t *testing.T) {
	e := setup(t, smsctest.Options{}, Options{BindMode: TxRx, Binds: 2, BindGate: func() int { return 1 }, BindGateRaise: time.Millisecond})
	eventually(t, "one pair", func() bool {
		return e.srv.BoundOf(codec.BindTransmitterID) == 1 && e.srv.BoundOf(codec.BindReceiverID) == 1
	})
	time.Sleep(4 * gateWait)
	if n := e.srv.Bound(); n != 2 {
		t.Fatalf("%d bound, want one pair", n)
	}
}

// cluster_binds: refused past its range; built into a gate that asks the
// node's share (connector.Build.BindShare), or the whole limit alone.
func TestClusterBindsSetting(t *testing.T) {
	s := DefaultSettings()
	s.Host, s.SystemID = "127.0.0.1", "up"
	for _, v := range []int{-1, 4097} {
		s.ClusterBinds = v
		var c connector.Check
		Kind.Validate(&s, &c)
		if len(c.Problems) != 1 || c.Problems[0].Key != "cluster_binds" {
			t.Errorf("cluster_binds %d: %+v", v, c.Problems)
		}
	}
	s.ClusterBinds = 0
	if c, err := Kind.Build(&s, connector.Build{Name: "up", Queue: 8, IDMap: newMapIDs()}); err != nil || c.(*Connector).c.opts.BindGate != nil {
		t.Fatalf("cluster_binds 0 built a gate: %v", err)
	}
	s.ClusterBinds = 5
	asked := 0
	c, err := Kind.Build(&s, connector.Build{Name: "up", Queue: 8, IDMap: newMapIDs(),
		BindShare: func(limit, perBind int) int { asked = limit * perBind; return 2 }})
	if err != nil {
		t.Fatal(err)
	}
	if g := c.(*Connector).c.opts.BindGate(); g != 2 || asked != 5 {
		t.Fatalf("gate %d, share asked for %d", g, asked)
	}
	c, _ = Kind.Build(&s, connector.Build{Name: "up", Queue: 8, IDMap: newMapIDs()})
	if g := c.(*Connector).c.opts.BindGate(); g != 5 {
		t.Fatalf("one node's gate %d, want the limit", g)
	}
}

// The count in force: lower at once, higher only once asked for the whole
// raise delay without a break.
func TestBindGateCount(t *testing.T) {
	var g bindGate
	ms := int64(time.Millisecond)
	for _, c := range []struct {
		answer int
		at     int64
		want   int
	}{{2, 1 * ms, 0}, {2, 50 * ms, 0}, {2, 101 * ms, 2}, {3, 110 * ms, 2}, {2, 150 * ms, 2}, {3, 160 * ms, 2},
		{3, 259 * ms, 2}, {3, 260 * ms, 3}, {1, 261 * ms, 1}, {0, 262 * ms, 0}} {
		if got := g.count(c.answer, c.at, 100*time.Millisecond); got != c.want {
			t.Fatalf("answer %d at %d ms: %d, want %d", c.answer, c.at/ms, got, c.want)
		}
	}
}
