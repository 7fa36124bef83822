package cluster

import (
	"sync/atomic"
	"testing"
	"time"
)

// A node's possible-duplicate counters reach DuplicatesBucket within
// dupFlush of a change, without a heartbeat carrying them, and stay in
// the cluster's total after the node dies without a last word (its
// membership key gone); a node's new run adds to them, and a node that
// joins later reads them too.
func TestDuplicatesOutliveTheirNode(t *testing.T) {
	if testing.Short() {
		t.Skip("three embedded JetStream servers")
	}
	opts := threeNodes(t)
	nodes := joinAll(t, opts)
	var redriven atomic.Uint64
	nodes[2].SetDuplicates(func() Duplicates { return Duplicates{Redriven: redriven.Load(), CDR: 4} })
	nodes[0].SetDuplicates(func() Duplicates { return Duplicates{HeldRetaken: 2, CDR: 1} })
	total := func(n *Node, want func(Duplicates) bool) Duplicates {
		t.Helper()
		var d Duplicates
		for end := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var ok bool
			if d, ok = n.runDuplicates(t.Context()); ok && want(d) {
				return d
			}
			if time.Now().After(end) {
				t.Fatalf("node %d's total of possible duplicates: %+v", n.o.NodeID, d)
			}
		}
	}
	redriven.Store(7)
	began := time.Now()
	total(nodes[1], func(d Duplicates) bool { return d.Redriven == 7 })
	if w := time.Since(began); w > time.Second {
		t.Logf("node 3's change took %v to reach the bucket (loaded machine)", w)
	}
	redriven.Store(9)
	time.Sleep(5 * dupFlush) // written by now (checked below), well within a heartbeat
	killed := nodes[2]
	nodes[2] = nil
	killed.closing.Store(true)
	killed.srv.Shutdown() // kill -9: no last write, no lease release
	killed.srv.WaitForShutdown()
	t.Cleanup(func() { _ = killed.Close() })

	members(t, nodes[1], 2) // its membership key lapsed
	if d := total(nodes[1], func(d Duplicates) bool { return d.Redriven == 9 }); d.HeldRetaken != 2 || d.CDR != 4 || d.Sum != 11 {
		t.Fatalf("after node 3's death: %+v, want redriven 9, held_retaken 2, CDR 4 (the largest), sum 11", d)
	}
	// Node 3 back: a new run, its counters from zero, added to its last one's.
	back, err := Join(opts[2])
	if err != nil {
		t.Fatal(err)
	}
	nodes[2] = back
	back.SetDuplicates(func() Duplicates { return Duplicates{Redriven: 1} })
	if d := total(back, func(d Duplicates) bool { return d.Redriven == 10 }); d.Sum != 12 {
		t.Fatalf("node 3 back, read on node 3: %+v, want redriven 10 and sum 12", d)
	}
}
