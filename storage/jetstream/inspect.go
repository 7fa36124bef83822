package jetstream

import (
	"errors"

	"github.com/smppd/smppd/storage"
)

// errNoWalk: the local index cannot list its held items (it always can:
// it is a disk store).
var errNoWalk = errors.New("jetstream: the index does not list held items")

// Walk implements storage.HeldWalker: this node's index, which follows
// every node's items (keys are this node's, as Lease gives them).
func (h *holds) Walk(fn func(it *storage.Held, leased bool) bool) error {
	w, ok := h.s.idx.Holds().(storage.HeldWalker)
	if !ok {
		return errNoWalk
	}
	return w.Walk(fn)
}
