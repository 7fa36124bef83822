package engine

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// A handler that asks to wait gets the same PDU again after a tick; the
// ESME sees one answer, in order, and the PDU is counted once.
func TestQueueFullWaitHoldsThenAnswers(t *testing.T) {
	t.Parallel()
	var calls, waits atomic.Int32
	ts := start(t, func(o *Options) {
		o.QueueFullWait = 5 * time.Second
		o.Submit = submitFunc(func(req *SubmitRequest, res *SubmitResult) {
			calls.Add(1)
			if req.Now.IsZero() {
				res.Status = codec.StatusSysErr // the engine must pass its clock reading
				return
			}
			if req.Sequence == 10 && waits.Load() < 3 {
				if !req.MayWait {
					res.Status = codec.StatusMsgQFul
					return
				}
				waits.Add(1)
				res.Wait = true
				return
			}
			res.MessageID = append(res.MessageID, "id"...)
		})
	})
	c := ts.bound(t, codec.BindTransmitterID)
	mustSend(t, c, codec.SubmitSMID, 10, smpptest.SubmitBody("1", "2", "held"))
	mustSend(t, c, codec.SubmitSMID, 11, smpptest.SubmitBody("1", "2", "behind"))
	mustSend(t, c, codec.EnquireLinkID, 12, nil)
	for _, want := range []struct {
		id  codec.CommandID
		seq uint32
	}{{codec.SubmitSMRespID, 10}, {codec.SubmitSMRespID, 11}, {codec.EnquireLinkRespID, 12}} {
		h, _ := mustExpect(t, c, want.id, codec.StatusOK)
		if h.Sequence != want.seq {
			t.Fatalf("%v seq %d, want %d (order must hold behind a wait)", want.id, h.Sequence, want.seq)
		}
	}
	if waits.Load() != 3 || calls.Load() != 5 {
		t.Fatalf("waits %d calls %d, want 3 and 5", waits.Load(), calls.Load())
	}
	st := ts.Stats()
	if st.QueueWaits != 3 {
		t.Fatalf("QueueWaits %d, want 3", st.QueueWaits)
	}
	infos, err := ts.Sessions(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var submits uint64
	for _, s := range infos {
		submits += s.Submits
	}
	if submits != 2 {
		t.Fatalf("session counted %d submits, want 2 (a held PDU is counted once)", submits)
	}
}

// Past QueueFullWait the handler is told it may not wait and answers; the
// next submit gets its answer at once while the budget is spent, and an
// accepted submit renews it.
func TestQueueFullWaitBudget(t *testing.T) {
	t.Parallel()
	var full atomic.Bool
	full.Store(true)
	var waits atomic.Int32
	ts := start(t, func(o *Options) {
		o.QueueFullWait = 100 * time.Millisecond
		o.Submit = submitFunc(func(req *SubmitRequest, res *SubmitResult) {
			if !full.Load() {
				res.MessageID = append(res.MessageID, "ok"...)
				return
			}
			if req.MayWait {
				waits.Add(1)
				res.Wait = true
				return
			}
			res.Status = codec.StatusMsgQFul
		})
	})
	c := ts.bound(t, codec.BindTransmitterID)
	t0 := time.Now()
	mustSend(t, c, codec.SubmitSMID, 2, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusMsgQFul)
	if el := time.Since(t0); el < 100*time.Millisecond {
		t.Fatalf("answered after %v, before the 100ms wait", el)
	}
	n := waits.Load()
	if n < 2 {
		t.Fatalf("%d waits, want several retries", n)
	}
	// Budget spent: answered without waiting again.
	mustSend(t, c, codec.SubmitSMID, 3, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusMsgQFul)
	if waits.Load() != n {
		t.Fatalf("waited again with the budget spent (%d → %d)", n, waits.Load())
	}
	full.Store(false)
	mustSend(t, c, codec.SubmitSMID, 4, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	full.Store(true)
	mustSend(t, c, codec.SubmitSMID, 5, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusMsgQFul)
	if waits.Load() == n {
		t.Fatal("an accepted submit did not renew the wait budget")
	}
}

// QueueFullWait < 0 never holds; a handler that asks anyway gets its
// request answered ESME_RMSGQFUL.
func TestQueueFullWaitOff(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) {
		o.QueueFullWait = -1
		o.Submit = submitFunc(func(req *SubmitRequest, res *SubmitResult) {
			if req.MayWait {
				res.Status = codec.StatusSysErr
				return
			}
			res.Wait = true
		})
	})
	c := ts.bound(t, codec.BindTransmitterID)
	mustSend(t, c, codec.SubmitSMID, 2, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusMsgQFul)
}

// A session closed while it waits releases its timer and leaves the loop
// serving others.
func TestQueueFullWaitClose(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) {
		o.QueueFullWait = 10 * time.Second
		o.Submit = submitFunc(func(req *SubmitRequest, res *SubmitResult) {
			if req.SystemID == "user" && req.MayWait {
				res.Wait = true
				return
			}
			res.MessageID = append(res.MessageID, "ok"...)
		})
	})
	c := ts.bound(t, codec.BindTransmitterID)
	mustSend(t, c, codec.SubmitSMID, 2, smpptest.SubmitBody("1", "2", "x"))
	eventually(t, "a wait", func() bool { return ts.Stats().QueueWaits > 0 })
	_ = c.Close()
	eventually(t, "the waiting session to close", func() bool { return ts.Stats().Sessions == 0 })
	c2 := ts.dial(t)
	if h, _, err := c2.Bind(codec.BindTransmitterID, "user2", "secret2", codec.InterfaceVersion34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind after close: %v %v", h.Status, err)
	}
	mustSend(t, c2, codec.SubmitSMID, 2, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, c2, codec.SubmitSMRespID, codec.StatusOK)
}

// enderHandler answers every submit and counts EndTurn calls.
type enderHandler struct {
	turns, asked atomic.Int32
}

func (h *enderHandler) HandleSubmit(req *SubmitRequest, res *SubmitResult) {
	if req.TurnEnd {
		h.asked.Add(1)
	}
	res.MessageID = append(res.MessageID, "id"...)
}

func (h *enderHandler) EndTurn() { h.turns.Add(1) }

// A TurnEnder handler learns that turns end (TurnEnd is set) and is called
// after batches with MT requests, not after others.
func TestTurnEnderCalledAfterMTBatches(t *testing.T) {
	t.Parallel()
	h := &enderHandler{}
	ts := start(t, func(o *Options) { o.Submit = h })
	c := ts.bound(t, codec.BindTransmitterID)
	mustSend(t, c, codec.EnquireLinkID, 2, nil)
	mustExpect(t, c, codec.EnquireLinkRespID, codec.StatusOK)
	if n := h.turns.Load(); n != 0 {
		t.Fatalf("%d EndTurn calls without an MT request", n)
	}
	for i := range uint32(3) {
		mustSend(t, c, codec.SubmitSMID, 10+i, smpptest.SubmitBody("1", "2", "x"))
	}
	for range 3 {
		mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	}
	eventually(t, "EndTurn", func() bool { return h.turns.Load() >= 1 })
	if h.asked.Load() != 3 || h.turns.Load() > 3 {
		t.Fatalf("TurnEnd set on %d requests, %d EndTurn calls", h.asked.Load(), h.turns.Load())
	}
}
