package flow

import (
	"testing"

	"github.com/smppd/smppd/codec"
)

// directSubmit runs SubmitDirect for p with a fresh id.
func directSubmit(t *testing.T, th *testHub, p principal) {
	t.Helper()
	if st, r := th.SubmitDirect(&DirectRequest{User: p.Bind.User(), SM: sm("1", "491", "x"), ID: th.NextID()}); st != codec.StatusOK {
		t.Fatalf("SubmitDirect: %v %v", st, r)
	}
}

// A direct (HTTP) submit whose record is not durable yet reaches its
// connector only once the store commits it, in order, without an answer
// of its own; one whose writes are durable already goes at once. Before,
// the connector had it at the submit.
func TestDirectHandedOverAtCommit(t *testing.T) {
	th, c, out := durableHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{})
	c.written.Store(10)
	for range 3 {
		directSubmit(t, th, p)
	}
	if n := th.conns[0].queued(); n != 0 {
		t.Fatalf("%d messages handed over before their commit", n)
	}
	c.commit(10)
	eventually(t, "hand-offs", func() bool { return th.conns[0].queued() == 3 })
	if got := out.got(); len(got) != 0 {
		t.Fatalf("direct submits answered through the engine: %v", got)
	}
	if s := th.Stats(); s.Deferred != 0 {
		t.Fatalf("deferred answers counted for direct submits: %d", s.Deferred)
	}
	// Durable at once: handed over during the submit.
	directSubmit(t, th, p)
	if n := th.conns[0].queued(); n != 4 {
		t.Fatalf("durable at once: queued %d, want 4", n)
	}
	if n := th.acks.reserved.Load(); n != 0 {
		t.Fatalf("%d slots still reserved", n)
	}
}

// Direct submits and deferred SMPP answers share the FIFO: each message
// goes after the SMPP answers queued before it, and a full FIFO refuses a
// direct submit as it refuses a submit_sm (503 for the HTTP client), with
// nothing taken.
func TestDirectSharesTheAnswersFIFO(t *testing.T) {
	th, c, out := durableHub(t, hubSpec{mod: func(o *Options) { o.MaxDeferred = 2 }})
	p := newUser(t, "alice", userSpec{})
	c.written.Store(5)
	if res := submitDeferred(th, p, sm("1", "491", "x")); !res.Deferred {
		t.Fatalf("not deferred: %+v", res)
	}
	directSubmit(t, th, p)
	st, r := th.SubmitDirect(&DirectRequest{User: p.Bind.User(), SM: sm("1", "491", "x"), ID: th.NextID()})
	if st != RefuseStorage.status() || r != RefuseStorage {
		t.Fatalf("third with MaxDeferred 2: %v %v", st, r)
	}
	if n := th.conns[0].queued(); n != 0 {
		t.Fatalf("%d messages handed over before their commit", n)
	}
	c.commit(5)
	eventually(t, "answer and hand-offs", func() bool { return len(out.got()) == 1 && th.conns[0].queued() == 2 })
	if n := th.acks.reserved.Load(); n != 0 {
		t.Fatalf("%d slots still reserved", n)
	}
}

// A direct submit's message still waiting for its commit when the hub
// stops is let go: its record stays for the next start, its connector
// never had it.
func TestDirectWaitingAtStopStaysPending(t *testing.T) {
	th, c, _ := durableHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{})
	c.written.Store(7)
	directSubmit(t, th, p)
	if err := th.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := th.conns[0].queued(); n != 0 {
		t.Fatalf("%d messages handed over without a commit", n)
	}
	if n := th.live.len(); n != 0 {
		t.Fatalf("%d messages still in the live index after stop", n)
	}
}

// A message kept in a DirectHold (the HTTP API's) stays from its connector
// after its commit, until its caller released it having answered; one
// released without an answer (a failed wait, a refused later part) goes
// at the commit that covers it.
func TestDirectHoldReleasedAfterTheAnswer(t *testing.T) {
	th, c, _ := durableHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{})
	var d DirectHold
	held := func() {
		t.Helper()
		req := &DirectRequest{User: p.Bind.User(), SM: sm("1", "491", "x"), ID: th.NextID(), Hold: &d}
		if st, r := th.SubmitDirect(req); st != codec.StatusOK {
			t.Fatalf("SubmitDirect: %v %v", st, r)
		}
	}
	c.written.Store(10)
	held()
	held()
	c.commit(10)
	if n := th.conns[0].queued(); n != 0 {
		t.Fatalf("%d held messages handed over before their release", n)
	}
	th.Release(&d, true)
	if n := th.conns[0].queued(); n != 2 {
		t.Fatalf("released after the answer: queued %d, want 2", n)
	}
	if len(d.hands) != 0 || d.pos != 0 {
		t.Fatalf("hold not emptied: %d messages, pos %d", len(d.hands), d.pos)
	}
	c.written.Store(20)
	held()
	th.Release(&d, false)
	if n := th.conns[0].queued(); n != 2 {
		t.Fatalf("released unanswered before its commit: queued %d, want 2", n)
	}
	c.commit(20)
	eventually(t, "hand-off at the commit", func() bool { return th.conns[0].queued() == 3 })
	if n := th.acks.reserved.Load(); n != 0 {
		t.Fatalf("%d slots still reserved", n)
	}
}
