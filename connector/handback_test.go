package connector_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// holder holds what it is sent, up to room messages, until it is stopped,
// and hands back (connector.HandingBack) what the taker takes.
type holder struct {
	connector.BuiltinDriver
	rt   *connector.Runtime
	room int
	held []*msg.Message
}

func (d *holder) Send(batch []*msg.Message, _ int64) { d.held = append(d.held, batch...) }
func (d *holder) Room() int                          { return d.room - len(d.held) }

func (d *holder) Close(now int64) {
	for _, m := range d.held {
		d.rt.Abandon(m, now)
	}
	d.held = nil
}

func (d *holder) HandBack(give func(*msg.Message) bool) int {
	n := 0
	kept := d.held[:0]
	for _, m := range d.held {
		if give(m) {
			n++
			continue
		}
		kept = append(kept, m)
	}
	clear(d.held[len(kept):])
	d.held = kept
	return n
}

// Runtime.HandBack gives the taker what the driver holds, then moves what
// waits in the queue into the room that freed and gives that too; a
// message the taker refuses stays, the rest of the queue waits for the
// next call. What was handed back is never reported; the rest is, once,
// at the stop. A driver that cannot hand back, or a connector not
// running, hands back nothing.
func TestRuntimeHandBackTakesTheQueueToo(t *testing.T) {
	const now = int64(1_000_000)
	d := &holder{room: 4}
	rt, err := connector.New(connector.Options{Name: "x", Queue: 16, Manual: true, Clock: func() int64 { return now }}, d)
	if err != nil {
		t.Fatal(err)
	}
	d.rt = rt
	take := func(m *msg.Message) bool { return false }
	if n := rt.HandBack(take); n != 0 {
		t.Fatalf("handed back %d before the start", n)
	}
	s := &recSink{}
	if err := rt.Start(s); err != nil {
		t.Fatal(err)
	}
	for id := msg.ID(1); id <= 10; id++ {
		m := msg.NewMessage()
		m.ID = id
		if !rt.Submit(m) {
			t.Fatalf("Submit %d refused", id)
		}
	}
	rt.Step(now) // 1-4 into the driver, 5-10 queued
	var took []msg.ID
	n := rt.HandBack(func(m *msg.Message) bool {
		if m.ID == 2 {
			return false // the taker cannot take it: it stays
		}
		took = append(took, m.ID) // m is released once take returns
		return true
	})
	if want := []msg.ID{1, 3, 4, 5, 6, 7}; n != len(want) || !slices.Equal(took, want) {
		t.Fatalf("handed back %d: %v, want %v", n, took, want)
	}
	if st := rt.Stats(); st.HandedBack != 6 || st.Queued != 4 || st.Submitted != 7 {
		t.Fatalf("stats %+v: want 6 handed back, 4 queued (2 held, 8-10 queued), 7 taken off the queue", st)
	}
	if len(s.events) != 0 {
		t.Fatalf("reported %v for what was handed back or kept", s.events)
	}
	if n := newInstant(t, connector.Options{Name: "y", Queue: 4}, false, 0).HandBack(take); n != 0 {
		t.Fatalf("a driver that cannot hand back handed back %d", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := rt.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.events) != 4 || slices.ContainsFunc(s.events, func(e string) bool { return e != "failed" }) {
		t.Fatalf("at the stop: %v, want 4 failed (2, 8, 9, 10)", s.events)
	}
	if n := rt.HandBack(func(*msg.Message) bool { return true }); n != 0 {
		t.Fatalf("handed back %d after the stop", n)
	}
}
