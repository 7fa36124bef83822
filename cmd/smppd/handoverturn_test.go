package main

import (
	"testing"

	"github.com/smppd/smppd/engine"
)

// loopSeams is fakeSeams with the hub's loop-turn seam, recording the
// LoopLocal each turn's end names.
type loopSeams struct {
	*fakeSeams
	loops []*engine.LoopLocal
}

func (f *loopSeams) EndTurnOn(l *engine.LoopLocal) { f.loops = append(f.loops, l) }

// TestHandoverEndsLoopTurns: the gate is an engine.LoopTurnEnder, so the
// engine ends each loop's turn through it with the loop's LoopLocal, and
// once open the hub gets it: what the hub gathered in that loop's turn
// batch (flow/turn.go) goes to its connectors then. Were the gate only a
// TurnEnder, the engine would call EndTurn, and a daemon started early (an
// upgrade) would answer those submits and never hand them over.
func TestHandoverEndsLoopTurns(t *testing.T) {
	h := newHandover()
	var e engine.LoopTurnEnder
	if le, ok := any(h).(engine.LoopTurnEnder); !ok {
		t.Fatal("the hand-over gate is no engine.LoopTurnEnder: the engine would end loop turns with EndTurn, which hands over no turn batch")
	} else {
		e = le
	}
	f := &loopSeams{fakeSeams: &fakeSeams{bound: map[string]int{}}}
	var l engine.LoopLocal
	e.EndTurnOn(&l) // before attach and open: nothing to reach
	h.attach(f, f, nil)
	e.EndTurnOn(&l)
	if len(f.loops) != 0 {
		t.Fatalf("%d turn ends reached the hub before open", len(f.loops))
	}
	h.open(func(int) {})
	e.EndTurnOn(&l)
	if len(f.loops) != 1 || f.loops[0] != &l || f.turns != 0 {
		t.Fatalf("after open: turn ends %v (want the loop's LoopLocal once), EndTurn calls %d", f.loops, f.turns)
	}
}
