package percpu

import (
	"runtime"
	"sync"
	"testing"
)

// Counts from many goroutines, on every P there is and (with more
// goroutines than cells) through the shared cell, sum exactly.
func TestPairsConcurrent(t *testing.T) {
	c := NewPairs()
	c.cells = c.cells[:min(len(c.cells), 1)] // P 1 and up take the shared cell
	const workers, each = 8, 20000
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for i := 0; i < each; i++ {
				if i%2 == 0 {
					p := Pin()
					c.AddOn(p, 1, 3)
					Unpin()
				} else {
					c.Add(1, 3)
				}
				if i%512 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	wg.Wait()
	if a, b := c.Load(); a != workers*each || b != 3*workers*each {
		t.Fatalf("Load = %d, %d; want %d, %d", a, b, workers*each, 3*workers*each)
	}
}

// Counting allocates nothing.
func TestAddDoesNotAllocate(t *testing.T) {
	c := NewPairs()
	if n := testing.AllocsPerRun(1000, func() { c.Add(1, 2) }); n != 0 {
		t.Fatalf("Add allocates %v times", n)
	}
	if a, b := c.Load(); a != 1001 || b != 2002 {
		t.Fatalf("Load = %d, %d; want 1001, 2002", a, b)
	}
}
