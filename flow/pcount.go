package flow

import (
	"runtime"
	"sync/atomic"
	_ "unsafe" // go:linkname procPin, procUnpin
)

// pCells is a pair of statistics (a, b) counted per scheduler P and summed
// at read. An atomic add per accepted message on a line both event loops
// write waited for the core's earlier stores to drain and moved the line
// between the cores (the hub's, the user's and the route's counts were 5%
// of smppd's samples at 4 × 100). Here a count adds to its P's own cell
// with plain writes while pinned to the P (one writer per cell at a time;
// the scheduler's hand-over of a P orders one writer's stores before the
// next's), and a read loads each aligned word atomically. A P beyond the
// cells made at construction (GOMAXPROCS raised later, or past
// maxPCells), every count under the race detector, which cannot see the
// pinning, and every count on 32-bit platforms, where a uint64 store is two,
// adds atomically to the shared cell. Only statistics count here: nothing
// that enforces a limit reads them.
type pCells struct {
	cells  []pCell
	shared pCell // atomic adds only
}

// pCell is one P's pair, padded to a cache line so neighbours never share one.
type pCell struct {
	_    [0]atomic.Uint64 // 64-bit aligned on 32-bit platforms, for their atomic adds
	a, b uint64
	_    [48]byte
}

// maxPCells bounds the cells of one pCells (64 B each): a user's counters
// are made per user with traffic, so a many-core host does not pay
// GOMAXPROCS lines for each.
const maxPCells = 16

// plainWrites: counts write their P's cell without atomics (see pCells).
const plainWrites = !raceEnabled && ^uintptr(0)>>63 == 1

// newPCells returns cells for the Ps there are now (none under the race
// detector or on 32-bit platforms: every count goes to the shared cell).
func newPCells() pCells {
	if !plainWrites {
		return pCells{}
	}
	return pCells{cells: make([]pCell, min(runtime.GOMAXPROCS(0), maxPCells))}
}

// procPin pins the calling goroutine to its P and returns the P's id;
// procUnpin undoes it (as msg and metrics use them; go.dev/issue/67401).
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// addOn adds to the pair of P p, which the caller is pinned to.
func (c *pCells) addOn(p int, a, b uint64) {
	if p < len(c.cells) {
		cell := &c.cells[p]
		cell.a += a
		cell.b += b
		return
	}
	atomic.AddUint64(&c.shared.a, a)
	if b != 0 {
		atomic.AddUint64(&c.shared.b, b)
	}
}

// load sums the pair over every cell. Counts in progress are counted or
// not, each word whole.
func (c *pCells) load() (a, b uint64) {
	for i := range c.cells {
		a += atomic.LoadUint64(&c.cells[i].a)
		b += atomic.LoadUint64(&c.cells[i].b)
	}
	return a + atomic.LoadUint64(&c.shared.a), b + atomic.LoadUint64(&c.shared.b)
}
