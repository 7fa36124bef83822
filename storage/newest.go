package storage

import "github.com/smppd/smppd/msg"

// Newest keeps the n highest ids it is offered: the walk of Messages.Find,
// which visits records in no useful order and returns the newest page.
// A min-heap of at most n ids: O(log n) per id offered.
type Newest struct {
	ids []msg.ID
	n   int
}

// Reset empties t and sets how many ids it keeps.
func (t *Newest) Reset(n int) {
	t.ids, t.n = t.ids[:0], n
}

// Offer considers id.
func (t *Newest) Offer(id msg.ID) {
	switch {
	case t.n <= 0:
	case len(t.ids) < t.n:
		t.ids = append(t.ids, id)
		t.up(len(t.ids) - 1)
	case id > t.ids[0]:
		t.ids[0] = id
		t.down(0)
	}
}

// Sorted returns the ids kept, highest first; t is empty afterwards.
func (t *Newest) Sorted() []msg.ID {
	h := t.ids
	for n := len(h) - 1; n > 0; n-- {
		// Pop the smallest to the end: the array ends up descending.
		h[0], h[n] = h[n], h[0]
		t.ids = h[:n]
		t.down(0)
	}
	t.ids = h[:0]
	return h
}

func (t *Newest) up(i int) {
	h := t.ids
	for i > 0 {
		p := (i - 1) / 2
		if h[p] <= h[i] {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (t *Newest) down(i int) {
	h := t.ids
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && h[c+1] < h[c] {
			c++
		}
		if h[i] <= h[c] {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
