package cluster

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// The lowest live node compacts, never past what the slowest live node
// applied, never while one reports nothing (a start replaying), and only
// once enough has accumulated past the last cut.
func TestRunCompactionCut(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	var applied [3]atomic.Uint64
	for i, n := range nodes {
		n.SetApplied(func() uint64 { return applied[i].Load() })
	}
	applied[0].Store(100)
	applied[1].Store(80)
	cuts := make(chan [2]uint64, 16) // node, cut
	stop := make(chan struct{})
	done := make(chan struct{}, 3)
	for i, n := range nodes {
		go func() {
			n.RunCompaction(100*time.Millisecond, 50, time.Hour, stop, func(_ context.Context, cut uint64) error {
				cuts <- [2]uint64{uint64(i + 1), cut}
				return nil
			})
			done <- struct{}{}
		}()
	}
	defer func() {
		close(stop)
		for range nodes {
			<-done
		}
	}()
	expect := func(what string, want [2]uint64) {
		t.Helper()
		select {
		case got := <-cuts:
			if got != want {
				t.Fatalf("%s: node %d compacted at %d, want node %d at %d", what, got[0], got[1], want[0], want[1])
			}
		case <-time.After(30 * time.Second): // three heartbeats read back, on a loaded machine
			t.Fatalf("%s: no compaction", what)
		}
	}
	none := func(what string) {
		t.Helper()
		select {
		case got := <-cuts:
			t.Fatalf("%s: node %d compacted at %d", what, got[0], got[1])
		case <-time.After(2500 * time.Millisecond): // two heartbeats and more
		}
	}
	none("node 3 reports nothing applied")
	applied[2].Store(120)
	expect("every node applied", [2]uint64{1, 80})
	applied[0].Store(150)
	applied[2].Store(300)
	applied[1].Store(85)
	none("5 past the last cut, under 50")
	applied[1].Store(200)
	expect("enough past the last cut", [2]uint64{1, 150})
}

// A Members read that its deadline cuts short is an error, never a
// shorter list: a live node missing from it would let a compaction's cut
// pass its applied sequence. Deadlines from 0.1 ms to 4 ms end reads at
// every point (the bucket's key lister ended its list early there, and
// no error said so).
func TestMembersCutShortIsAnError(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	members(t, nodes[0], 3)
	var full, cut int
	for i := range 400 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%40+1)*100*time.Microsecond)
		ms, err := nodes[0].Members(ctx)
		cancel()
		switch {
		case err != nil:
			cut++
		case len(ms) != 3:
			t.Fatalf("deadline %v: %d members and no error, want the 3 live ones or an error", time.Duration(i%40+1)*100*time.Microsecond, len(ms))
		default:
			full++
		}
	}
	t.Logf("400 reads: %d full, %d cut short (an error)", full, cut)
	if ms, err := nodes[0].Members(context.Background()); err != nil || len(ms) != 3 {
		t.Fatalf("without a deadline: %d members, %v", len(ms), err)
	}
}

// The cut is never past this node's own applied sequence, and a node
// missing from the members it read never compacts: its own key lapsed (a
// heartbeat slower than the lease), so the list is no proof of who is
// live. Before, such a node took itself for the lowest and cut at the
// others' smallest: node 1 at 200 while its own index held 150
// (TestRunCompactionCut under -race at load 13).
func TestCompactionCut(t *testing.T) {
	ms := func(applied ...uint64) []Member {
		var out []Member
		for i, a := range applied {
			if a != 0 {
				out = append(out, Member{Node: i + 1, Applied: a})
			}
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		self    int
		own     uint64
		members []Member
		cut     uint64
		ok      bool
	}{
		{"every node listed", 1, 100, ms(100, 80, 120), 80, true},
		{"own sequence newer than its key", 1, 150, ms(100, 200, 300), 100, true},
		{"own sequence older than its key", 1, 90, ms(100, 200, 300), 90, true},
		{"not the lowest", 2, 200, ms(100, 200, 300), 0, false},
		{"own key lapsed", 1, 150, []Member{{Node: 2, Applied: 200}, {Node: 3, Applied: 300}}, 0, false},
		{"one replaying", 1, 100, []Member{{Node: 1, Applied: 100}, {Node: 2}, {Node: 3, Applied: 300}}, 0, false},
		{"own replaying", 1, 0, ms(100, 200), 0, false},
		{"no members read", 1, 100, nil, 0, false},
	} {
		cut, ok := compactionCut(tc.self, tc.own, tc.members)
		if ok != tc.ok || ok && cut != tc.cut {
			t.Errorf("%s: cut %d ok %v, want %d %v", tc.name, cut, ok, tc.cut, tc.ok)
		}
	}
}
