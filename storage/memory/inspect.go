package memory

import "github.com/smppd/smppd/storage"

// Walk implements storage.HeldWalker: the items in slot order (not
// arrival), under the lock.
func (hs *Holds) Walk(fn func(h *storage.Held, leased bool) bool) error {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for i := range hs.ents {
		if e := &hs.ents[i]; e.used && !fn(&e.h, e.leased) {
			return nil
		}
	}
	return nil
}

// Remove implements storage.DeadLetterRemover: the ring is rebuilt
// oldest first without the letters at at (an operator's purge, not the
// message path).
func (d *deadLetters) Remove(at int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.ring)
	kept := make([]storage.DeadLetter, 0, n)
	for i := range n {
		l := d.ring[(d.head+i)%n]
		if l.At != at {
			kept = append(kept, l)
		}
	}
	d.ring, d.head = kept, 0
	return n - len(kept), nil
}
