package flow

import (
	"testing"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
)

// A submit that may wait and finds its connector's room for the turn used
// up waits (the engine offers the PDU again), as for a full queue: the
// queue is full once the turn's batch goes. It is not refused
// ESME_RMSGQFUL, which queue_full_wait is there to spare the client; at
// the next turn, with room again, it goes.
func TestTurnBatchRoomUsedUpWaits(t *testing.T) {
	th := newHub(t, hubSpec{helped: true, batched: true})
	p := newUser(t, "alice", userSpec{})
	a := th.conns[0]
	a.cap = 2
	var l engine.LoopLocal
	submit := func(text string) *engine.SubmitResult {
		t.Helper()
		req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: p.SystemID(), SubmitSM: sm("1", "2", text),
			Principal: p.Bind, TurnEnd: true, Loop: &l, MayWait: true}
		res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
		th.HandleSubmit(req, res)
		return res
	}
	for _, text := range []string{"a", "b"} {
		if res := submit(text); res.Status != codec.StatusOK || res.Wait {
			t.Fatalf("submit %q with room: status %v, wait %v", text, res.Status, res.Wait)
		}
	}
	if res := submit("c"); !res.Wait {
		t.Fatalf("submit past the turn's room: status %v, wait %v; want a wait", res.Status, res.Wait)
	}
	if s := th.Stats(); s.QueueFull != 0 {
		t.Fatalf("%d queue-full refusals for a submit that waits", s.QueueFull)
	}
	th.EndTurnOn(&l)
	if a.queued() != 2 {
		t.Fatalf("%d queued after the turn, want 2", a.queued())
	}
	if res := submit("c"); !res.Wait { // the queue full: it waits again
		t.Fatalf("submit to the full queue: status %v, wait %v; want a wait", res.Status, res.Wait)
	}
	th.EndTurnOn(&l)
	a.pop(t).Release()
	if res := submit("c"); res.Status != codec.StatusOK || res.Wait {
		t.Fatalf("submit with room again: status %v, wait %v", res.Status, res.Wait)
	}
	th.EndTurnOn(&l)
	if a.queued() != 2 {
		t.Fatalf("%d queued, want 2", a.queued())
	}
}
