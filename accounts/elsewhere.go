package accounts

import "sync/atomic"

// BindsElsewhere shares bind counts with the other nodes of a cluster
// (cluster.Binds): max_binds and max_binds_per_type then count a user's
// binds on every node. Both methods must be cheap and never block: they
// run on every bind and unbind.
type BindsElsewhere interface {
	// Binds returns systemID's binds on the other nodes: all, and per
	// bind type (BindType.Index order).
	Binds(systemID string) (all int, byType [3]int)
	// Changed tells the other nodes this node's counts for systemID.
	Changed(systemID string, all int, byType [3]int)
}

type elsewhereRef struct{ b BindsElsewhere }

// SetBindsElsewhere makes the bind limits cluster-wide; nil makes them
// this process's again. Binds held stay valid.
func (s *Store) SetBindsElsewhere(b BindsElsewhere) {
	if b == nil {
		s.elsewhere.Store(nil)
		return
	}
	s.elsewhere.Store(&elsewhereRef{b: b})
}

// reserveBeside is reserve with limit less what other nodes hold.
func reserveBeside(ctr *atomic.Int64, limit, elsewhere int) bool {
	if limit > 0 && elsewhere > 0 {
		if limit -= elsewhere; limit <= 0 {
			return false
		}
	}
	return reserve(ctr, limit)
}

// tellBinds reports e's counts to the other nodes, when shared.
func tellBinds(r *elsewhereRef, e *entry, systemID string) {
	if r == nil {
		return
	}
	r.b.Changed(systemID, int(e.binds.Load()),
		[3]int{int(e.byType[0].Load()), int(e.byType[1].Load()), int(e.byType[2].Load())})
}
