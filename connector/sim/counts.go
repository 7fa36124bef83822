package sim

import "sync/atomic"

// outcomeCounts counts the outcomes drawn. Its only writer is the driver,
// which the Runtime runs under its lock (on whichever goroutine helps it),
// so it adds with plain writes: an atomic add per message waited there for
// the message's stores before it to drain (1.2% of smppd's CPU at
// 4 x 100). Readers load atomically.
type outcomeCounts struct {
	_ [0]atomic.Uint64 // 64-bit aligned on 32-bit platforms too, for their atomic adds
	n [NumOutcomes]uint64
}

// plainCounts: the driver adds without atomics. Not under the race
// detector, which cannot tell one writer at a time from two, and not where
// a uint64 store is two (32-bit platforms: a reader could see half of one).
const plainCounts = !raceEnabled && ^uintptr(0)>>63 == 1

// add counts one o. Caller holds the Runtime's lock (is the driver).
func (c *outcomeCounts) add(o Outcome) {
	if plainCounts {
		c.n[o]++
	} else {
		atomic.AddUint64(&c.n[o], 1)
	}
}

// load returns the count of o; any goroutine.
func (c *outcomeCounts) load(o Outcome) uint64 { return atomic.LoadUint64(&c.n[o]) }
