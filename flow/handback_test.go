package flow

import (
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
)

// takeBack: a message its down connector held unsent goes to the shared
// queue (claimed, out of the live index); a cancelled one, one not due
// yet, or one the queue refuses stays in the connector, still queued; one
// this node pulled goes back to its queue (its token given back).
func TestTakeBack(t *testing.T) {
	th, fs, _ := sharedHub(t)
	fs.up = true
	m := queued(th, 90)
	if !th.takeBack(m) || len(fs.items) != 1 || m.Phase() != msg.PhaseSending || th.live.with(90, func(*msg.Message) {}) {
		t.Fatalf("held message: spilled %d, phase %v", len(fs.items), m.Phase())
	}
	if id, _ := SpilledID(fs.items[0]); id != 90 {
		t.Fatalf("spilled id %v", id)
	}
	m.Release()

	m = queued(th, 91)
	if !th.live.cancel(91) || th.takeBack(m) || m.Phase() != msg.PhaseCancelled {
		t.Fatalf("a cancelled message taken back (phase %v)", m.Phase())
	}
	m = queued(th, 92)
	m.Schedule = time.Now().Add(time.Hour).UnixNano()
	if th.takeBack(m) || m.Phase() != msg.PhaseQueued {
		t.Fatalf("a message not due taken back (phase %v)", m.Phase())
	}
	fs.full = true
	m = queued(th, 93)
	if th.takeBack(m) || m.Phase() != msg.PhaseQueued || !th.live.with(93, func(*msg.Message) {}) {
		t.Fatalf("a message the queue refused taken back (phase %v)", m.Phase())
	}
	fs.full = false

	m = queued(th, 94)
	k := &token{}
	th.shared.pulls.put(94, k)
	if !th.takeBack(m) || len(fs.items) != 1 {
		t.Fatalf("a pulled message not given back (spilled %d)", len(fs.items)-1)
	}
	if d := k.settled(); len(d) != 1 || !d[0] {
		t.Fatalf("pulled message's token settled %v, want given back", d)
	}
	m.Release()
	if s := th.SharedStats(); s.HeldSpilled != 1 || s.HeldReturned != 1 || s.Spilled != 1 {
		t.Fatalf("stats %+v", s)
	}
}
