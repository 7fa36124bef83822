package webhook

import (
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/storage"
)

// adoptWindow is how long after TakeOver the scheduler keeps taking up
// the departed node's queue: an item the departed node held leased while
// it sent it becomes leasable here only when its producer lease lapses
// (storage/jetstream: 10 s after it was applied, at the next sweep), which
// can be after the take-over began.
const adoptWindow = 30 * time.Second

// TakeOver takes up the callbacks a departed cluster node left pending
// (held under QueueOf(node)), so they are sent once, by this node, and
// keeps taking up that queue for adoptWindow. Each is held again under
// this node's queue, leased to this service, before its old copy is
// acknowledged: a later start of this node, not of the departed one,
// takes it up. A copy the store refuses is sent from the old item instead.
// It returns how many it took now; the cluster's take-over calls it on
// the one node that takes the departed node over (cluster.WatchDeparted).
func (s *Service) TakeOver(node int) (int, error) {
	q := QueueOf(node)
	if q == s.queue {
		return 0, nil
	}
	n, err := s.takeOverQueue(q)
	s.logTakeOver(node, n, err)
	return n, err
}

// AdoptShared takes up, on a cluster node, the callbacks an earlier build
// held under the one shared queue (Queue) that every node's journal
// carries and no node's own queue (QueueOf) names, and keeps taking up
// that queue for adoptWindow (those another node's producer lease held at
// this start). Each moves to this node's queue as TakeOver moves a
// departed node's. Every node calls it at start: the first to lease an
// item wins its cluster-wide claim (storage/jetstream claims), moves it
// and acknowledges the old copy, so each is adopted by one node, once;
// a later start finds the queue empty. One node (no cluster) keeps Queue
// as its own: nothing to adopt.
func (s *Service) AdoptShared() (int, error) {
	if s.queue == Queue {
		return 0, nil
	}
	n, err := s.takeOverQueue(Queue)
	lvl := zerolog.InfoLevel
	switch {
	case err != nil:
		lvl = zerolog.ErrorLevel
	case n == 0:
		lvl = zerolog.DebugLevel // every start of a cluster node, nothing to say
	}
	s.log.WithLevel(lvl).Str("event", "webhook_adopt_shared").Int("callbacks", n).Err(err).
		Msg("HTTP callbacks an earlier build held under the shared queue taken up: this node sends them")
	return n, err
}

// takeOverQueue adopts what queue q holds now and marks it for
// adoptQueued for adoptWindow.
func (s *Service) takeOverQueue(q string) (int, error) {
	now := s.now()
	s.mu.Lock()
	if s.adopting == nil {
		s.adopting = map[string]int64{}
	}
	s.adopting[q] = now.Add(adoptWindow).UnixNano()
	s.mu.Unlock()
	n, err := s.adoptFrom(q, now)
	if s.sched.started.Load() {
		s.sched.poke()
	}
	return n, err
}

// adoptQueued takes up what lapsed since in the queues TakeOver named
// (the scheduler's goroutine), and forgets those past adoptWindow.
func (s *Service) adoptQueued(now time.Time) {
	s.mu.Lock()
	qs := make([]string, 0, len(s.adopting))
	for q, until := range s.adopting {
		if now.UnixNano() > until {
			delete(s.adopting, q)
			continue
		}
		qs = append(qs, q)
	}
	s.mu.Unlock()
	for _, q := range qs {
		if n, err := s.adoptFrom(q, now); n > 0 || err != nil {
			s.log.Info().Str("event", "webhook_takeover_late").Str("queue", q[1:]).Int("callbacks", n).Err(err).
				Msg("more HTTP callbacks of a departed node or the earlier shared queue taken over (their producer's lease lapsed)")
		}
	}
}

// adoptFrom leases every callback queue q holds and adopts each.
func (s *Service) adoptFrom(q string, now time.Time) (int, error) {
	var batch [64]storage.Held
	taken := 0
	for {
		n, err := s.opts.Holds.Lease(q, now.Add(s.opts.HoldLifetime+leaseSlack).UnixNano(), batch[:])
		if err != nil {
			s.noteStore(err, "lease", now)
			return taken, err
		}
		for i := range n {
			s.adopt(&batch[i], now)
		}
		taken += n
		s.stats.takenOver.Add(uint64(n))
		if n < len(batch) {
			return taken, nil
		}
	}
}

// adopt moves one leased callback of a departed node to this node's
// queue and sends it.
func (s *Service) adopt(h *storage.Held, now time.Time) {
	c := *h
	c.SystemID, c.Key = s.queue, 0
	c.LeaseUntil = max(h.Expires, now.UnixNano()) + int64(leaseSlack)
	key, err := s.opts.Holds.Hold(&c)
	if err != nil {
		s.noteStore(err, "hold", now)
		s.takeUp(h, now)
		return
	}
	if err := s.opts.Holds.Ack(h.Key); err != nil {
		s.noteStore(err, "ack", now)
	}
	h.Key = key
	s.takeUp(h, now)
}

func (s *Service) logTakeOver(node, taken int, err error) {
	lvl := zerolog.InfoLevel
	if err != nil {
		lvl = zerolog.ErrorLevel
	}
	s.log.WithLevel(lvl).Str("event", "webhook_takeover").Int("departed", node).Int("callbacks", taken).Err(err).
		Msg("a departed node's pending HTTP callbacks taken over: this node sends them")
}
