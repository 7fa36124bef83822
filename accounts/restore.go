package accounts

import (
	"errors"
	"fmt"
)

// Restored says where NewStore took the live balances and quotas from, with
// Options.Ledger (the zero value without one).
type Restored struct {
	// FromLedger counts the users whose balance the ledger holds: their
	// last set plus every charge, refund and top-up after it.
	FromLedger int
	// FromFile counts the users the ledger did not know: their users-file
	// balance (plus the charges and refunds the ledger has without a set)
	// is now written to it as a set, so the next start is exact.
	FromFile int
	// Differ lists the users whose users-file balance or quota_used differs
	// from the ledger's, which is in force: the file was behind (a crash
	// before its periodic write) or was edited while smppd was stopped.
	// The file is rewritten with the ledger's values at the next Persist.
	Differ []string
}

// Restored returns what NewStore took from the ledger.
func (s *Store) Restored() Restored {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.restored
	r.Differ = append([]string(nil), r.Differ...)
	return r
}

// AttachLedger gives a Store built without Options.Ledger its ledger, as
// NewStore would have: the live balances and quotas come from l, and
// every change is written to it from now on. It is for a process that
// authenticates binds before its durable store is open (an upgrade
// hand-over): call it before any charge, set or top-up. A second call, or
// one on a Store built with a ledger, is refused.
func (s *Store) AttachLedger(l Ledger) error {
	s.mu.Lock()
	has := s.led != nil
	s.mu.Unlock()
	if has {
		return errors.New("accounts: the store has a ledger already")
	}
	return s.restore(l)
}

// restore makes the ledger's balances and quotas the live ones, before any
// traffic: a user the ledger has a set for takes the ledger's value; one
// without takes the users file's plus what the ledger counted, and that is
// written as a set. Then the Store writes every change to l.
func (s *Store) restore(l Ledger) error {
	type bal struct {
		v   int64
		set bool
	}
	got := make(map[string]bal)
	if err := l.Balances(func(account string, v int64, set bool) { got[account] = bal{v, set} }); err != nil {
		return fmt.Errorf("accounts: reading the balance ledger: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.led = &ledgerOut{l: l}
	var (
		sets []LedgerEntry
		r    Restored
		live = make([]*liveLimits, 0, len(s.snap.Load().order))
	)
	for _, e := range s.snap.Load().order {
		a := e.cur.Load()
		id, lim := a.user.SystemID, &a.user.Limits
		differ := false
		bv := lim.Balance
		if b := got[id]; b.set {
			bv = amountOf(b.v)
			differ = bv != lim.Balance
			r.FromLedger++
		} else {
			if !bv.IsUnlimited() {
				bv = Micros(min(bv.Micros()+b.v, MaxMicros))
			}
			sets = append(sets, LedgerEntry{Account: id, Kind: LedgerSet, Amount: ledgerAmount(bv)})
			r.FromFile++
		}
		quota := lim.live.quota
		if lim.Quota > 0 {
			used := lim.QuotaUsed
			qa := QuotaAccount(id)
			if b := got[qa]; b.set {
				used = quotaBase - b.v
				differ = differ || used != lim.QuotaUsed
			} else {
				used -= b.v // the parts charged (negative) and refunded since the log began
				sets = append(sets, LedgerEntry{Account: qa, Kind: LedgerSet, Amount: quotaSet(used)})
			}
			quota = lim.newQuota(used)
		}
		if differ {
			r.Differ = append(r.Differ, id)
		}
		live = append(live, lim.newLive(lim.live.bucket, NewCredit(bv), quota))
	}
	if err := s.led.appendAll(sets); err != nil {
		s.led = nil
		return fmt.Errorf("accounts: writing the users file's balances to the ledger: %w", err)
	}
	for i, e := range s.snap.Load().order {
		n := *e.cur.Load()
		old := n.user.Limits.live
		n.user.Limits.live = live[i]
		s.attach(n.user.SystemID, live[i], old)
		e.cur.Store(&n)
	}
	s.restored = r
	return nil
}

// Recharged returns the Charge of a message recovered at start (its record
// kept micros and parts as its charge), which the ledger already counts:
// nothing is taken now. Refund gives it back and writes the refund, as for
// a message charged in this run. A user that is gone, or whose balance or
// quota is unlimited now, gets a Charge that gives nothing back there.
func (s *Store) Recharged(systemID string, micros, parts int64) Charge {
	e := s.snap.Load().users[systemID]
	if e == nil {
		return Charge{}
	}
	l := e.cur.Load().user.Limits.live
	var c Charge
	if micros > 0 && !l.credit.c.unlimited {
		c.credit, c.micros = l.credit, micros
	}
	if parts > 0 && !l.quota.c.unlimited {
		c.quota, c.parts = l.quota, parts
	}
	return c
}
