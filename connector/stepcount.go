package connector

import "sync/atomic"

// stepCount is a counter that only a step adds to: the driver under the
// Runtime's lock, one goroutine at a time, so it adds with a plain write.
// An atomic add per message waited there for the message's stores before
// it to drain. Readers load atomically.
type stepCount struct {
	_ [0]atomic.Uint64 // 64-bit aligned on 32-bit platforms too, for their atomic adds
	n uint64
}

// plainCounts: a step adds without atomics. Not under the race detector,
// which cannot tell one writer at a time from two, and not where a uint64
// store is two (32-bit platforms: a reader could see half of one).
const plainCounts = !raceEnabled && ^uintptr(0)>>63 == 1

// add counts one. Caller holds the Runtime's lock.
func (c *stepCount) add() {
	if plainCounts {
		c.n++
	} else {
		atomic.AddUint64(&c.n, 1)
	}
}

// load returns the count; any goroutine.
func (c *stepCount) load() uint64 { return atomic.LoadUint64(&c.n) }
