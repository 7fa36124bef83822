package policy

import (
	"runtime"
	"sync/atomic"
	_ "unsafe" // go:linkname procPin, procUnpin
)

// pCount is a statistic counted per scheduler P and summed at read: an
// atomic add per accepted message on a route's line, which both event
// loops write, waited for the core's earlier stores to drain and moved the
// line between the cores (2% of smppd's samples at 4 × 100). A count adds
// to its P's own cell with plain writes while pinned (one writer per cell
// at a time; the scheduler's hand-over of a P orders one writer's stores
// before the next's); a read loads each aligned word atomically. A P beyond
// the cells made with the counter (GOMAXPROCS raised later, or past
// maxPCells), every count under the race detector, which cannot see the
// pinning, and on 32-bit platforms adds atomically to the shared word.
type pCount struct {
	cells  []pCell
	shared atomic.Uint64
}

// pCell is one P's count, padded to a cache line.
type pCell struct {
	_ [0]atomic.Uint64 // 64-bit aligned on 32-bit platforms
	n uint64
	_ [56]byte
}

// maxPCells bounds a pCount's cells (64 B each, per route counted).
const maxPCells = 16

// plainWrites: counts write their P's cell without atomics (see pCount).
const plainWrites = !raceEnabled && ^uintptr(0)>>63 == 1

func newPCount() pCount {
	if !plainWrites {
		return pCount{}
	}
	return pCount{cells: make([]pCell, min(runtime.GOMAXPROCS(0), maxPCells))}
}

// procPin pins the calling goroutine to its P and returns the P's id;
// procUnpin undoes it (as msg and metrics use them; go.dev/issue/67401).
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// inc counts one. Safe for concurrent use.
func (c *pCount) inc() {
	if p := procPin(); p < len(c.cells) {
		c.cells[p].n++
		procUnpin()
		return
	}
	procUnpin()
	c.shared.Add(1)
}

// load sums every cell; counts in progress are counted or not.
func (c *pCount) load() uint64 {
	n := c.shared.Load()
	for i := range c.cells {
		n += atomic.LoadUint64(&c.cells[i].n)
	}
	return n
}
