// Package percpu counts statistics per scheduler P and sums them at read.
//
// An atomic add per message on a line both event loops write waits for the
// core's earlier stores to drain and moves the line between the cores (the
// hub's, the users' and the routes' counts of accepted messages were 5% of
// smppd's samples at 4 × 100). Here a count adds to its P's own cell with
// plain writes while the goroutine is pinned to the P (one writer per cell
// at a time; the scheduler's hand-over of a P orders one writer's stores
// before the next's), and a read loads each aligned word atomically. A P
// beyond the cells made at construction (GOMAXPROCS raised later, or past
// MaxCells), every count under the race detector, which cannot see the
// pinning, and every count on 32-bit platforms, where a uint64 store is two,
// adds atomically to the shared cell.
//
// Only statistics belong here: a read sums cells that may be mid-count, so
// nothing that enforces a limit may read them.
package percpu

import (
	"runtime"
	"sync/atomic"
	_ "unsafe" // go:linkname procPin, procUnpin
)

// Pairs is a pair of statistics (a, b), counted per P.
type Pairs struct {
	cells  []pair
	shared pair // atomic adds only
}

// pair is one P's counts, padded to a cache line so neighbours never share one.
type pair struct {
	_    [0]atomic.Uint64 // 64-bit aligned on 32-bit platforms, for their atomic adds
	a, b uint64
	_    [48]byte
}

// MaxCells bounds the cells of one Pairs (64 B each): counters made per
// user or per route do not pay GOMAXPROCS lines each on a many-core host.
const MaxCells = 16

// plainWrites: counts write their P's cell without atomics.
const plainWrites = !raceEnabled && ^uintptr(0)>>63 == 1

// NewPairs returns cells for the Ps there are now (none under the race
// detector or on 32-bit platforms: every count goes to the shared cell).
func NewPairs() Pairs {
	if !plainWrites {
		return Pairs{}
	}
	return Pairs{cells: make([]pair, min(runtime.GOMAXPROCS(0), MaxCells))}
}

// Pin pins the calling goroutine to its P and returns the P's id, for
// AddOn; Unpin undoes it. Keep what runs between them short: the P cannot
// be preempted meanwhile (go.dev/issue/67401 tracks these names).
//
//go:linkname Pin runtime.procPin
func Pin() int

// Unpin ends Pin.
//
//go:linkname Unpin runtime.procUnpin
func Unpin()

// AddOn adds to the pair of P p, which the caller is pinned to (Pin):
// one pin serves several counters.
func (c *Pairs) AddOn(p int, a, b uint64) {
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

// Add adds to the pair of the caller's P. Safe for concurrent use.
func (c *Pairs) Add(a, b uint64) {
	c.AddOn(Pin(), a, b)
	Unpin()
}

// Load sums the pair over every cell. Counts in progress are counted or
// not, each word whole.
func (c *Pairs) Load() (a, b uint64) {
	for i := range c.cells {
		a += atomic.LoadUint64(&c.cells[i].a)
		b += atomic.LoadUint64(&c.cells[i].b)
	}
	return a + atomic.LoadUint64(&c.shared.a), b + atomic.LoadUint64(&c.shared.b)
}
