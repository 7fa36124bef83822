package memory

import (
	"sync"

	"github.com/smppd/smppd/storage"
)

// ledger is the in-memory storage.Ledger: each account's balance as its
// entries and its records' charges give it, in the order they came. It
// keeps no entries, only the sums, and nothing survives a restart.
type ledger struct {
	mu    sync.Mutex
	users map[string]*balance
}

// balance is one account's sum; set once a LedgerSet came. quota links a
// user's account to its QuotaAccount (made on first use).
type balance struct {
	v     int64
	set   bool
	quota *balance
}

func (l *ledger) init() { l.users = make(map[string]*balance) }

// account returns id's balance, made on first use. Caller holds mu.
func (l *ledger) account(id string) *balance {
	b := l.users[id]
	if b == nil {
		b = &balance{}
		l.users[id] = b
	}
	return b
}

// charge takes d from systemID's balance and parts from its quota account
// (a record's charge). It allocates only for an account not seen before.
func (l *ledger) charge(systemID string, d, parts int64) {
	l.mu.Lock()
	b := l.account(systemID)
	b.v -= d
	if parts != 0 {
		if b.quota == nil {
			b.quota = l.account(storage.QuotaAccount(systemID))
		}
		b.quota.v -= parts
	}
	l.mu.Unlock()
}

// Append implements storage.Ledger.
func (l *ledger) Append(e *storage.LedgerEntry) error {
	if !e.Valid() {
		return storage.ErrBadLedgerEntry
	}
	l.mu.Lock()
	b := l.account(e.SystemID)
	switch e.Kind {
	case storage.LedgerSet:
		b.v, b.set = e.Amount, true
	case storage.LedgerTopUp, storage.LedgerRefund:
		b.v += e.Amount
	case storage.LedgerCharge:
		b.v -= e.Amount
	}
	l.mu.Unlock()
	return nil
}

// Balances implements storage.Ledger: fn runs without the lock held.
func (l *ledger) Balances(fn func(systemID string, balance int64, set bool)) error {
	type row struct {
		id  string
		v   int64
		set bool
	}
	l.mu.Lock()
	rows := make([]row, 0, len(l.users))
	for id, b := range l.users {
		rows = append(rows, row{id, b.v, b.set})
	}
	l.mu.Unlock()
	for _, r := range rows {
		fn(r.id, r.v, r.set)
	}
	return nil
}

// Ledger implements storage.Store.
func (s *Store) Ledger() storage.Ledger { return &s.ledger }
