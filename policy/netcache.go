package policy

import (
	"sync"
	"sync/atomic"
)

// netCache remembers recent lookup answers: a fixed array of sets of four
// slots, sharded under small locks, so its size is bounded at construction
// and a hit allocates nothing. A full set evicts its entry closest to
// expiry. Networks are interned (names) so an entry holds an index.
type netCache struct {
	shards []cacheShard
	mask   uint64 // sets per shard - 1
}

const cacheWays = 4

type cacheShard struct {
	mu   sync.Mutex
	sets [][cacheWays]cacheEntry
	_    [40]byte // keep shards' locks on separate cache lines
}

type cacheEntry struct {
	key     uint64 // packed number; 0 = empty
	expires int64  // Unix ns
	net     int32  // index into names; -1 = no network known
}

const cacheShards = 64

// newNetCache holds at least size entries (rounded up to a power of two
// per shard).
func newNetCache(size int) *netCache {
	per := max(size/(cacheShards*cacheWays), 1)
	sets := 1
	for sets < per {
		sets <<= 1
	}
	c := &netCache{shards: make([]cacheShard, cacheShards), mask: uint64(sets - 1)}
	for i := range c.shards {
		c.shards[i].sets = make([][cacheWays]cacheEntry, sets)
	}
	return c
}

// capacity is the number of entries the cache holds.
func (c *netCache) capacity() int { return len(c.shards) * len(c.shards[0].sets) * cacheWays }

func (c *netCache) locate(key uint64) (*cacheShard, *[cacheWays]cacheEntry) {
	h := key * 0x9E3779B97F4A7C15 // Fibonacci hashing spreads sequential numbers
	sh := &c.shards[h>>58]
	return sh, &sh.sets[(h>>20)&c.mask]
}

// get returns the cached network index of key at now.
func (c *netCache) get(key uint64, now int64) (net int32, ok bool) {
	sh, set := c.locate(key)
	sh.mu.Lock()
	for i := range set {
		if e := &set[i]; e.key == key {
			if e.expires > now {
				net, ok = e.net, true
			}
			break
		}
	}
	sh.mu.Unlock()
	return net, ok
}

// put stores key's answer until expires.
func (c *netCache) put(key uint64, net int32, expires int64) {
	sh, set := c.locate(key)
	sh.mu.Lock()
	victim := 0
	for i := range set {
		e := &set[i]
		if e.key == key || e.key == 0 {
			victim = i
			break
		}
		if e.expires < set[victim].expires {
			victim = i
		}
	}
	set[victim] = cacheEntry{key: key, expires: expires, net: net}
	sh.mu.Unlock()
}

// maxNetworkNames bounds the distinct network names the lookup service
// may return; a name past it is treated as no network (and counted).
const maxNetworkNames = 1024

// names interns network names read from the lookup service, so a cache
// entry holds an index and a hit returns a shared string.
type names struct {
	mu   sync.Mutex
	ids  map[string]int32         // mu
	snap atomic.Pointer[[]string] // copy-on-write: readers never lock
}

// intern returns name's index, or -1 when the bound is reached.
func (n *names) intern(name string) int32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if id, ok := n.ids[name]; ok {
		return id
	}
	var all []string
	if p := n.snap.Load(); p != nil {
		all = *p
	}
	if len(all) >= maxNetworkNames {
		return -1
	}
	if n.ids == nil {
		n.ids = make(map[string]int32)
	}
	next := make([]string, len(all)+1)
	copy(next, all)
	next[len(all)] = name
	n.ids[name] = int32(len(all))
	n.snap.Store(&next)
	return int32(len(all))
}

// name returns the name of id ("" for -1).
func (n *names) name(id int32) string {
	if id < 0 {
		return ""
	}
	return (*n.snap.Load())[id]
}
