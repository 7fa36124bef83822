package ring

import (
	"errors"
	"fmt"
	"math/bits"
)

// cacheLine is the padding unit between fields written by different cores.
// 128 bytes rather than 64: x86 prefetches cache lines in adjacent pairs, and
// some arm64 parts have 128-byte lines.
const cacheLine = 128

// MaxCapacity is the largest capacity NewMPSC accepts.
const MaxCapacity = 1 << 30

// ErrCapacity is returned by NewMPSC for a capacity outside [1, MaxCapacity].
var ErrCapacity = errors.New("ring: capacity out of range")

// roundCapacity returns capacity rounded up to a power of two, at least 2
// (Vyukov's per-slot sequence needs two slots to tell "published" from "free
// for the next lap").
func roundCapacity(capacity int) (uint64, error) {
	if capacity < 1 || capacity > MaxCapacity {
		return 0, fmt.Errorf("%w: %d not in [1, %d]", ErrCapacity, capacity, MaxCapacity)
	}
	if capacity < 2 {
		return 2, nil
	}
	return 1 << bits.Len64(uint64(capacity-1)), nil
}
