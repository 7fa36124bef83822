package accounts

import (
	"fmt"
)

// Runtime changes (the operations API) and writing users back. Each change
// publishes a new record (or moves a live counter), marks the Store dirty
// and then calls Options.Persist; the users file stays the source of truth
// that SIGHUP reloads, except for balances and quota_used, which the
// ledger holds when there is one (Options.Ledger): there the file's values
// are a readable copy, written every minute or so, and a balance change is
// written to the ledger before it is made.

// Lookup returns a copy of the current user with systemID, with the live
// balance in Limits.Balance and the live quota_used in Limits.QuotaUsed
// (in shared mode the cluster's, Credit.Balance).
func (s *Store) Lookup(systemID string) (User, bool) {
	if e := s.snap.Load().users[systemID]; e != nil {
		return export(e.cur.Load()), true
	}
	return User{}, false
}

// Users returns a copy of every current user in file order (users added by
// Upsert last), with the live balance and quota_used as in Lookup: what the
// users file should say now. The caller owns the result.
func (s *Store) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return users(s.snap.Load())
}

// Groups returns a copy of the current groups.
func (s *Store) Groups() []Group {
	snap := s.snap.Load()
	out := make([]Group, 0, len(snap.groups))
	for _, g := range snap.groups {
		out = append(out, g)
	}
	return out
}

func users(snap *snapshot) []User {
	out := make([]User, len(snap.order))
	for i, e := range snap.order {
		out[i] = export(e.cur.Load())
	}
	return out
}

// export copies a record for a caller, with the live counters' values. The
// copy shares the live counters (Limits.Credit() and the rest still work).
func export(a *account) User {
	u := a.user
	u.own()
	u.Limits.Balance = u.Limits.Credit().Balance()
	u.Limits.QuotaUsed = u.Limits.used()
	return u
}

// Upsert adds a user or replaces one, checked as Reload checks users (by
// the users file's rules; its group must exist). For an existing user the
// live balance and quota_used are kept and u's Balance and QuotaUsed
// ignored (use SetBalance and TopUp); a changed quota moves the parts left
// by the difference; bind counts stay. A new user starts from u's values,
// written to the ledger as sets (so is a quota that was unlimited). Then
// Persist is called; an ErrNotSaved error means the change is in force but
// not written; ErrLedger that nothing changed. In shared mode the checked
// user goes to the Directory, and is in force once this node applied it.
func (s *Store) Upsert(u User) error {
	s.mu.Lock()
	old := s.snap.Load()
	var c Check
	checkUser(&u, groupIn(old.groups), nil, &c)
	if err := c.Err(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("accounts: user %q: %w", u.SystemID, err)
	}
	a, err := build(u, old.groups, s.share)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if d := s.directory(); d != nil {
		s.mu.Unlock()
		return s.sharedUpsert(u, d)
	}
	l := &a.user.Limits
	if s.led != nil {
		var sets []LedgerEntry
		if e := old.users[u.SystemID]; e != nil {
			p := &e.cur.Load().user.Limits
			// The live balance and quota_used are kept: as carry sees it below.
			n := *l
			n.Balance, n.QuotaUsed = p.Balance, p.QuotaUsed
			sets = setsFor(sets, u.SystemID, &n, p, p.Balance, p.QuotaUsed)
		} else {
			sets = setsFor(sets, u.SystemID, l, nil, Amount{}, 0)
		}
		if err := s.led.appendAll(sets); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	snap := &snapshot{users: make(map[string]*entry, len(old.users)+1), order: old.order, groups: old.groups, dummy: old.dummy}
	for id, e := range old.users {
		snap.users[id] = e
	}
	if a.hash.iter > snap.dummy.iter {
		snap.dummy = dummyHash(a.hash.iter)
	}
	if e := old.users[u.SystemID]; e != nil {
		p := &e.cur.Load().user.Limits
		l.Balance, l.QuotaUsed = p.Balance, p.QuotaUsed
		carry(l, p, l.Balance, l.QuotaUsed)
		s.attach(u.SystemID, l.live, p.live)
		e.cur.Store(a)
	} else {
		e = s.entries[u.SystemID]
		if e == nil {
			e = new(entry)
			s.entries[u.SystemID] = e
		}
		l.live = l.newLive(NewBucket(l.Throughput, l.Burst), NewCredit(l.Balance), l.newQuota(l.QuotaUsed))
		s.attach(u.SystemID, l.live, nil)
		e.fileBalance, e.fileUsed = l.Balance, l.QuotaUsed
		e.cur.Store(a)
		snap.users[u.SystemID] = e
		snap.order = append(snap.order[:len(snap.order):len(snap.order)], e)
	}
	s.snap.Store(snap)
	s.changed = true
	s.mu.Unlock()
	s.purgeCache(snap)
	return s.saveChange()
}

// Remove deletes systemID: it can no longer bind; binds already held
// keep its last record, marked inactive (User.Active), as after a reload
// without it. Its balance stays in the ledger; the same system_id added
// again starts from its new values. Then Persist is called (ErrNotSaved:
// removed, the users file behind). In shared mode the Directory removes
// it cluster-wide.
func (s *Store) Remove(systemID string) error {
	if d := s.directory(); d != nil {
		if s.snap.Load().users[systemID] == nil {
			return fmt.Errorf("%w %q", ErrUnknownUser, systemID)
		}
		return d.DeleteUser(systemID)
	}
	s.mu.Lock()
	old := s.snap.Load()
	e := old.users[systemID]
	if e == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w %q", ErrUnknownUser, systemID)
	}
	snap := &snapshot{users: make(map[string]*entry, len(old.users)), order: make([]*entry, 0, len(old.order)),
		groups: old.groups, dummy: old.dummy}
	for id, x := range old.users {
		if id != systemID {
			snap.users[id] = x
		}
	}
	for _, x := range old.order {
		if x != e {
			snap.order = append(snap.order, x)
		}
	}
	last := *e.cur.Load()
	last.user.inactive = true
	e.cur.Store(&last)
	s.snap.Store(snap)
	s.changed = true
	s.mu.Unlock()
	s.purgeCache(snap)
	return s.saveChange()
}

// SetEnabled enables or disables systemID (binds already held stay; their
// User().Active() follows), then calls Persist.
func (s *Store) SetEnabled(systemID string, enabled bool) error {
	if d := s.directory(); d != nil {
		return s.sharedChange(systemID, d, func(u *User) { u.Enabled = enabled })
	}
	return s.change(systemID, func(a *account) (*account, error) {
		n := *a
		n.user.Enabled = enabled
		return &n, nil
	})
}

// SetBalance sets systemID's live balance to b (Unlimited allowed), written
// to the ledger first (ErrLedger: nothing changed), then calls Persist.
// Charges taken before and refunded after count against the new balance.
// Switching between unlimited and a number starts a new counter: refunds
// of charges taken before the switch are lost (and not written). In
// shared mode the Directory sets the cluster's pool instead.
func (s *Store) SetBalance(systemID string, b Amount) error {
	if b.Micros() > MaxMicros {
		return errAmountTooLarge
	}
	if d := s.directory(); d != nil {
		if s.snap.Load().users[systemID] == nil {
			return fmt.Errorf("%w %q", ErrUnknownUser, systemID)
		}
		return d.SetBalance(systemID, b)
	}
	return s.change(systemID, func(a *account) (*account, error) {
		if err := s.write(LedgerEntry{Account: systemID, Kind: LedgerSet, Amount: ledgerAmount(b)}); err != nil {
			return nil, err
		}
		l := &a.user.Limits
		if c := l.live.credit; !b.IsUnlimited() && !c.c.unlimited {
			c.c.set(b.Micros())
			return nil, nil
		}
		n := *a
		n.user.Limits.live = l.newLive(l.live.bucket, NewCredit(b), l.live.quota)
		s.attach(systemID, n.user.Limits.live, l.live)
		return &n, nil
	})
}

// TopUp adds b to systemID's live balance, written to the ledger first
// (ErrLedger: nothing changed), then calls Persist. It fails with
// ErrUnlimitedBalance on an unlimited balance and with ErrAmount for an
// unlimited b or a sum above MaxMicros. In shared mode the Directory adds
// b to the cluster's pool instead.
func (s *Store) TopUp(systemID string, b Amount) error {
	if b.IsUnlimited() {
		return ErrAmount
	}
	if d := s.directory(); d != nil {
		if s.snap.Load().users[systemID] == nil {
			return fmt.Errorf("%w %q", ErrUnknownUser, systemID)
		}
		return d.TopUp(systemID, b)
	}
	return s.change(systemID, func(a *account) (*account, error) {
		c := a.user.Limits.live.credit
		if c.c.unlimited {
			return nil, ErrUnlimitedBalance
		}
		// Concurrent charges only lower the balance; refunds give back
		// what was charged before: checked here, the sum stays in range.
		if c.c.v.Load() > MaxMicros-b.Micros() {
			return nil, errAmountTooLarge
		}
		if err := s.write(LedgerEntry{Account: systemID, Kind: LedgerTopUp, Amount: b.Micros()}); err != nil {
			return nil, err
		}
		c.c.shift(b.Micros())
		return nil, nil
	})
}

// change applies f to systemID's current record under the writer lock;
// f returns a new record to publish, or nil when it changed a counter in
// place. Then it saves.
func (s *Store) change(systemID string, f func(*account) (*account, error)) error {
	s.mu.Lock()
	e := s.snap.Load().users[systemID]
	if e == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w %q", ErrUnknownUser, systemID)
	}
	n, err := f(e.cur.Load())
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if n != nil {
		e.cur.Store(n)
		s.changed = true
	}
	s.mu.Unlock()
	return s.saveChange()
}

func (s *Store) saveChange() error {
	if _, err := s.save(); err != nil {
		return fmt.Errorf("%w: %w", ErrNotSaved, err)
	}
	return nil
}

// Dirty reports whether the users file is behind memory: a record changed
// at runtime and not yet saved, or a live balance or quota_used that
// differs from what the file last said.
func (s *Store) Dirty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dirtyLocked()
}

func (s *Store) dirtyLocked() bool {
	if s.changed {
		return true
	}
	for _, e := range s.snap.Load().order {
		l := &e.cur.Load().user.Limits
		if l.Credit().Balance() != e.fileBalance || l.used() != e.fileUsed {
			return true
		}
	}
	return false
}

// Persist writes the users back through Options.Persist if the Store is
// Dirty, and reports whether it wrote. The owner calls it periodically (for
// balances, which move with every message) and at shutdown. Without a
// Persist hook it does nothing. On error the Store stays dirty.
func (s *Store) Persist() (bool, error) { return s.save() }

// save calls the hook with the current users if dirty. saveMu keeps saves
// in order and away from Reload; mu is not held while the hook runs.
func (s *Store) save() (bool, error) {
	if s.persist == nil {
		return false, nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if !s.dirtyLocked() {
		s.mu.Unlock()
		return false, nil
	}
	snap := s.snap.Load()
	out := users(snap)
	type mark struct {
		bal  Amount
		used int64
	}
	written := make([]mark, len(out))
	for i := range out {
		written[i] = mark{out[i].Limits.Balance, out[i].Limits.QuotaUsed}
	}
	s.changed = false
	s.mu.Unlock()

	err := s.persist(out)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.changed = true
		return false, err
	}
	for i, e := range snap.order {
		e.fileBalance, e.fileUsed = written[i].bal, written[i].used
	}
	return true, nil
}
