package accounts

import "math"

// Throughput in a cluster: each node enforces a user's throughput times
// its share, the part of the user's sending binds (transmitter and
// transceiver) held on this node, so the nodes' rates add up to the
// configured one wherever the ESME binds.

// shareEpsilon: a share that moved less than this keeps its bucket (no
// rebuild per refresh for noise).
const shareEpsilon = 0.01

// SplitThroughput gives each user with a throughput limit the bucket of
// its share of it: share(systemID, local) with local this node's sending
// binds of the user, clamped to (0, 1]. A bucket whose share changed is
// replaced by one at rate × share with the configured burst, keeping how
// far ahead the old one ran, so a re-split grants no fresh burst. The
// owner calls it periodically (cluster.Binds tells the other nodes'
// binds); outside a cluster it is never called and every bucket allows
// the whole rate.
func (s *Store) SplitThroughput(share func(systemID string, local int) float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.snap.Load().order {
		a := e.cur.Load()
		l := &a.user.Limits
		if !(l.Throughput > 0) || l.live == nil {
			continue
		}
		f := share(a.user.SystemID, int(e.byType[0].Load()+e.byType[2].Load()))
		if !(f > 0) || f > 1 {
			f = 1
		}
		old := l.live.bucket
		cur := old.share
		if cur == 0 {
			cur = 1
		}
		if math.Abs(f-cur) < shareEpsilon {
			continue
		}
		n := *a
		b := NewBucket(l.Throughput*f, l.Burst)
		if l.Burst <= 0 {
			// burst 0 is one second of the configured rate, not of the share
			b = NewBucket(l.Throughput*f, int(math.Max(1, math.Ceil(l.Throughput))))
		}
		b.share = f
		b.tat.Store(old.tat.Load())
		n.user.Limits.live = n.user.Limits.newLive(b, l.live.credit, l.live.quota)
		e.cur.Store(&n)
	}
}
