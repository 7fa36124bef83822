package accounts

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/smppd/smppd/msg"
)

// Balances and quotas are kept as a ledger of sets, top-ups, charges and
// refunds, written by a durable store (cmd/smppd adapts storage.Ledger to
// Ledger). A balance is the last set plus what follows it, so a restart
// neither loses a change nor applies one twice. Who writes what:
//
//   - a charge at submit travels in the message's own record (its
//     storage.Record.Charge and ChargeParts), written by the flow with the
//     message: one write per submit. Charge.Micros and Charge.Parts are the
//     values to put there;
//   - a charge no record carries (replace_sm's extra parts): Charge.Log;
//   - a refund of either: Charge.Refund, with the message's id;
//   - sets and top-ups (the operations API, a SIGHUP that edits `balance` or
//     `quota_used`, a user new to the ledger): the Store, before it applies
//     them.
//
// A user's quota is a second account, QuotaAccount(systemID), holding
// quotaBase minus the parts used: a charge of n parts subtracts n, as a
// charge of money does, and `quota` (the total) stays in the users file, so
// changing it needs no entry. Every Amount is >= 0 (storage refuses
// negative ones): hence the base, and LedgerUnlimited for an unlimited
// balance.

// LedgerKind says what a LedgerEntry records; the values are storage's.
type LedgerKind uint8

// Ledger entry kinds.
const (
	LedgerSet    LedgerKind = iota + 1 // the balance becomes Amount
	LedgerTopUp                        // the balance gains Amount
	LedgerCharge                       // the balance loses Amount (a charge no record carries)
	LedgerRefund                       // the balance gains Amount back (a charge of message ID refunded)
)

// String is the kind's name, for logs.
func (k LedgerKind) String() string {
	switch k {
	case LedgerSet:
		return "set"
	case LedgerTopUp:
		return "topup"
	case LedgerCharge:
		return "charge"
	case LedgerRefund:
		return "refund"
	}
	return "LedgerKind(" + itoa(int(k)) + ")"
}

// LedgerEntry is one change of an account's balance.
type LedgerEntry struct {
	// Account is a user's system_id (its balance in micro-units) or
	// QuotaAccount(system_id) (minus the parts of its quota used).
	Account string
	Kind    LedgerKind
	Amount  int64  // >= 0: micro-units, LedgerUnlimited, or parts (see QuotaAccount)
	ID      msg.ID // the message a charge or refund belongs to; 0 for sets and top-ups
}

// Ledger is where the Store writes balance changes and reads them back at
// start. cmd/smppd adapts storage.Ledger to it (accounts does not import
// storage).
type Ledger interface {
	// Append writes e. It never waits for disk I/O: a ledger that cannot
	// take the entry now (a full disk, a failed device) returns an error at
	// once, and the change it records is not made.
	Append(e LedgerEntry) error
	// Balances calls fn once per account the ledger knows, with its
	// balance in log order (the last set plus what follows it); set is
	// false for an account that has charges or refunds but no set.
	Balances(fn func(account string, balance int64, set bool)) error
}

// LedgerUnlimited is the Amount of a set that makes a balance unlimited.
// A limited balance is below MaxMicros, far under it; charges and refunds
// that follow the set in the log (messages in flight when the balance was
// switched) move it by far less than the distance to unlimitedFrom, so the
// ledger needs no special case for it.
const LedgerUnlimited int64 = 1 << 62

// unlimitedFrom: a ledger balance at or above it reads as unlimited.
const unlimitedFrom = 1 << 61

// quotaBase is what a quota account holds when no part is used.
const quotaBase int64 = 1 << 62

// ledgerAmount is how a set of a is written.
func ledgerAmount(a Amount) int64 {
	if a.IsUnlimited() {
		return LedgerUnlimited
	}
	return a.Micros()
}

// amountOf reads a set balance back.
func amountOf(v int64) Amount {
	if v >= unlimitedFrom {
		return Unlimited
	}
	return Micros(v)
}

// quotaSet is the set of a quota account with used parts used.
func quotaSet(used int64) int64 { return quotaBase - min(max(used, 0), quotaBase) }

// QuotaAccount is the ledger account of systemID's quota. A system_id has
// no spaces, so it never names a user's own balance.
func QuotaAccount(systemID string) string { return systemID + " quota" }

// ErrLedger wraps a Ledger's Append error: the change it was to record is
// not made (Upsert, SetBalance, TopUp, Reload: nothing changed), or, from
// Charge.Refund, the refund is in force in memory but not written.
var ErrLedger = errors.New("accounts: balance ledger refused the entry")

// ledgerRef ties a live Credit or Quota to its ledger account. A counter
// replaced by a new one (a switch between unlimited and limited) is
// retired: refunds still reach the old counter, which no one reads any
// more, and are not written, so the ledger agrees with memory.
type ledgerRef struct {
	led     *ledgerOut
	account string
	retired atomic.Bool
}

// ledgerOut is the Store's ledger and the count of its failed appends.
type ledgerOut struct {
	l      Ledger
	failed atomic.Uint64
}

func (o *ledgerOut) append(e LedgerEntry) error {
	if err := o.l.Append(e); err != nil {
		o.failed.Add(1)
		return fmt.Errorf("%w (%s %s %d): %w", ErrLedger, e.Account, e.Kind, e.Amount, err)
	}
	return nil
}

// write appends an entry for r's account; nothing without a ledger or for
// a retired counter.
func (r *ledgerRef) write(k LedgerKind, amount int64, id msg.ID) error {
	if r == nil || r.retired.Load() {
		return nil
	}
	return r.led.append(LedgerEntry{Account: r.account, Kind: k, Amount: amount, ID: id})
}

func (r *ledgerRef) retire() {
	if r != nil {
		r.retired.Store(true)
	}
}

func (o *ledgerOut) appendAll(es []LedgerEntry) error {
	for i := range es {
		if err := o.append(es[i]); err != nil {
			return err
		}
	}
	return nil
}

// write appends e to the Store's ledger, if it has one.
func (s *Store) write(e LedgerEntry) error {
	if s.led == nil {
		return nil
	}
	return s.led.append(e)
}

// setsFor appends to out the sets a user's new limits n need, by carry's
// rules (Store.Reload): p is the user's current limits (nil for a user new
// to the Store), fileBal and fileUsed what the users file last said. A
// balance is set when the user is new or the file's balance was edited; a
// limited quota when the user is new, the quota was unlimited, or
// quota_used was edited. A changed quota total needs nothing: the quota
// account counts parts used.
func setsFor(out []LedgerEntry, id string, n, p *UserLimits, fileBal Amount, fileUsed int64) []LedgerEntry {
	if p == nil || n.Balance != fileBal {
		out = append(out, LedgerEntry{Account: id, Kind: LedgerSet, Amount: ledgerAmount(n.Balance)})
	}
	if n.Quota > 0 && (p == nil || p.Quota <= 0 || p.QuotaCounter().c.unlimited || n.QuotaUsed != fileUsed) {
		out = append(out, LedgerEntry{Account: QuotaAccount(id), Kind: LedgerSet, Amount: quotaSet(n.QuotaUsed)})
	}
	return out
}

// attach ties the counters of l that are new (not yet published) to their
// ledger accounts, and retires those of old (the user's previous counters,
// nil if none) that l no longer uses.
func (s *Store) attach(id string, l, old *liveLimits) {
	if s.led == nil {
		return
	}
	if l.credit.ref == nil {
		l.credit.ref = &ledgerRef{led: s.led, account: id}
	}
	if l.quota.ref == nil {
		l.quota.ref = &ledgerRef{led: s.led, account: QuotaAccount(id)}
	}
	if old != nil {
		if old.credit != l.credit {
			old.credit.ref.retire()
		}
		if old.quota != l.quota {
			old.quota.ref.retire()
		}
	}
}
