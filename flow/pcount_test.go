package flow

import (
	"runtime"
	"sync"
	"testing"
)

// Counts from many goroutines, on every P there is and (with more
// goroutines than cells) through the shared cell, sum exactly.
func TestPCellsConcurrent(t *testing.T) {
	c := newPCells()
	c.cells = c.cells[:min(len(c.cells), 1)] // P 1 and up take the shared cell
	const workers, each = 8, 20000
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				p := procPin()
				c.addOn(p, 1, 3)
				procUnpin()
				if i%512 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()
	if a, b := c.load(); a != workers*each || b != 3*workers*each {
		t.Fatalf("load = %d, %d; want %d, %d", a, b, workers*each, 3*workers*each)
	}
}

// The hub's accepted count and a user's submits and parts are counted per P
// and read back summed, without allocating per message.
func TestAcceptedCountsPerP(t *testing.T) {
	var h Hub
	h.stats.init()
	var tb userTable
	u := tb.get("alice")
	count := func() {
		p := procPin()
		h.stats.accepted.addOn(p, 1, 0)
		u.sent.addOn(p, 1, 2)
		procUnpin()
	}
	if n := testing.AllocsPerRun(1000, count); n != 0 {
		t.Fatalf("counting allocates %v times", n)
	}
	u.parts.Add(5) // a replace_sm's extra parts
	if got := h.Stats().SubmitsAccepted; got != 1001 {
		t.Fatalf("SubmitsAccepted = %d, want 1001", got)
	}
	h.ustats.m.Store(tb.m.Load())
	st := h.UserStats()
	if len(st) != 1 || st[0].Submits != 1001 || st[0].Parts != 2*1001+5 {
		t.Fatalf("UserStats = %+v, want 1001 submits of 2007 parts", st)
	}
}
