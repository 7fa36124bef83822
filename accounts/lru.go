package accounts

// lru is a bounded map that evicts the least recently touched entry when a
// new key would exceed its capacity. It is not safe for concurrent use: its
// owner holds a mutex. Entries are kept in a doubly linked list threaded
// through the map values, newest at the head.
type lru[K comparable, V any] struct {
	cap        int
	m          map[K]*lruNode[K, V]
	head, tail *lruNode[K, V]
}

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	prev, next *lruNode[K, V]
}

func newLRU[K comparable, V any](capacity int) *lru[K, V] {
	return &lru[K, V]{cap: capacity, m: make(map[K]*lruNode[K, V])}
}

func (l *lru[K, V]) len() int { return len(l.m) }

// get returns the value for k without changing its age.
func (l *lru[K, V]) get(k K) (*V, bool) {
	n, ok := l.m[k]
	if !ok {
		return nil, false
	}
	return &n.val, true
}

// touch returns the entry for k, creating it (zero value) if needed, and
// makes it the newest. Creating may evict the oldest entry.
func (l *lru[K, V]) touch(k K) *V {
	if n, ok := l.m[k]; ok {
		l.unlink(n)
		l.pushFront(n)
		return &n.val
	}
	if len(l.m) >= l.cap && l.tail != nil {
		old := l.tail
		l.unlink(old)
		delete(l.m, old.key)
	}
	n := &lruNode[K, V]{key: k}
	l.m[k] = n
	l.pushFront(n)
	return &n.val
}

func (l *lru[K, V]) remove(k K) {
	if n, ok := l.m[k]; ok {
		l.unlink(n)
		delete(l.m, k)
	}
}

// each calls f for every entry, newest first; f may not modify l.
func (l *lru[K, V]) each(f func(K, *V)) {
	for n := l.head; n != nil; n = n.next {
		f(n.key, &n.val)
	}
}

func (l *lru[K, V]) pushFront(n *lruNode[K, V]) {
	n.prev, n.next = nil, l.head
	if l.head != nil {
		l.head.prev = n
	}
	l.head = n
	if l.tail == nil {
		l.tail = n
	}
}

func (l *lru[K, V]) unlink(n *lruNode[K, V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = nil, nil
}
