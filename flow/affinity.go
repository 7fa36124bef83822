package flow

import (
	"hash/maphash"
	"sync/atomic"
	"time"
)

// Concatenated MT parts of one message must reach the handset through one
// upstream (issue 5), even on round-robin and weighted routes, which would
// otherwise spread them. The affinity table remembers, per (user,
// destination, reference), the connector the first routed part went to;
// later parts go there too.
//
// It is a fixed array of atomic words (no lock, no allocation), shared by
// every event loop. Each word packs a 32-bit tag of the key, the connector
// id and the minute the entry was written; an entry older than affinityTTL
// or with another tag is a miss. Two live messages whose keys share a slot
// evict each other, and the evicted one's later parts are routed afresh:
// with affinitySlots slots that needs thousands of long messages in flight
// at once. The destination is part of the key because 8-bit references
// repeat quickly across one user's messages to different handsets.
const (
	affinitySlots = 1 << 13
	affinityTTL   = 10 // minutes
)

type affinity struct {
	seed  maphash.Seed
	slots [affinitySlots]atomic.Uint64
}

func (a *affinity) init() { a.seed = maphash.MakeSeed() }

// key hashes the identity of a concatenated message.
func (a *affinity) key(user string, dst []byte, ref uint16) uint64 {
	k := maphash.String(a.seed, user)
	k ^= maphash.Bytes(a.seed, dst) * 0x9e3779b97f4a7c15
	k ^= uint64(ref) * 0xbf58476d1ce4e5b9
	return k ^ k>>29
}

func minuteOf(now time.Time) uint64 { return uint64(now.Unix()/60) & 0xffff }

// get returns the connector remembered for key, if any and fresh.
func (a *affinity) get(key uint64, now time.Time) (int, bool) {
	w := a.slots[key&(affinitySlots-1)].Load()
	if w == 0 || uint32(w>>32) != tagOf(key) {
		return 0, false
	}
	if (minuteOf(now)-w&0xffff)&0xffff >= affinityTTL {
		return 0, false
	}
	return int(w >> 16 & 0xffff), true
}

// put remembers connector conn (0..65535) for key.
func (a *affinity) put(key uint64, conn int, now time.Time) {
	a.slots[key&(affinitySlots-1)].Store(uint64(tagOf(key))<<32 | uint64(conn&0xffff)<<16 | minuteOf(now))
}

// tagOf is the key's high half, never 0 so an empty slot never matches.
func tagOf(key uint64) uint32 { return uint32(key>>32) | 1 }
