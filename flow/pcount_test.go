package flow

import (
	"testing"

	"github.com/smppd/smppd/internal/percpu"
)

// The hub's accepted count and a user's submits and parts are counted per P
// and read back summed, without allocating per message.
func TestAcceptedCountsPerP(t *testing.T) {
	var h Hub
	h.stats.init()
	var tb userTable
	u := tb.get("alice")
	count := func() {
		p := percpu.Pin()
		h.stats.accepted.AddOn(p, 1, 0)
		u.sent.AddOn(p, 1, 2)
		percpu.Unpin()
	}
	if n := testing.AllocsPerRun(1000, count); n != 0 {
		t.Fatalf("counting allocates %v times", n)
	}
	u.parts.Add(5) // a replace_sm's extra parts
	if got := h.Stats().SubmitsAccepted; got != 1001 {
		t.Fatalf("SubmitsAccepted = %d, want 1001", got)
	}
	h.ustats.m.Store(tb.m.Load())
	st := h.UserStats()
	if len(st) != 1 || st[0].Submits != 1001 || st[0].Parts != 2*1001+5 {
		t.Fatalf("UserStats = %+v, want 1001 submits of 2007 parts", st)
	}
}
