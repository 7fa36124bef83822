//go:build linux && !race

package clustertest

import (
	"sync"
	"testing"
	"time"
)

// limited's throughput and burst in configs/cluster/users.toml.
const (
	limitedRate  = 100
	limitedBurst = 50
)

// testThroughput: limited, bound once on node 1 and once on node 2,
// submits on both as fast as one message at a time goes for 4 s. Once
// the nodes have split its throughput by its binds (each half), the
// cluster accepts at most the configured rate plus one burst per node in
// the 3 s counted after the first second; each node alone would take the
// whole rate (twice that).
func testThroughput(t *testing.T, n1, n2 *node) {
	const (
		run     = 4 * time.Second
		settle  = time.Second // binds replicated (~150 ms) and the split (every 250 ms)
		counted = run - settle
	)
	from := time.Now().Add(settle)
	acc := make([]int, 2)
	var wg sync.WaitGroup
	for i, n := range []*node{n1, n2} {
		wg.Go(func() {
			acc[i], _ = submitFor(t, n.smppAddr(), limited, limitedPass, run, from)
		})
	}
	wg.Wait()
	total := acc[0] + acc[1]
	limit := int(limitedRate*counted.Seconds()) + 2*limitedBurst
	t.Logf("throughput: %s (%d/s, burst %d) bound on nodes 1 and 2: %d + %d = %d accepted in %v after the first second (bound %d; without the split up to %d)",
		limited, limitedRate, limitedBurst, acc[0], acc[1], total, counted, limit, 2*int(limitedRate*counted.Seconds())+2*limitedBurst)
	if total > limit {
		t.Errorf("accepted %d in %v for a throughput of %d/s: over the cluster-wide bound %d", total, counted, limitedRate, limit)
	}
	if acc[0] == 0 || acc[1] == 0 || total < limitedRate*int(counted.Seconds())/2 {
		t.Errorf("accepted %d + %d: the split starves a node, or the load generator is too slow to test it", acc[0], acc[1])
	}
}
