package accounts

// carry gives n (a user's new limits, checked, not prepared) live counters
// for a reload, reusing those of p (the user's current limits) where the
// file did not change them; fileBal and fileUsed are what the users file
// last said (as loaded or as last written back). See Store.Reload for the
// rules. Counters kept are changed in place, atomically, so charges taken
// before the reload are refunded to the counter they came from.
func carry(n, p *UserLimits, fileBal Amount, fileUsed int64) {
	pl := p.live
	b := pl.bucket
	if n.Throughput != p.Throughput || n.Burst != p.Burst {
		b = NewBucket(n.Throughput, n.Burst)
	}
	c := pl.credit
	if n.Balance != fileBal { // edited in the file: the file wins
		if !n.Balance.IsUnlimited() && !c.c.unlimited {
			c.c.set(n.Balance.Micros())
		} else {
			c = NewCredit(n.Balance)
		}
	}
	q := pl.quota
	switch {
	case n.Quota <= 0: // unlimited now
		if !q.c.unlimited {
			q = NewQuota(0)
		}
	case q.c.unlimited || p.Quota <= 0: // limited from now on
		q = n.newQuota(n.QuotaUsed)
	case n.QuotaUsed != fileUsed: // quota_used edited: the file wins
		q.c.set(n.Quota - n.QuotaUsed)
	case n.Quota != p.Quota: // only the total changed: keep what was used
		q.c.shift(n.Quota - p.Quota)
	}
	n.live = n.newLive(b, c, q)
}

// carryShared is carry in shared mode: the bucket by carry's rule; a
// balance or quota keeps this node's live slice unless it switched
// between unlimited and limited, which starts a new, empty slice (the
// cluster's pool holds the value, never the record).
func (s *Store) carryShared(id string, n, p *UserLimits) {
	pl := p.live
	b := pl.bucket
	if n.Throughput != p.Throughput || n.Burst != p.Burst {
		b = NewBucket(n.Throughput, n.Burst)
	}
	c := pl.credit
	if n.Balance.IsUnlimited() != c.c.unlimited {
		c = s.sharedCredit(id, n.Balance)
	}
	q := pl.quota
	if (n.Quota <= 0) != q.c.unlimited {
		q = s.sharedQuota(id, n.Quota)
	}
	n.live = n.newLive(b, c, q)
}
