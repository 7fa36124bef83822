package flow

import (
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

// batchConn is a helpedConn that takes batches (connector.Batcher); its
// batches count in helpedConn.quietSubs, one per batch.
type batchConn struct{ *helpedConn }

func (c *batchConn) Free() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.racing {
		return 0
	}
	if c.cap == 0 {
		return 1 << 16
	}
	return max(c.cap-len(c.q), 0)
}

func (c *batchConn) SubmitQuietBatch(ms []*msg.Message) int {
	c.quietSubs.Add(1)
	n := 0
	for n < len(ms) && c.fakeConn.Submit(ms[n]) {
		n++
	}
	return n
}

var _ connector.Batcher = (*batchConn)(nil)

// turnSubmit is one submit_sm as the engine hands it in a loop's turn.
func (th *testHub) turnSubmit(t *testing.T, l *engine.LoopLocal, p principal, text string) codec.Status {
	t.Helper()
	req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: p.SystemID(), SubmitSM: sm("1", "2", text),
		Principal: p.Bind, TurnEnd: true, Loop: l}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	th.HandleSubmit(req, res)
	return res.Status
}

// A turn's messages go to their connector at the turn's end, in one
// batch, in order, and the connector is helped once.
func TestTurnBatchAtEndTurn(t *testing.T) {
	th := newHub(t, hubSpec{helped: true, batched: true})
	p := newUser(t, "alice", userSpec{})
	a, hc := th.conns[0], th.helped[0]
	var l engine.LoopLocal
	for i := range 5 {
		wantStatus(t, th.turnSubmit(t, &l, p, string(rune('a'+i))), codec.StatusOK)
	}
	if a.queued() != 0 || hc.quietSubs.Load() != 0 || hc.helps.Load() != 0 {
		t.Fatalf("before the turn's end: %d queued, %d batches, %d helps", a.queued(), hc.quietSubs.Load(), hc.helps.Load())
	}
	th.EndTurnOn(&l)
	if a.queued() != 5 || hc.quietSubs.Load() != 1 || hc.helps.Load() != 1 {
		t.Fatalf("after the turn's end: %d queued, %d batches, %d helps; want 5, 1, 1", a.queued(), hc.quietSubs.Load(), hc.helps.Load())
	}
	for i := range 5 {
		if m := a.pop(t); string(m.ShortMessage) != string(rune('a'+i)) {
			t.Fatalf("message %d is %q: out of order", i, m.ShortMessage)
		}
	}
	th.EndTurnOn(&l) // an empty turn hands nothing and helps nobody
	if hc.quietSubs.Load() != 1 || hc.helps.Load() != 1 {
		t.Fatalf("an empty turn: %d batches, %d helps", hc.quietSubs.Load(), hc.helps.Load())
	}
}

// A connector's room is read at its first message of the turn and counted
// down: past it the failover takes the messages (one batch each), and
// with no failover left the submit is refused at once, as for a full queue.
func TestTurnBatchRoomAndFailover(t *testing.T) {
	th := newHub(t, hubSpec{helped: true, batched: true, conns: 2, routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "fo", Kind: "failover", Connectors: []string{"a", "b"}}},
	}})
	p := newUser(t, "alice", userSpec{})
	a, b := th.conns[0], th.conns[1]
	a.cap, b.cap = 3, 2
	var l engine.LoopLocal
	for i := range 5 {
		wantStatus(t, th.turnSubmit(t, &l, p, string(rune('a'+i))), codec.StatusOK)
	}
	wantStatus(t, th.turnSubmit(t, &l, p, "f"), codec.StatusMsgQFul)
	th.EndTurnOn(&l)
	if a.queued() != 3 || b.queued() != 2 {
		t.Fatalf("a %d b %d queued, want 3 and 2", a.queued(), b.queued())
	}
	if th.helped[0].quietSubs.Load() != 1 || th.helped[1].quietSubs.Load() != 1 {
		t.Fatalf("batches a %d b %d, want 1 each", th.helped[0].quietSubs.Load(), th.helped[1].quietSubs.Load())
	}
	if s := th.Stats(); s.Failovers != 2 || s.QueueFull != 1 {
		t.Fatalf("failovers %d queue full %d, want 2 and 1", s.Failovers, s.QueueFull)
	}
	for i := range 3 {
		if m := a.pop(t); string(m.ShortMessage) != string(rune('a'+i)) {
			t.Fatalf("a's message %d is %q", i, m.ShortMessage)
		}
	}
	for i := range 2 {
		if m := b.pop(t); string(m.ShortMessage) != string(rune('d'+i)) {
			t.Fatalf("b's message %d is %q", i, m.ShortMessage)
		}
	}
}

// Messages that others' pushes crowd out of the queue by the turn's end
// were answered already: they wait in later (counted as hand-off waits)
// and go when the queue has room again.
func TestTurnBatchCrowdedOut(t *testing.T) {
	th := newHub(t, hubSpec{helped: true, batched: true})
	p := newUser(t, "alice", userSpec{})
	a := th.conns[0]
	a.cap = 3
	var l engine.LoopLocal
	for i := range 3 {
		wantStatus(t, th.turnSubmit(t, &l, p, string(rune('a'+i))), codec.StatusOK)
	}
	other := msg.NewMessage() // another loop's push meanwhile
	if !a.Submit(other) {
		t.Fatal("the queue had no room")
	}
	th.EndTurnOn(&l)
	if a.queued() != 3 || th.Stats().HandOffWaits != 1 {
		t.Fatalf("%d queued, %d hand-off waits; want 3 and 1", a.queued(), th.Stats().HandOffWaits)
	}
	if th.later.len() != 1 {
		t.Fatalf("later holds %d, want 1", th.later.len())
	}
	a.pop(t).Release()
	th.later.step(th.clock.Now().Add(time.Minute).UnixNano()) // past any retry its goroutine scheduled
	if a.queued() != 3 || th.later.len() != 0 {
		t.Fatalf("after later's step: %d queued, later holds %d; want 3 and 0", a.queued(), th.later.len())
	}
}

// When the turn has used up the room its connector had, what it holds for
// that connector goes at once and the queue is read again: room freed
// meanwhile (the worker took messages) takes the message, in this turn.
func TestTurnBatchRoomReadAgain(t *testing.T) {
	th := newHub(t, hubSpec{helped: true, batched: true})
	p := newUser(t, "alice", userSpec{})
	a, hc := th.conns[0], th.helped[0]
	a.cap = 2
	var l engine.LoopLocal
	for _, text := range []string{"a", "b"} {
		wantStatus(t, th.turnSubmit(t, &l, p, text), codec.StatusOK)
	}
	a.mu.Lock()
	a.cap = 4 // room freed after the turn read it
	a.mu.Unlock()
	wantStatus(t, th.turnSubmit(t, &l, p, "c"), codec.StatusOK)
	if a.queued() != 2 || hc.quietSubs.Load() != 1 {
		t.Fatalf("room used up: %d queued in %d batches, want the turn's 2 in 1", a.queued(), hc.quietSubs.Load())
	}
	th.EndTurnOn(&l)
	if a.queued() != 3 || hc.quietSubs.Load() != 2 || th.Stats().HandOffWaits != 0 {
		t.Fatalf("after the turn: %d queued in %d batches, %d hand-off waits; want 3, 2, 0",
			a.queued(), hc.quietSubs.Load(), th.Stats().HandOffWaits)
	}
	for _, want := range []string{"a", "b", "c"} {
		if m := a.pop(t); string(m.ShortMessage) != want {
			t.Fatalf("queued %q, want %q: out of order", m.ShortMessage, want)
		}
	}
}

// A loop's requests share the loop's scratch, given back clear after each;
// a request while it is in use (none today: a loop runs one at a time)
// takes a pooled one.
func TestTurnScratchIsTheLoops(t *testing.T) {
	th := newHub(t, hubSpec{helped: true, batched: true})
	p := newUser(t, "alice", userSpec{})
	var l engine.LoopLocal
	wantStatus(t, th.turnSubmit(t, &l, p, "a"), codec.StatusOK)
	tb := turnOf(&l)
	sc := tb.sc
	if sc == nil || tb.scBusy {
		t.Fatalf("after a request: the loop's scratch %p, busy %v", sc, tb.scBusy)
	}
	if sc.sub.sm != nil || sc.sub.turn != nil || sc.rec.ID != 0 {
		t.Fatal("the loop's scratch keeps the request's views")
	}
	wantStatus(t, th.turnSubmit(t, &l, p, "b"), codec.StatusOK)
	if tb.sc != sc {
		t.Fatal("the second request made another scratch")
	}
	first := th.takeScratch(tb)
	second := th.takeScratch(tb)
	if first != sc || second == sc || !tb.scBusy {
		t.Fatalf("busy loop scratch: first %p, second %p, the loop's %p", first, second, sc)
	}
	th.putScratch(second, tb)
	if !tb.scBusy {
		t.Fatal("a pooled scratch's return freed the loop's")
	}
	th.putScratch(first, tb)
	if tb.scBusy {
		t.Fatal("the loop's scratch stays busy")
	}
	th.EndTurnOn(&l)
}
