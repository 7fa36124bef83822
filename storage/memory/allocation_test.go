//go:build !race

package memory

import (
	"strconv"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// TestAllocations: once every shard has reached its limit (or the ids in
// play are already stored), the per-message calls allocate nothing.
func TestAllocations(t *testing.T) {
	s := New(Options{MaxRecords: 4096, MaxUpstream: 4096})
	now := time.Now().UnixNano()
	// Warm up: fill every shard to its limit and beyond.
	next := msg.ID(1)
	r := rec(0, now)
	for ; next < 40_000; next++ {
		r.ID = next
		s.Put(&r)
	}
	var key [32]byte
	upN := 0
	for ; upN < 40_000; upN++ {
		s.PutUpstream(1, strconv.AppendInt(key[:0], int64(upN), 10), msg.ID(upN))
	}
	revN := msg.ID(1)
	for ; revN < 40_000; revN++ {
		s.PutUpstreamOf(revN, strconv.AppendInt(key[:0], int64(revN), 10))
	}
	dst := make([]byte, 0, MaxUpstreamID)
	var out storage.Record
	last := next - 1
	checks := []struct {
		name string
		f    func()
	}{
		{"Put new id (evicts)", func() { r.ID = next; next++; s.Put(&r) }},
		{"Put same id (replaces)", func() { r.ID = last; s.Put(&r) }},
		{"Get", func() { s.Get(last, &out) }},
		{"Get miss", func() { s.Get(1, &out) }},
		{"SetState", func() { s.SetState(last, msg.StateDelivered, 0, now) }},
		{"SetAccepted", func() { s.SetAccepted(last, msg.StateDelivered, 0, now) }},
		{"Finish", func() { s.Finish(last, msg.StateDelivered, 0, now, &out) }},
		{"SetReplaced", func() { s.SetReplaced(last, &r) }},
		{"Put, Delete the id before (a dead slot)", func() { r.ID = next; next++; s.Put(&r); s.Delete(r.ID - 1) }},
		{"PutUpstream new (evicts)", func() {
			s.PutUpstream(1, strconv.AppendInt(key[:0], int64(upN), 10), msg.ID(upN))
			upN++
		}},
		{"PutUpstream same", func() { s.PutUpstream(1, strconv.AppendInt(key[:0], 39_999, 10), 7) }},
		{"Upstream", func() { s.Upstream(1, strconv.AppendInt(key[:0], 39_999, 10)) }},
		{"Upstream miss", func() { s.Upstream(2, strconv.AppendInt(key[:0], 39_999, 10)) }},
		{"PutUpstreamOf new (evicts)", func() { s.PutUpstreamOf(revN, strconv.AppendInt(key[:0], int64(revN), 10)); revN++ }},
		{"PutUpstreamOf same", func() { s.PutUpstreamOf(revN-1, key[:5]) }},
		{"UpstreamOf", func() { s.UpstreamOf(revN-1, dst[:0]) }},
		{"UpstreamOf miss", func() { s.UpstreamOf(1, dst[:0]) }},
		{"Sweep nothing due", func() { s.Sweep(now) }},
	}
	for _, c := range checks {
		if n := testing.AllocsPerRun(2000, c.f); n != 0 {
			t.Errorf("%s: %.2f allocations per call", c.name, n)
		}
	}
}
