package webhook

import "sync/atomic"

// counters are the service's totals; per kind arrays are indexed by
// kindIndex (0 receipts, 1 MO).
type counters struct {
	enqueued    [2]atomic.Uint64
	sent        [2]atomic.Uint64
	retried     [2]atomic.Uint64
	permanent   [2]atomic.Uint64
	expired     [2]atomic.Uint64
	refused     [2]atomic.Uint64
	restored    atomic.Uint64
	takenOver   atomic.Uint64
	storeErrors atomic.Uint64
}

// KindStats are one kind's totals since New.
type KindStats struct {
	Enqueued  uint64 // kept and queued (Enqueue returned nil)
	Sent      uint64 // acknowledged by the receiver (2xx, with the ack body when asked)
	Retried   uint64 // attempts that failed and were scheduled again
	Permanent uint64 // refused for good (a 4xx other than 408 and 429): dead letters
	Expired   uint64 // not delivered within HoldLifetime: dead letters
	Refused   uint64 // not kept: bad URL, over a pending limit, the store refused
}

// Stats is a snapshot of the service: for metrics, not per message.
type Stats struct {
	Receipts, MO KindStats
	Restored     uint64 // callbacks of a previous run taken up
	TakenOver    uint64 // callbacks of departed cluster nodes taken up (TakeOver)
	StoreErrors  uint64 // Hold, Ack, Lease or dead-letter writes that failed
	Pending      int    // callbacks in memory (ready, in flight, waiting for a retry)
	Waiting      int    // of those, waiting for a retry
	Targets      int    // targets with callbacks in memory
}

// Stats returns the counters and gauges.
func (s *Service) Stats() Stats {
	st := Stats{Receipts: s.kindStats(0), MO: s.kindStats(1), Restored: s.stats.restored.Load(),
		TakenOver: s.stats.takenOver.Load(), StoreErrors: s.stats.storeErrors.Load(), Waiting: s.sched.waiting()}
	s.mu.Lock()
	st.Pending, st.Targets = s.pending, len(s.targets)
	s.mu.Unlock()
	return st
}

func (s *Service) kindStats(i int) KindStats {
	c := &s.stats
	return KindStats{Enqueued: c.enqueued[i].Load(), Sent: c.sent[i].Load(), Retried: c.retried[i].Load(),
		Permanent: c.permanent[i].Load(), Expired: c.expired[i].Load(), Refused: c.refused[i].Load()}
}
