package engine

import (
	"sync"
	"testing"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// loopEnder gathers each loop's requests in its LoopLocal, as the flow
// hub's turn batch does, and counts at each EndTurnOn what the turn
// gathered there.
type loopEnder struct {
	mu       sync.Mutex
	gathered int // requests seen by EndTurnOn
	turns    int
	noLoop   int // requests without a LoopLocal
	plain    int // EndTurn calls (must be none)
}

func (h *loopEnder) HandleSubmit(req *SubmitRequest, res *SubmitResult) {
	if req.Loop == nil {
		h.mu.Lock()
		h.noLoop++
		h.mu.Unlock()
	} else {
		n, _ := req.Loop.V.(int) // the loop's goroutine only: no lock
		req.Loop.V = n + 1
	}
	res.MessageID = append(res.MessageID, "id"...)
}

func (h *loopEnder) EndTurnOn(l *LoopLocal) {
	n, _ := l.V.(int)
	l.V = 0
	h.mu.Lock()
	h.gathered += n
	h.turns++
	h.mu.Unlock()
}

func (h *loopEnder) EndTurn() {
	h.mu.Lock()
	h.plain++
	h.mu.Unlock()
}

func (h *loopEnder) read() (gathered, turns, noLoop, plain int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gathered, h.turns, h.noLoop, h.plain
}

// A LoopTurnEnder gets, at each turn's end, the LoopLocal its requests
// carried: everything they gathered there is seen at a turn's end, and
// EndTurn is not called.
func TestLoopTurnEnderGetsTheRequestsLoop(t *testing.T) {
	t.Parallel()
	h := &loopEnder{}
	ts := start(t, func(o *Options) { o.Submit = h })
	c := ts.bound(t, codec.BindTransmitterID)
	const n = 20
	for i := range uint32(n) {
		mustSend(t, c, codec.SubmitSMID, 10+i, smpptest.SubmitBody("1", "2", "x"))
	}
	for range n {
		mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	}
	eventually(t, "every request gathered at a turn's end", func() bool {
		g, _, _, _ := h.read()
		return g == n
	})
	if g, turns, noLoop, plain := h.read(); noLoop != 0 || plain != 0 || turns < 1 || turns > n {
		t.Fatalf("gathered %d in %d turns, %d requests without a LoopLocal, %d EndTurn calls", g, turns, noLoop, plain)
	}
}

// plainEnder is a TurnEnder only (a wrapper that does not pass EndTurnOn
// on): its requests carry no LoopLocal, so nothing is gathered there that
// no turn's end would hand on.
type plainEnder struct{ enderHandler }

func (h *plainEnder) HandleSubmit(req *SubmitRequest, res *SubmitResult) {
	if req.Loop != nil {
		h.asked.Add(100) // flagged: a LoopLocal without EndTurnOn
	}
	h.enderHandler.HandleSubmit(req, res)
}

func TestPlainTurnEnderGetsNoLoopLocal(t *testing.T) {
	t.Parallel()
	h := &plainEnder{}
	ts := start(t, func(o *Options) { o.Submit = h })
	c := ts.bound(t, codec.BindTransmitterID)
	mustSend(t, c, codec.SubmitSMID, 2, smpptest.SubmitBody("1", "2", "x"))
	mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	eventually(t, "EndTurn", func() bool { return h.turns.Load() >= 1 })
	if n := h.asked.Load(); n != 1 {
		t.Fatalf("asked %d: a request carried a LoopLocal the handler's turns never end (want 1: TurnEnd only)", n)
	}
}
