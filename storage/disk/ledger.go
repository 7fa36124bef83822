package disk

import (
	"sync"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// ledger is the durable storage.Ledger: each user's balance as the log's
// entries give it in order (kLedger entries, the ledger change of each
// kPut, kBalance snapshots). Every write that changes a balance is
// appended and applied under mu, so the log's order of those entries is
// the order they were applied in: a snapshot compaction writes holds
// exactly the changes before it.
type ledger struct {
	s     *Store
	mu    sync.Mutex
	users map[string]*userBalance
	buf   []byte
}

// userBalance is one account's balance; seg is the oldest segment it
// depends on (its latest set or snapshot, or its first change when it has
// none), 0 when none: compaction snapshots it before dropping that
// segment. quota links a user's account to its storage.QuotaAccount (made
// on first use).
type userBalance struct {
	v     int64
	set   bool
	seg   uint64
	quota *userBalance
}

func (l *ledger) init(s *Store) {
	l.s = s
	l.users = make(map[string]*userBalance)
	l.buf = make([]byte, 0, 64)
}

// user returns systemID's balance, made on first use. Caller holds mu.
func (l *ledger) user(systemID string) *userBalance {
	u := l.users[systemID]
	if u == nil {
		u = &userBalance{}
		l.users[systemID] = u
	}
	return u
}

// change adds d to u's balance, written at pos. Caller holds mu.
func (u *userBalance) change(d int64, pos wal.Pos) {
	u.v += d
	if u.seg == 0 {
		u.seg = pos.Segment()
	}
}

// reset sets u's balance from a full-state entry at pos. Caller holds mu.
func (u *userBalance) reset(v int64, set bool, pos wal.Pos) {
	u.v, u.set, u.seg = v, set, pos.Segment()
}

// appendCharged appends a record entry (payload, already encoded) whose
// owner loses d, and applies it, under the ledger's lock.
func (l *ledger) appendCharged(systemID string, d charges, kind byte, payload []byte) (wal.Pos, error) {
	l.mu.Lock()
	pos, err := l.s.log.Append(kind, payload, false)
	if err == nil {
		l.charge(systemID, d, pos)
	}
	l.mu.Unlock()
	return pos, err
}

// charge applies a record's charges d, written at pos, to systemID's
// account and quota account. It allocates only for an account not seen
// before. Caller holds mu.
func (l *ledger) charge(systemID string, d charges, pos wal.Pos) {
	u := l.user(systemID)
	if d.money != 0 {
		u.change(-d.money, pos)
	}
	if d.parts != 0 {
		if u.quota == nil {
			u.quota = l.user(storage.QuotaAccount(systemID))
		}
		u.quota.change(-d.parts, pos)
	}
}

// Append implements storage.Ledger. Refunds, top-ups and sets may use the
// room above the disk's high-water mark (they settle what was accepted, or
// are the operator's); a charge may not.
func (l *ledger) Append(e *storage.LedgerEntry) error {
	if !e.Valid() {
		return storage.ErrBadLedgerEntry
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = appendLedger(l.buf[:0], e)
	pos, err := l.s.log.Append(kLedger, l.buf, e.Kind != storage.LedgerCharge)
	if err != nil {
		return err
	}
	l.apply(l.user(e.SystemID), e.Kind, e.Amount, pos)
	return nil
}

// apply applies one ledger entry at pos to u. Caller holds mu.
func (l *ledger) apply(u *userBalance, kind storage.LedgerKind, amount int64, pos wal.Pos) {
	switch kind {
	case storage.LedgerSet:
		u.reset(amount, true, pos)
	case storage.LedgerTopUp, storage.LedgerRefund:
		u.change(amount, pos)
	case storage.LedgerCharge:
		u.change(-amount, pos)
	}
}

// Balances implements storage.Ledger; fn runs without the lock held.
func (l *ledger) Balances(fn func(systemID string, balance int64, set bool)) error {
	type row struct {
		id  string
		v   int64
		set bool
	}
	l.mu.Lock()
	rows := make([]row, 0, len(l.users))
	for id, u := range l.users {
		rows = append(rows, row{id, u.v, u.set})
	}
	l.mu.Unlock()
	for _, r := range rows {
		fn(r.id, r.v, r.set)
	}
	return nil
}

// snapshot writes a kBalance entry for every user whose balance depends
// on a segment up to seg, so that segment can go; it returns the position
// of the last one written (0 if none).
func (l *ledger) snapshot(seg uint64) (wal.Pos, int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last wal.Pos
	n := 0
	for id, u := range l.users {
		if u.seg == 0 || u.seg > seg {
			continue
		}
		l.buf = appendBalance(l.buf[:0], id, u.v, u.set)
		pos, err := l.s.log.Append(kBalance, l.buf, true)
		if err != nil {
			return last, n, err
		}
		u.seg = pos.Segment()
		last = pos
		n++
	}
	return last, n, nil
}
