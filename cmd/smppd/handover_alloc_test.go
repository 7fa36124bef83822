//go:build !race

package main

import (
	"testing"

	"github.com/smppd/smppd/engine"
)

// TestHandoverSubmitAllocs: the gate adds no allocation to a submit.
func TestHandoverSubmitAllocs(t *testing.T) {
	h := newHandover()
	f := &fakeSeams{bound: map[string]int{}}
	h.attach(f, f, nil)
	h.open(func(int) {})
	req := &engine.SubmitRequest{MayWait: true}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	if n := testing.AllocsPerRun(1000, func() {
		res.MessageID = res.MessageID[:0]
		h.HandleSubmit(req, res)
		h.EndTurn()
		h.Observe(0.001)
	}); n != 0 {
		t.Fatalf("%v allocations per submit through the gate", n)
	}
}
