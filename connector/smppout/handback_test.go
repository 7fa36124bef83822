package smppout

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/msg"
)

// TestHandBackWhileDown: with the upstream gone, HandBack gives up the
// messages that never reached it, in arrival order, and keeps those it may
// have taken (sent, unanswered when the connection died) and those the
// taker refuses; a taken one is never reported, the kept ones are at the
// stop: each message once, one way or the other.
func TestHandBackWhileDown(t *testing.T) {
	e := setup(t, smsctest.Options{Default: smsctest.Action{Hold: true}}, Options{})
	e.waitUp(t)
	var none []msg.ID
	if n := e.c.HandBack(func(m *msg.Message) bool { none = append(none, m.ID); return true }); n != 0 || none != nil {
		t.Fatalf("up: handed back %d (%v)", n, none)
	}
	e.submit(t, newMsg(1, "491701", "a"))
	e.submit(t, newMsg(2, "491702", "b"))
	eventually(t, "two submits held upstream", func() bool { return e.srv.Held() == 2 })
	_ = e.srv.Close() // the upstream gone: the two in flight may have been taken
	eventually(t, "connector down", func() bool { return !e.c.Up() })
	for id := msg.ID(3); id <= 6; id++ {
		e.submit(t, newMsg(id, "49170"+string(rune('0'+id)), "c"))
	}
	eventually(t, "six held by the connector", func() bool { return e.c.Stats().Queued == 6 })

	var took []msg.ID
	n := e.c.HandBack(func(m *msg.Message) bool {
		if m.ID == 6 {
			return false // the taker cannot take it (a spill refused): it stays
		}
		took = append(took, m.ID)
		return true
	})
	if n != 3 || !slices.Equal(took, []msg.ID{3, 4, 5}) {
		t.Fatalf("handed back %d: %v, want 3, 4, 5", n, took)
	}
	if st := e.c.Stats(); st.HandedBack != 3 || st.Queued != 3 {
		t.Fatalf("handed back %d, queued %d; want 3 and 3", st.HandedBack, st.Queued)
	}
	if a, f, _, _ := e.sink.counts(); a != 0 || f != 0 {
		t.Fatalf("reported %d accepted, %d failed while down", a, f)
	}
	// The upstream is gone: the stop's drain waits for nothing (cut short
	// at once), and what is left is reported.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = e.c.Stop(ctx)
	var failed []msg.ID
	for _, f := range e.sink.failures() {
		failed = append(failed, f.id)
	}
	slices.Sort(failed)
	if !slices.Equal(failed, []msg.ID{1, 2, 6}) {
		t.Fatalf("reported at the stop: %v, want 1, 2 and 6 (the handed back ones never)", failed)
	}
	if n := e.c.HandBack(func(*msg.Message) bool { return true }); n != 0 {
		t.Fatalf("stopped: handed back %d", n)
	}
}

// TestHandBackKeepsOrder: what a hand-back leaves in the dispatcher's
// heap (retries, schedules) still comes out earliest first.
func TestHandBackKeepsOrder(t *testing.T) {
	var d dispatcher
	d.init(16)
	for _, nb := range []int64{50, 10, 40, 20, 30, 60, 5} {
		d.heapPush(&job{notBefore: nb})
	}
	kept := d.heap[:0]
	for _, j := range d.heap {
		if j.notBefore != 20 && j.notBefore != 5 {
			kept = append(kept, j)
		}
	}
	d.heap = kept
	d.heapInit()
	var got []int64
	for len(d.heap) > 0 {
		got = append(got, d.heapPop().notBefore)
	}
	if !slices.Equal(got, []int64{10, 30, 40, 50, 60}) {
		t.Fatalf("popped %v", got)
	}
}
