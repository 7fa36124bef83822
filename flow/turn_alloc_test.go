//go:build !race

package flow

import (
	"testing"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/routing"
)

// A loop's turn, its submits gathered and handed over at the turn's end
// to two connectors (one batch each), allocates nothing once the batch
// exists.
func TestTurnBatchAllocs(t *testing.T) {
	th := newHub(t, hubSpec{helped: true, batched: true, conns: 2, routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "rr", Kind: "roundrobin", Connectors: []string{"a", "b"}, Rate: 0.01}},
		MO: []routing.MORouteConfig{{Name: "mo", User: "alice"}},
	}})
	for _, c := range th.conns {
		c.auto = true
	}
	th.Deliveries().Attach(&ackOut{dl: th.dl})
	p := newUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{
		Balance: accounts.Micros(1 << 56), Quota: 1 << 56, Throughput: 1e9}})
	var l engine.LoopLocal
	req := &engine.SubmitRequest{Command: codec.SubmitSMID, SubmitSM: sm("12345", "4915112345678", "hello world"),
		Principal: p.Bind, TurnEnd: true, Loop: &l}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	n := testing.AllocsPerRun(500, func() {
		for range 8 {
			res.MessageID, res.Status = res.MessageID[:0], 0
			th.HandleSubmit(req, res)
			if res.Status != codec.StatusOK {
				t.Fatalf("submit: %v", res.Status)
			}
		}
		th.EndTurnOn(&l)
	})
	if n != 0 {
		t.Errorf("a turn of 8 submits allocates %.2f times", n)
	}
	if th.helped[0].quietSubs.Load() == 0 || th.helped[1].quietSubs.Load() == 0 {
		t.Fatal("a connector got no batch")
	}
}
