package connector_test

import (
	"context"
	"testing"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// TestPurgeQueued: what waits in the queue is failed at once, what the
// driver holds stays until Stop, and a stopped connector purges nothing.
func TestPurgeQueued(t *testing.T) {
	const now = int64(1_000_000)
	rt := newInstant(t, connector.Options{Name: "x", Queue: 8, Manual: true, Clock: func() int64 { return now }}, true, 0)
	s := &recSink{}
	if err := rt.Start(s); err != nil {
		t.Fatal(err)
	}
	for range 6 {
		if !rt.Submit(msg.NewMessage()) {
			t.Fatal("Submit refused")
		}
	}
	rt.Step(now) // the stalled driver takes 4
	if n := rt.PurgeQueued(); n != 2 {
		t.Fatalf("purged %d, want 2", n)
	}
	if len(s.states) != 2 || s.states[0] != msg.StateUnknown || s.events[1] != "failed" {
		t.Fatalf("reported %v %v", s.events, s.states)
	}
	if st := rt.Stats(); st.Queued != 4 || st.Submitted != 6 {
		t.Fatalf("stats after the purge %+v", st)
	}
	if err := rt.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := rt.PurgeQueued(); n != 0 || len(s.states) != 6 {
		t.Fatalf("after Stop: purged %d, reported %d", n, len(s.states))
	}
}
