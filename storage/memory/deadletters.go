package memory

import (
	"sync"

	"github.com/smppd/smppd/storage"
)

// maxDeadBody is the largest body buffer a dead letter's slot keeps for
// the next letter.
const maxDeadBody = 8 << 10

// deadLetters is the in-memory storage.DeadLetters: a ring of the newest
// letters (each slot keeps its body buffer for the next), bounded by
// Options.MaxDeadLetters.
type deadLetters struct {
	mu      sync.Mutex
	ring    []storage.DeadLetter // grows up to max, then wraps
	head    int                  // the oldest letter once the ring is full
	max     int
	added   uint64
	dropped uint64
	clock   func() int64
}

func (d *deadLetters) init(max int, clock func() int64) {
	if max <= 0 {
		max = DefaultMaxDeadLetters
	}
	d.max, d.clock = max, clock
}

// Add implements storage.DeadLetters; a full list drops its oldest letter.
func (d *deadLetters) Add(l *storage.DeadLetter) error {
	at := l.At
	if at == 0 {
		at = d.clock()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.added++
	var slot *storage.DeadLetter
	if len(d.ring) < d.max {
		d.ring = append(d.ring, storage.DeadLetter{})
		slot = &d.ring[len(d.ring)-1]
	} else {
		slot = &d.ring[d.head]
		d.head = (d.head + 1) % len(d.ring)
		d.dropped++
	}
	body := slot.Body[:0]
	if cap(body) > maxDeadBody {
		body = nil
	}
	*slot = *l
	slot.Body = append(body, l.Body...)
	slot.At = at
	return nil
}

// List implements storage.DeadLetters: newest first, fn under the lock
// (it must not call the list).
func (d *deadLetters) List(max int, fn func(l *storage.DeadLetter)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.ring)
	if max > 0 && max < n {
		n = max
	}
	for i := range n {
		// The newest is just before head (or last, before the ring wraps).
		k := (d.head - 1 - i + 2*len(d.ring)) % len(d.ring)
		fn(&d.ring[k])
	}
	return nil
}

// Len implements storage.DeadLetters.
func (d *deadLetters) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.ring)
}

func (d *deadLetters) stats() (n int, added, dropped uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.ring), d.added, d.dropped
}

// DeadLetters implements storage.Store.
func (s *Store) DeadLetters() storage.DeadLetters { return &s.dead }
