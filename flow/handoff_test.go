package flow

import (
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
)

// queuedAtAnswer records, for each deferred answer, how many messages its
// connector had been handed when the answer was posted.
type queuedAtAnswer struct {
	c  *fakeConn
	mu sync.Mutex
	n  []int
}

func (q *queuedAtAnswer) Respond(engine.SubmitToken, codec.Status, []byte) error {
	n := q.c.queued()
	q.mu.Lock()
	q.n = append(q.n, n)
	q.mu.Unlock()
	return nil
}

func (q *queuedAtAnswer) got() []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]int(nil), q.n...)
}

// A deferred submit's message reaches its connector after its answer, and
// not before the commit: each answer finds only the earlier messages
// handed over.
func TestHandOffFollowsTheAnswer(t *testing.T) {
	th, c, _ := durableHub(t, hubSpec{})
	out := &queuedAtAnswer{c: th.conns[0]}
	th.Attach(out)
	p := newUser(t, "alice", userSpec{})
	c.written.Store(10)
	for range 3 {
		if res := submitDeferred(th, p, sm("1", "491", "x")); !res.Deferred {
			t.Fatalf("not deferred: %+v", res)
		}
	}
	if n := th.conns[0].queued(); n != 0 {
		t.Fatalf("%d messages handed over before their commit", n)
	}
	c.commit(10)
	eventually(t, "answers", func() bool { return len(out.got()) == 3 })
	eventually(t, "hand-offs", func() bool { return th.conns[0].queued() == 3 })
	for i, n := range out.got() {
		if n != i {
			t.Fatalf("answer %d found %d messages handed over, want %d (%v)", i, n, i, out.got())
		}
	}
	// Durable at once: handed over during the submit.
	if res := submitDeferred(th, p, sm("1", "491", "x")); res.Deferred || th.conns[0].queued() != 4 {
		t.Fatalf("durable at once: %+v, queued %d", res, th.conns[0].queued())
	}
}

// Every destination of a deferred submit_multi goes after its one answer;
// the slots its refused destinations reserved are given back.
func TestHandOffMultiAfterTheAnswer(t *testing.T) {
	th, c, out := durableHub(t, hubSpec{mod: func(o *Options) { o.MaxDeferred = 3 }})
	p := newUser(t, "alice", userSpec{})
	c.written.Store(1)
	multi := &codec.SubmitMulti{SourceAddr: []byte("1"), ShortMessage: []byte("to all")}
	multi.Dests.AddSME(1, 1, []byte("491"))
	multi.Dests.AddSME(1, 1, []byte("")) // refused: no address
	multi.Dests.AddSME(1, 1, []byte("493"))
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65), Unsuccess: new(codec.UnsuccessList)}
	th.HandleSubmit(&engine.SubmitRequest{Command: codec.SubmitMultiID, SubmitMulti: multi, Principal: p.Bind}, res)
	if res.Status != codec.StatusOK || !res.Deferred || res.Unsuccess.Len() != 1 {
		t.Fatalf("submit_multi: %+v", res)
	}
	if th.conns[0].queued() != 0 {
		t.Fatal("a destination went before the answer")
	}
	if r := th.acks.reserved.Load(); r != 2 {
		t.Fatalf("%d slots held, want 2 (the answer with the first destination, the second)", r)
	}
	c.commit(1)
	eventually(t, "answer", func() bool { return len(out.got()) == 1 })
	eventually(t, "both destinations", func() bool { return th.conns[0].queued() == 2 })
	a, b := th.conns[0].pop(t), th.conns[0].pop(t)
	if string(a.Dest) != "491" || string(b.Dest) != "493" || a.ID != b.ID {
		t.Fatalf("handed %q %q", a.Dest, b.Dest)
	}
	if r := th.acks.reserved.Load(); r != 0 {
		t.Fatalf("%d slots still held", r)
	}
}

// A hand-off whose connector filled up since the submit's snapshot waits
// in the hub and goes once there is room: the message is answered and on
// disk, so it is neither refused nor failed.
func TestHandOffToAFullConnectorWaits(t *testing.T) {
	th, c, out := durableHub(t, hubSpec{})
	th.conns[0].cap = 1
	p := newUser(t, "alice", userSpec{})
	c.written.Store(1)
	for range 2 { // the queue is empty at both snapshots
		if res := submitDeferred(th, p, sm("1", "491", "x")); !res.Deferred {
			t.Fatalf("not deferred: %+v", res)
		}
	}
	c.commit(1)
	eventually(t, "answers", func() bool { return len(out.got()) == 2 })
	if th.conns[0].queued() != 1 || th.acks.overflow.Load() != 1 {
		t.Fatalf("queued %d, overflow %d", th.conns[0].queued(), th.acks.overflow.Load())
	}
	first := th.conns[0].pop(t)
	th.Accepted(first, nil)
	first.Release()
	// later offers it again laterRetry after a try that found no room.
	th.later.step(th.clock.Now().Add(time.Second).UnixNano())
	eventually(t, "the second handed over", func() bool { return th.conns[0].queued() == 1 })
}

// A message still waiting for its commit when the hub stops is let go, not
// failed: its record stays pending (and its charge boxed) for the next
// start's re-drive.
func TestHandOffLetGoAtStop(t *testing.T) {
	th, c, out := durableHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{receipts: true})
	c.written.Store(1)
	r := sm("1", "491", "x")
	r.RegisteredDelivery = 1
	res := submitDeferred(th, p, r)
	if !res.Deferred {
		t.Fatalf("not deferred: %+v", res)
	}
	id := mustID(t, string(res.MessageID))
	if err := th.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if th.conns[0].queued() != 0 || len(out.got()) != 0 {
		t.Fatalf("after stop: queued %d, answers %d", th.conns[0].queued(), len(out.got()))
	}
	if rec := th.store.record(t, id); rec.State != msg.StateEnroute {
		t.Fatalf("record %+v: not pending", rec)
	}
	if got := th.out.take(); len(got) != 0 {
		t.Fatalf("receipt sent for a message let go at stop: %d", len(got))
	}
	if th.live.with(id, func(*msg.Message) {}) {
		t.Fatal("the live index still holds the released message")
	}
}

// A helped connector gets the answered messages quietly (its worker is
// not woken for each commit): a loop's EndTurn helps it, and when no loop
// turns, the helper does, helpDelay after the hand-off.
func TestHandOffQuietThenHelped(t *testing.T) {
	th, c, out := durableHub(t, hubSpec{helped: true})
	hc := th.helped[0]
	p := newUser(t, "alice", userSpec{})
	c.written.Store(1)
	for range 3 {
		if res := submitDeferred(th, p, sm("1", "491", "x")); !res.Deferred {
			t.Fatalf("not deferred: %+v", res)
		}
	}
	helps := hc.helps.Load()
	c.commit(1)
	eventually(t, "answers", func() bool { return len(out.got()) == 3 })
	eventually(t, "hand-offs", func() bool { return th.conns[0].queued() == 3 })
	if q := hc.quietSubs.Load(); q != 3 {
		t.Fatalf("%d quiet hand-offs, want 3", q)
	}
	eventually(t, "the helper's help", func() bool { return hc.helps.Load() > helps })
	if th.cs().fed[0].v.Load() {
		t.Fatal("the connector is still marked fed after the help")
	}
}
