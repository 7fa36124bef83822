package flow

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

type countObserver struct{ n atomic.Int64 }

func (o *countObserver) Observe(float64) { o.n.Add(1) }

func TestUserStatsAndLatencies(t *testing.T) {
	st := newMemStore()
	accepted, receipts := &countObserver{}, &countObserver{}
	e := startEnv(t, envSpec{routes: defaultRoutes("up"), msgs: st, holds: st,
		connectors: []connector.Connector{newChanConn("up", 64, msg.StateDelivered)},
		mod: func(o *Options) {
			o.AcceptLatency = []Observer{accepted}
			o.ReceiptLatency = []Observer{receipts}
		}})
	e.addUser(t, "alice", userSpec{receipts: true})
	e.addUser(t, "bob", userSpec{})
	alice := e.bind(t, codec.BindTransceiverID, "alice")
	bob := e.bind(t, codec.BindTransmitterID, "bob")

	long := sm("1", "2", "")
	long.TLVs.Add(codec.TagMessagePayload, []byte(strings.Repeat("x", 200))) // 2 parts
	long.RegisteredDelivery = 1
	status, _ := alice.submit(long)
	wantStatus(t, status, codec.StatusOK)
	alice.deliver(codec.StatusOK) // the receipt, acknowledged
	status, _ = alice.submit(sm("1", "", "no destination"))
	wantStatus(t, status, codec.StatusInvDstAdr)
	status, _ = bob.submit(sm("1", "2", "one part"))
	wantStatus(t, status, codec.StatusOK)

	eventually(t, "receipt acknowledged", func() bool {
		us := e.hub.UserStats()
		return len(us) == 2 && us[0].Receipts == 1
	})
	eventually(t, "both accepted upstream", func() bool { return accepted.n.Load() == 2 })
	us := e.hub.UserStats()
	a, b := us[0], us[1]
	if a.SystemID != "alice" || a.Submits != 1 || a.Parts != 2 || a.RefusedBy(RefuseDest) != 1 || a.MO != 0 {
		t.Fatalf("alice %+v", a)
	}
	if b.SystemID != "bob" || b.Submits != 1 || b.Parts != 1 || b.Receipts != 0 {
		t.Fatalf("bob %+v", b)
	}
	if receipts.n.Load() != 1 {
		t.Fatalf("receipt latency samples %d, want 1", receipts.n.Load())
	}
}

func TestUserTableSharesCounters(t *testing.T) {
	var tb userTable
	a := tb.get("a")
	if tb.get("b") == a || tb.get("a") != a {
		t.Fatal("one counter set per system_id")
	}
	if n := testing.AllocsPerRun(100, func() { tb.get("a").receipts.Add(1) }); n != 0 {
		t.Fatalf("lookup allocates %v times", n)
	}
}

// A scratch remembers the last user's counters; users taking turns on it
// still get each their own, the table's.
func TestScratchCountersFollowTheUser(t *testing.T) {
	var tb userTable
	var sc submitScratch
	for _, id := range []string{"a", "a", "b", "a", "b", "b", "c", "a"} {
		if got, want := sc.counters(&tb, id), tb.get(id); got != want {
			t.Fatalf("counters(%q) = %p, the table's %p", id, got, want)
		}
	}
	if sc.counters(&tb, "a") == sc.counters(&tb, "b") {
		t.Fatal("two users share counters")
	}
	if n := testing.AllocsPerRun(100, func() { sc.counters(&tb, "a").receipts.Add(1) }); n != 0 {
		t.Fatalf("a repeated user allocates %v times", n)
	}
}
