package delivery

import (
	"sync"

	"github.com/smppd/smppd/engine"
)

// receiverCounts counts each user's receiver and transceiver binds on this
// node, so an item held by another node of a cluster is leased here only
// when a bind here can take it: leasing it for a user bound elsewhere would
// only give it back, a journal write each way.
type receiverCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *receiverCounts) add(user string, d int) {
	r.mu.Lock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	if v := r.n[user] + d; v > 0 {
		r.n[user] = v
	} else {
		delete(r.n, user)
	}
	r.mu.Unlock()
}

func (r *receiverCounts) bound(user string) bool {
	r.mu.Lock()
	ok := r.n[user] > 0
	r.mu.Unlock()
	return ok
}

func takesDeliveries(t engine.BindType) bool {
	return t == engine.BindReceiver || t == engine.BindTransceiver
}

// HeldElsewhere tells the service that another node of a cluster held an
// item for systemID (storage/jetstream's OnHeld): when a receiver of that
// user is bound here, the background goroutine leases and sends it at once,
// as after a bind. It never blocks.
func (h *Service) HeldElsewhere(systemID string) {
	if !h.receivers.bound(systemID) {
		return
	}
	h.binds.add(systemID)
	h.bg.poke()
}
