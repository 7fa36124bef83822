package memory

import (
	"sync"

	"github.com/smppd/smppd/storage"
)

// ledger is the in-memory storage.Ledger: each user's balance as its
// entries and its records' charges give it, in the order they came. It
// keeps no entries, only the sums, and nothing survives a restart.
type ledger struct {
	mu    sync.Mutex
	users map[string]balance
}

// balance is one user's sum; set once a LedgerSet came.
type balance struct {
	v   int64
	set bool
}

func (l *ledger) init() { l.users = make(map[string]balance) }

// add adds d to systemID's balance (a record's charge: negative). It
// allocates only for a user the ledger has not seen.
func (l *ledger) add(systemID string, d int64) {
	l.mu.Lock()
	b := l.users[systemID]
	b.v += d
	l.users[systemID] = b
	l.mu.Unlock()
}

// Append implements storage.Ledger.
func (l *ledger) Append(e *storage.LedgerEntry) error {
	if !e.Valid() {
		return storage.ErrBadLedgerEntry
	}
	l.mu.Lock()
	b := l.users[e.SystemID]
	switch e.Kind {
	case storage.LedgerSet:
		b = balance{v: e.Amount, set: true}
	case storage.LedgerTopUp, storage.LedgerRefund:
		b.v += e.Amount
	case storage.LedgerCharge:
		b.v -= e.Amount
	}
	l.users[e.SystemID] = b
	l.mu.Unlock()
	return nil
}

// Balances implements storage.Ledger: fn runs without the lock held.
func (l *ledger) Balances(fn func(systemID string, balance int64, set bool)) error {
	type row struct {
		id string
		b  balance
	}
	l.mu.Lock()
	rows := make([]row, 0, len(l.users))
	for id, b := range l.users {
		rows = append(rows, row{id, b})
	}
	l.mu.Unlock()
	for _, r := range rows {
		fn(r.id, r.b.v, r.b.set)
	}
	return nil
}

// Ledger implements storage.Store.
func (s *Store) Ledger() storage.Ledger { return &s.ledger }
