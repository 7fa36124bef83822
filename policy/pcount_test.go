package policy

import (
	"sync"
	"testing"
)

// Accepted counts from many goroutines sum exactly, through the P cells
// and the shared word alike, without allocating once the route is known.
func TestRouteAcceptedConcurrent(t *testing.T) {
	rc := NewRouteCounts()
	c := rc.of("r1")
	c.accepted.cells = c.accepted.cells[:min(len(c.accepted.cells), 1)] // P 1 and up take the shared word
	rc.Accepted("r1")
	const workers, each = 8, 20000
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				rc.Accepted("r1")
			}
		}()
	}
	wg.Wait()
	if n := testing.AllocsPerRun(1000, func() { rc.Accepted("r1") }); n != 0 {
		t.Fatalf("Accepted allocates %v times", n)
	}
	want := uint64(1 + workers*each + 1001)
	for _, s := range rc.Stats() {
		if s.Route == "r1" {
			if s.Accepted != want {
				t.Fatalf("r1 accepted %d, want %d", s.Accepted, want)
			}
			return
		}
	}
	t.Fatal("r1 not listed")
}
