//go:build !race

package flow

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage/memory"
)

// TestAllocsPerMessageSim is issue 5's figure on the hub's own path with
// the real parts: one million submit_sm through HandleSubmit (admission,
// routing, a storage/memory Record, the ring) to connector/sim, whose
// worker reports Accepted and the final Receipt back into the hub, with
// fewer than 0.05 heap allocations per message process-wide
// (runtime.MemStats, so the sim's goroutine counts too). The engine's
// share is measured by TestAllocsPerMessageEndToEnd and its own tests.
func TestAllocsPerMessageSim(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a million messages")
	}
	// Small enough that warm-up fills every shard and evicts: the store is
	// at its working size before the measurement.
	st := memory.New(memory.Options{MaxRecords: 1 << 16, MaxUpstream: 1 << 16, MaxHeld: 1024})
	s, err := sim.New("sim", sim.Options{ReceiptDelay: sim.ReceiptsAtOnce, Queue: 4096})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := routing.Compile(routing.Config{Connectors: []string{"sim"},
		MT: []routing.MTRouteConfig{{Name: "all", Kind: "default", Connectors: []string{"sim"}, Rate: 0.01}}})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := msg.NewIDGen(3)
	if err != nil {
		t.Fatal(err)
	}
	h, dl := newPaths(t, Options{Router: routing.NewRouter(tb), Connectors: []connector.Connector{s}, Messages: st,
		Accounts: newAccounts(t), IDs: ids, Logger: zerolog.Nop()}, delivery.Options{Holds: st.Holds()})
	dl.Attach(&ackOut{dl: dl})
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Stop(ctx)
	})
	p := newUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{
		Balance: accounts.Micros(1 << 56), Quota: 1 << 56, Throughput: 1e9}})
	body := sm("12345", "4915112345678", "allocation test message")
	body.RegisteredDelivery = 1 // the sim sends final receipts only when asked
	req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: "alice", SubmitSM: body, Principal: p.Bind}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}

	// run submits n messages, waiting for the simulator when its ring is
	// full; it returns how many submits met a full ring.
	run := func(n int) (full int) {
		for done := 0; done < n; {
			res.Status, res.MessageID = 0, res.MessageID[:0]
			h.HandleSubmit(req, res)
			switch res.Status {
			case codec.StatusOK:
				done++
			case codec.StatusMsgQFul:
				full++
				runtime.Gosched()
			default:
				t.Fatalf("submit: %v", res.Status)
			}
		}
		return full
	}
	settle := func(total uint64) {
		eventually(t, "simulator caught up", func() bool { return s.Stats().Receipts >= total })
	}

	// Warm up until the ring has been full at least once: the message and
	// charge pools then hold as many as can be in flight, so the measured
	// run does not pay for filling them (bounded by the ring size, not per
	// message, but it would blur the steady-state figure).
	const total = 1_000_000
	warm := uint64(0)
	for i := 0; i < 5; i++ {
		full := run(200_000)
		warm += 200_000
		if full > 0 {
			break
		}
	}
	settle(warm)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	full := run(total)
	settle(warm + total)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	mallocs := after.Mallocs - before.Mallocs
	per := float64(mallocs) / total
	t.Logf("%d messages in %v (%.0f/s, %d ring-full retries, %d GCs): %d mallocs, %.5f per message",
		total, elapsed.Round(time.Millisecond), total/elapsed.Seconds(), full, after.NumGC-before.NumGC, mallocs, per)
	if per >= 0.05 {
		t.Fatalf("%.5f heap allocations per message, want < 0.05", per)
	}
	if hs, ds := h.Stats(), dl.Stats(); hs.SubmitsAccepted != warm+total || ds.ReceiptsUnknown != 0 {
		t.Fatalf("hub stats %+v, delivery stats %+v", hs, ds)
	}
}
