package memory

import (
	"errors"
	"sync"

	"github.com/smppd/smppd/storage"
)

// ErrNilHeld is returned by Hold for a nil item.
var ErrNilHeld = errors.New("memory: nil held item")

// Holds is the in-memory storage.Holds: a FIFO per system_id under one
// mutex, bounded in total. Get it from Store.Holds (a zero Holds also
// works, with DefaultMaxHeld). It keeps the *Held
// pointers it is given (never copies them) until Take or Expire hands them
// back. Not on the per-message path: Hold and Take allocate when a user's
// queue first appears or grows.
type Holds struct {
	mu      sync.Mutex
	users   map[string]*heldQueue
	n       int
	max     int
	refused uint64
}

// heldQueue is one user's items, oldest at items[head].
type heldQueue struct {
	items []*storage.Held
	head  int
	// minExp is a lower bound of the Expires of the queued items: Expire
	// skips the queue while now <= minExp. Take leaves it low (safe).
	minExp int64
}

func (q *heldQueue) len() int { return len(q.items) - q.head }

func (hs *Holds) init(max int) {
	if max <= 0 {
		max = DefaultMaxHeld
	}
	hs.users = make(map[string]*heldQueue)
	hs.max = max
}

// Hold appends h to h.SystemID's queue. It returns storage.ErrHeldFull when
// the store already holds its limit (h is not kept), ErrNilHeld for nil.
func (hs *Holds) Hold(h *storage.Held) error {
	if h == nil {
		return ErrNilHeld
	}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.users == nil {
		hs.init(hs.max)
	}
	if hs.n >= hs.max {
		hs.refused++
		return storage.ErrHeldFull
	}
	q := hs.users[h.SystemID]
	if q == nil {
		q = &heldQueue{minExp: h.Expires}
		hs.users[h.SystemID] = q
	}
	if q.head > 0 && len(q.items) == cap(q.items) {
		// Reuse the front the takes freed before growing.
		k := copy(q.items, q.items[q.head:])
		clear(q.items[k:])
		q.items, q.head = q.items[:k], 0
	}
	q.items = append(q.items, h)
	q.minExp = min(q.minExp, h.Expires)
	hs.n++
	return nil
}

// Take moves up to len(dst) of systemID's oldest items into dst[0:k], in
// arrival order, and returns k. The store forgets them: they are the
// caller's now.
func (hs *Holds) Take(systemID string, dst []*storage.Held) int {
	if len(dst) == 0 {
		return 0
	}
	hs.mu.Lock()
	defer hs.mu.Unlock()
	q := hs.users[systemID]
	if q == nil {
		return 0
	}
	k := copy(dst, q.items[q.head:])
	clear(q.items[q.head : q.head+k])
	q.head += k
	hs.n -= k
	if q.len() == 0 {
		delete(hs.users, systemID)
	}
	return k
}

// Expire removes every item whose Expires is before now (Unix ns), keeping
// the others in order, then calls fn for each removed item on the caller's
// goroutine after releasing the lock (so fn may call Hold or Take), and
// returns how many it removed. fn may be nil. It allocates a slice for the
// removed items only when there are some.
func (hs *Holds) Expire(now int64, fn func(*storage.Held)) int {
	var out []*storage.Held
	hs.mu.Lock()
	for user, q := range hs.users {
		if q.minExp >= now {
			continue
		}
		kept := q.items[:q.head]
		minExp := int64(0)
		for _, h := range q.items[q.head:] {
			if h.Expires < now {
				out = append(out, h)
				continue
			}
			if len(kept) == q.head || h.Expires < minExp {
				minExp = h.Expires
			}
			kept = append(kept, h)
		}
		clear(q.items[len(kept):])
		q.items, q.minExp = kept, minExp
		if q.len() == 0 {
			delete(hs.users, user)
		}
	}
	hs.n -= len(out)
	hs.mu.Unlock()
	if fn != nil {
		for _, h := range out {
			fn(h)
		}
	}
	return len(out)
}

// Len is the number of items held.
func (hs *Holds) Len() int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.n
}

// Users is the number of users with at least one item held.
func (hs *Holds) Users() int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return len(hs.users)
}

func (hs *Holds) stats() (n, users int, refused uint64) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.n, len(hs.users), hs.refused
}
