package cluster

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// TestWatchDepartedTakesOverNodesGoneBeforeStart: nodes named absent at
// the watch's start (work left in the journal) that hold no lease are
// taken over once, after grace, by the lowest live node only; a live one
// is not.
func TestWatchDepartedTakesOverNodesGoneBeforeStart(t *testing.T) {
	nodes := joinAll(t, threeNodes(t))
	_ = nodes[0].Close() // node 1 leaves before the watches start
	nodes[0] = nil
	members(t, nodes[1], 2)

	const grace = 2 * time.Second
	var mu sync.Mutex
	taken := map[int][]int{} // watcher -> departed nodes taken over
	started := time.Now()
	var early bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, n := range nodes[1:] {
		wg.Go(func() {
			n.WatchDeparted(grace, []int{1, 3, 7}, stop, func(node int) {
				mu.Lock()
				defer mu.Unlock()
				early = early || time.Since(started) < grace
				taken[n.o.NodeID] = append(taken[n.o.NodeID], node)
			})
		})
	}
	eventually(t, "node 2 takes over nodes 1 and 7", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(taken[2]) == 2
	})
	time.Sleep(2 * DefaultHeartbeat) // room for a wrong second take-over
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	got := slices.Sorted(slices.Values(taken[2]))
	if !slices.Equal(got, []int{1, 7}) || len(taken[3]) != 0 || early {
		t.Fatalf("taken over: node 2 %v, node 3 %v (want [1 7] and none; before grace: %v)", got, taken[3], early)
	}
}
