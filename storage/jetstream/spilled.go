package jetstream

import (
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/msg"
)

// spilled are the messages on a shared connector queue (cluster.Queues):
// marked by a journal entry (kSpill) once the queue stored them, on every
// node, until their acceptance, final state or deletion. Recover and
// RecoverNode pass them by: the queue, not the accepting node's start or
// its taker, sends them (docs/CLUSTER.md "Shared connector queues").
type spilled struct {
	mu  sync.Mutex
	ids map[msg.ID]struct{}
	n   atomic.Int64 // len(ids): the per-message paths skip the lock at 0
}

func (p *spilled) add(id msg.ID) {
	p.mu.Lock()
	if p.ids == nil {
		p.ids = map[msg.ID]struct{}{}
	}
	if _, ok := p.ids[id]; !ok {
		p.ids[id] = struct{}{}
		p.n.Add(1)
	}
	p.mu.Unlock()
}

func (p *spilled) drop(id msg.ID) {
	if p.n.Load() == 0 {
		return
	}
	p.mu.Lock()
	if _, ok := p.ids[id]; ok {
		delete(p.ids, id)
		p.n.Add(-1)
	}
	p.mu.Unlock()
}

func (p *spilled) has(id msg.ID) bool {
	if p.n.Load() == 0 {
		return false
	}
	p.mu.Lock()
	_, ok := p.ids[id]
	p.mu.Unlock()
	return ok
}

// reset forgets every mark (a replay starts over).
func (p *spilled) reset() {
	p.mu.Lock()
	p.ids = nil
	p.n.Store(0)
	p.mu.Unlock()
}

// MarkSpilled journals that the messages ids are on a shared connector
// queue (one entry each, in the journal's batches): from then on no start
// or take-over re-drives them; the queue's puller sends them.
func (s *Store) MarkSpilled(ids []msg.ID) error {
	for _, id := range ids {
		if _, sendable := s.idx.Sendable(id); sendable {
			s.spill.add(id)
		}
		b := s.buf()
		*b = appendU64(*b, uint64(id))
		if err := s.log(kSpill, b, false); err != nil {
			return err
		}
	}
	return nil
}

// Spilled reports whether id is marked as on a shared connector queue.
func (s *Store) Spilled(id msg.ID) bool { return s.spill.has(id) }

// Sendable reports whether id's record is in this node's index (found)
// and still to be sent upstream (sendable): not final, not accepted.
func (s *Store) Sendable(id msg.ID) (found, sendable bool) { return s.idx.Sendable(id) }
