package smppout

import (
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/msg"
)

// An upstream id the IDMap could not store (its store's device full or
// failing) is not dropped: the receipt that will name it would then be
// kept as a dead letter, never reaching its ESME. It waits here, in
// memory, where lookups find it, and the Runtime's worker offers it to
// the IDMap again every scan until it is stored. Bounded by ParkMax; past
// that the oldest goes (counted: a receipt naming it becomes a dead
// letter, GET /v1/dead-letters, with its upstream id). A crash loses what
// waits here the same way.

type pendingID struct {
	key  [keyLen]byte
	klen uint8
	id   msg.ID
}

// pendingIDs is a FIFO of ids not stored yet, guarded by mu; n mirrors
// its length for lock-free checks on the receipt path.
type pendingIDs struct {
	mu   sync.Mutex
	q    []pendingID
	n    atomic.Int32
	lost atomic.Uint64
}

// add keeps key (at most keyLen octets) as our id; past max entries the
// oldest goes, counted.
func (p *pendingIDs) add(key []byte, id msg.ID, max int) {
	var e pendingID
	e.klen = uint8(copy(e.key[:], key))
	e.id = id
	p.mu.Lock()
	if len(p.q) >= max {
		copy(p.q, p.q[1:])
		p.q = p.q[:len(p.q)-1]
		p.lost.Add(1)
	}
	p.q = append(p.q, e)
	p.n.Store(int32(len(p.q)))
	p.mu.Unlock()
}

// find returns our id for key when it waits here.
func (p *pendingIDs) find(key []byte) (msg.ID, bool) {
	if p.n.Load() == 0 {
		return 0, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.q) - 1; i >= 0; i-- {
		if e := &p.q[i]; string(e.key[:e.klen]) == string(key) {
			return e.id, true
		}
	}
	return 0, false
}

// upstreamIDNotKept keeps an upstream id the IDMap refused with err.
func (c *client) upstreamIDNotKept(key []byte, id msg.ID, err error) {
	c.idsNotKept.Add(1)
	c.pending.add(key, id, c.opts.ParkMax)
	if n, ok := pass(&c.idLog, c.mono()+1); ok {
		c.log.Warn().Uint64("count", n).Err(err).Uint64("not_kept_total", c.idsNotKept.Load()).
			Int32("pending", c.pending.n.Load()).Uint64("lost_total", c.pending.lost.Load()).
			Msg("upstream message id not stored: kept in memory for its receipt and stored once the store takes it")
	}
}

// retryPendingIDs offers the waiting ids to the IDMap again, oldest first,
// until one is refused (the Runtime's worker, every scan).
func (c *client) retryPendingIDs() {
	p := &c.pending
	if p.n.Load() == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	done := 0
	for i := range p.q {
		e := &p.q[i]
		if c.opts.IDMap.PutUpstream(c.opts.ID, e.key[:e.klen], e.id) != nil {
			break
		}
		done++
	}
	if done > 0 {
		p.q = p.q[:copy(p.q, p.q[done:])]
		p.n.Store(int32(len(p.q)))
	}
}
