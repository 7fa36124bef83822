//go:build !race

package smppout

import (
	"runtime"
	"testing"

	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/msg"
)

// The whole per-message path (dispatcher, worker, reader, and the
// in-process SMSC answering) in steady state, messages built beforehand.
// What remains is sync.Pool growing its chain as released messages pile up
// (a handful of allocations per run), far below the bound.
func TestPipelineAllocations(t *testing.T) {
	for _, act := range []smsctest.Action{{}, {Receipt: smsctest.Receipt{Send: true}}} {
		p := newPipeline(t, act, Options{Window: 32, Queue: 1 << 15})
		p.run(t, 3000)
		const n = 20000
		ms := p.make(make([]*msg.Message, 0, n), n)
		acc0, rc0 := p.sink.accepted.Load(), p.sink.receipts.Load()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		p.push(ms)
		p.wait(t, acc0, rc0, n)
		runtime.ReadMemStats(&after)
		p.close()
		per := float64(after.Mallocs-before.Mallocs) / n
		t.Logf("receipts %v: %.4f allocs per message", act.Receipt.Send, per)
		if per > 0.02 {
			t.Fatalf("receipts %v: %.4f allocs per message, want ~0", act.Receipt.Send, per)
		}
	}
}
