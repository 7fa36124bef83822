package memory

import "sync"

// table is one shard of the record, upstream-id or reverse map: a ring of
// pointer-free slots in insertion order (head is the oldest, n the count)
// with an open-addressing index from hash tag to slot, and refs, a ring
// parallel to it of the entries' pointer fields (struct{} when they have
// none), so the garbage collector scans only those. A full table evicts its
// oldest slot. All fields but tagOf are guarded by mu.
type table[V, R any] struct {
	mu      sync.Mutex
	ents    []slot[V]
	refs    []R
	head    int
	n       int // slots in use, dead ones included
	dead    int // slots deleted out of order, waiting to reach the head
	max     int // capacity limit of this table
	ix      index
	evicted uint64
	expired uint64
	// tagOf returns an entry's hash tag under seed, for eviction and
	// growth: records recompute it from the id (cheaper than keeping it),
	// upstream entries keep theirs (their keys are long).
	tagOf func(seed uint64, v *V) uint32
	seed  uint64
	// onDrop, when set, is called with a live entry's value before its
	// slot is evicted, expired or removed: the record tables free its
	// rewritten addresses.
	onDrop func(v *V)
	_      cachePad
}

// slot is one ring entry: the value and its time stamp (for the lifetime).
// A live entry's stamp is never 0: 0 marks a slot deleted but not yet at
// the head (unindexed, skipped).
type slot[V any] struct {
	at int64
	v  V
}

// live is the number of entries a lookup can find (or that have expired
// without a sweep yet). Caller holds mu.
func (t *table[V, R]) live() int { return t.n - t.dead }

// add takes the tail slot for a new key stamped at, growing the ring or
// evicting its oldest slot first when it is full, and indexes it under
// tag. The caller fills v and refs. Caller holds mu.
func (t *table[V, R]) add(tag uint32, at int64) int {
	if t.n == len(t.ents) {
		if len(t.ents) < t.max {
			t.grow()
		} else {
			if t.ents[t.head].at != 0 {
				t.evicted++
			}
			t.dropHead()
		}
	}
	s := t.pos(t.n)
	t.n++
	t.ix.insert(tag, uint32(s))
	t.ents[s].at = at
	return s
}

// pos returns the slot i places after the head. Caller holds mu.
func (t *table[V, R]) pos(i int) int {
	s := t.head + i
	if s >= len(t.ents) {
		s -= len(t.ents)
	}
	return s
}

// grow moves the ring into arrays twice the size (up to max), oldest first
// at slot 0, and rebuilds the index.
func (t *table[V, R]) grow() {
	size := ringNext(len(t.ents), t.max)
	ents := unroll(make([]slot[V], size), t.ents, t.head, t.n)
	t.refs = unroll(make([]R, size), t.refs, t.head, t.n)
	t.ents, t.head = ents, 0
	t.ix.reset(size)
	for i := range t.n {
		if ents[i].at != 0 {
			t.ix.insert(t.tagOf(t.seed, &ents[i].v), uint32(i))
		}
	}
}

// unroll copies the n ring elements of src starting at head into dst[0:n],
// oldest first, and returns dst.
func unroll[E any](dst, src []E, head, n int) []E {
	k := copy(dst, src[head:head+min(n, len(src)-head)])
	copy(dst[k:], src[:n-k])
	return dst
}

// dropHead removes the oldest slot, letting the GC have its refs. Caller
// holds mu; n > 0.
func (t *table[V, R]) dropHead() {
	e := &t.ents[t.head]
	if e.at == 0 {
		t.dead--
	} else {
		t.ix.remove(t.tagOf(t.seed, &e.v), uint32(t.head))
		if t.onDrop != nil {
			t.onDrop(&e.v)
		}
	}
	var zero R
	t.refs[t.head] = zero
	t.head++
	if t.head == len(t.ents) {
		t.head = 0
	}
	t.n--
}

// remove deletes slot s: the newest slot is freed, an older one is
// unindexed and left dead in the ring until it reaches the head (the
// ring keeps insertion order). Caller holds mu.
func (t *table[V, R]) remove(s int) {
	e := &t.ents[s]
	t.ix.remove(t.tagOf(t.seed, &e.v), uint32(s))
	if t.onDrop != nil {
		t.onDrop(&e.v)
	}
	var zr R
	var zv V
	t.refs[s], e.v, e.at = zr, zv, 0
	if s == t.pos(t.n-1) {
		t.n--
		return
	}
	t.dead++
}

// sweep drops the slots older than ttl at now from the oldest end, and
// dead ones there, and returns how many live entries expired. It stops at
// the first live entry still young, so an entry inserted behind a younger
// one waits for it (lookups already skip it). An emptied table gives its
// arrays back.
func (t *table[V, R]) sweep(now, ttl int64) int {
	t.mu.Lock()
	k := 0
	for t.n > 0 {
		if e := &t.ents[t.head]; e.at != 0 {
			if now-e.at <= ttl {
				break
			}
			k++
		}
		t.dropHead()
	}
	t.expired += uint64(k)
	if t.n == 0 && t.ents != nil {
		t.ents, t.refs, t.ix, t.head = nil, nil, index{}, 0
	}
	t.mu.Unlock()
	return k
}

// tableStats sums the sizes and counters of ts, taking each lock in turn.
func tableStats[V, R any](ts []table[V, R]) (n int, evicted, expired uint64) {
	for i := range ts {
		t := &ts[i]
		t.mu.Lock()
		n += t.live()
		evicted += t.evicted
		expired += t.expired
		t.mu.Unlock()
	}
	return n, evicted, expired
}

// ringNext returns the ring size after size when growing towards max.
func ringNext(size, max int) int {
	n := size * 2
	if n < firstRing {
		n = firstRing
	}
	if n > max {
		n = max
	}
	return n
}
