package flow

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/policy"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage/memory"
)

// BenchmarkSubmitSim is the demo's submit path without the network: the
// hub wired as smppd wires it for the memory store (the route counts, the
// HTTP callbacks' answer hook, a 50,000-record store, the simulator with
// an 8,192 ring and no latency), submit_sm without receipts in turns of
// simTurn requests with the turn's clock reading, each turn ended as an
// event loop ends it (EndTurnOn: the batch goes to the ring and the loop
// helps the simulator's worker).
// Its CPU per op (bench/cpuab.sh) is the flow's, the store's and the
// simulator's share of a message, every goroutine counted.
func BenchmarkSubmitSim(b *testing.B) {
	const simTurn = 64
	st := memory.New(memory.Options{MaxRecords: 50_000})
	s, err := sim.New("sim", sim.Options{Queue: 8192, ReceiptDelay: 50 * time.Millisecond, MOEchoPrefixes: []string{"999"}})
	if err != nil {
		b.Fatal(err)
	}
	tb, err := routing.Compile(routing.Config{Connectors: []string{"sim"},
		MT: []routing.MTRouteConfig{{Name: "default", Kind: "default", Connectors: []string{"sim"}}}})
	if err != nil {
		b.Fatal(err)
	}
	ids, err := msg.NewIDGen(3)
	if err != nil {
		b.Fatal(err)
	}
	wh, err := webhook.New(webhook.Options{Holds: st.Holds(), DeadLetters: st.DeadLetters(), Callbacks: st.Callbacks(),
		UpstreamIDs: st, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	h, dl := newPaths(b, Options{Router: routing.NewRouter(tb), Connectors: []connector.Connector{s}, Messages: st,
		Accounts: newAccounts(b), IDs: ids, Logger: zerolog.Nop(), Routes: policy.NewRouteCounts(), Answers: wh},
		delivery.Options{Holds: st.Holds()})
	dl.Attach(&ackOut{dl: dl})
	if err := h.Start(); err != nil {
		b.Fatal(err)
	}
	st.Sweep(time.Now().UnixNano()) // as smppd's sweeper: the store's coarse clock set
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Stop(ctx)
	})
	p := newUser(b, "demo", userSpec{}) // the demo user's limits: none (balance unlimited, no quota, no throughput)
	var loop engine.LoopLocal
	req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: "demo", Principal: p.Bind, MayWait: true,
		TurnEnd: true, Loop: &loop, SubmitSM: sm("12345", "4915112345678", "benchmark message, 30 chars")}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	n, waits := 0, 0
	b.ReportAllocs()
	req.Now = time.Now() // an event loop reads the clock once a turn
	for b.Loop() {
		for {
			res.Status, res.Wait, res.MessageID = 0, false, res.MessageID[:0]
			h.HandleSubmit(req, res)
			if !res.Wait {
				break
			}
			waits++
			h.EndTurnOn(&loop) // a full ring: end the turn, let the worker catch up
			runtime.Gosched()
		}
		if res.Status != codec.StatusOK {
			b.Fatal(res.Status)
		}
		if n++; n == simTurn {
			h.EndTurnOn(&loop)
			n, req.Now = 0, time.Now()
		}
	}
	h.EndTurnOn(&loop)
	b.ReportMetric(float64(waits)/float64(b.N), "waits/op")
}
