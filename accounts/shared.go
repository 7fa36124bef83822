package accounts

import (
	"errors"
	"fmt"
	"strings"
)

// Shared mode: a cluster keeps users, groups, balances and quotas (a
// Directory, cluster.Accounts), and every node applies them through
// ApplyShared, the path Reload takes. A limited balance or quota is a
// shared pool that nodes borrow slices from (credit leases): this node's
// live Credit and Quota counters hold only its unspent slice, so a charge
// stays one local CAS, and a charge the slice cannot cover tells the
// Directory (Short), which borrows more in the background.

// Directory is where a cluster keeps the users. The Store's runtime
// changes go to it instead of being made here; each returns once this
// node has applied the change (ApplyShared), so a Lookup that follows
// sees it. Short and the view methods run on hot paths: they must not
// block or allocate.
type Directory interface {
	// PutUser creates or replaces u (checked by the Store first). prev is
	// the user's current record, nil for a new user: a changed quota total
	// moves the quota's pool by the difference.
	PutUser(u User, prev *User) error
	// SetBalance makes systemID's balance b cluster-wide: every node's
	// unspent slice of the previous balance is void.
	SetBalance(systemID string, b Amount) error
	// TopUp adds b to systemID's shared balance.
	TopUp(systemID string, b Amount) error
	// DeleteUser removes systemID cluster-wide.
	DeleteUser(systemID string) error
	// Short says this node's slice of account (a system_id or
	// QuotaAccount) could not cover need; it must not block.
	Short(account string, need int64)
	// Refilling reports whether account's pool may still cover need (a
	// borrow is worth waiting for): a charge refused now is then
	// throttled, not refused for want of credit.
	Refilling(account string, need int64) bool
	// Total is account's cluster-wide balance: the pool and every node's
	// slice as last shared; ok false when the Directory has no pool for it.
	Total(account string) (v int64, unlimited, ok bool)
}

// ErrShared is returned by Reload and ReloadWith in shared mode: the users
// come from the cluster, never from the users file.
var ErrShared = errors.New("accounts: users live in the cluster (shared mode): change them with the operations API")

// lendRef ties a live counter to the Directory it borrows from.
type lendRef struct {
	dir     Directory
	account string
}

// short tells the Directory a take of need failed and reports whether a
// refill may come (a refusal is then transient).
func (r *lendRef) short(need int64) bool {
	if r == nil {
		return false
	}
	r.dir.Short(r.account, need)
	return r.dir.Refilling(r.account, need)
}

// Share puts the Store in shared mode with d: every limited balance and
// quota counter is replaced by an empty one (this node holds no slice
// yet), the ledger gets no sets from now on (the pools are the truth;
// charges and refunds are still written), Reload refuses (ErrShared) and
// the runtime changes go to d. Call it once, before traffic, then
// ApplyShared the cluster's users.
func (s *Store) Share(d Directory) {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir.Store(&dirRef{d: d})
	for _, e := range s.snap.Load().order {
		n := *e.cur.Load()
		l := &n.user.Limits
		old := l.live
		l.live = l.newLive(old.bucket, s.sharedCredit(n.user.SystemID, l.Balance), s.sharedQuota(n.user.SystemID, l.Quota))
		s.attach(n.user.SystemID, l.live, old)
		e.cur.Store(&n)
	}
}

// Shared reports whether the Store is in shared mode.
func (s *Store) Shared() bool { return s.directory() != nil }

// dirRef holds the Directory for an atomic pointer.
type dirRef struct{ d Directory }

// directory is the Directory in shared mode, else nil.
func (s *Store) directory() Directory {
	if r := s.dir.Load(); r != nil {
		return r.d
	}
	return nil
}

// sharedCredit is an empty slice of a limited balance (unlimited stays
// unlimited), tied to the Directory.
func (s *Store) sharedCredit(id string, b Amount) *Credit {
	if b.IsUnlimited() {
		return NewCredit(Unlimited)
	}
	c := NewCredit(Micros(0))
	c.lend = &lendRef{dir: s.directory(), account: id}
	return c
}

// sharedQuota is an empty slice of a limited quota.
func (s *Store) sharedQuota(id string, quota int64) *Quota {
	if quota <= 0 {
		return NewQuota(0)
	}
	return &Quota{lend: &lendRef{dir: s.directory(), account: QuotaAccount(id)}}
}

// ApplyShared replaces the users and groups with the cluster's, by
// Reload's rules and checks (an error changes nothing). A user's Balance
// says only whether it is limited, and Quota is the total: the live
// slices are kept, and a new user's or a newly limited one's start empty.
func (s *Store) ApplyShared(users []User, groups []Group) error {
	return s.reload(func() ([]User, []Group, error) { return users, groups, nil }, true)
}

// counterOf finds account's live counter: a balance (system_id) or a
// quota (QuotaAccount); nil when the user is unknown or unlimited there.
func (s *Store) counterOf(account string) *counter {
	id, quota := strings.CutSuffix(account, " quota")
	e := s.snap.Load().users[id]
	if e == nil {
		return nil
	}
	l := e.cur.Load().user.Limits.live
	var c *counter
	if quota {
		c = &l.quota.c
	} else {
		c = &l.credit.c
	}
	if c.unlimited {
		return nil
	}
	return c
}

// Held returns this node's unspent slice of account (micro-units of a
// balance, parts of a quota); ok false for an unknown or unlimited one.
func (s *Store) Held(account string) (v int64, ok bool) {
	c := s.counterOf(account)
	if c == nil {
		return 0, false
	}
	return c.v.Load(), true
}

// Lend adds n borrowed from the pool to this node's slice of account; it
// reports false (nothing added) when the account is unknown or unlimited
// here, and the caller gives n back.
func (s *Store) Lend(account string, n int64) bool {
	c := s.counterOf(account)
	if c == nil {
		return false
	}
	c.shift(n)
	return true
}

// Withdraw takes up to n of this node's unspent slice of account (to give
// it back to the pool, or to drop a void one) and returns what it took.
func (s *Store) Withdraw(account string, n int64) int64 {
	c := s.counterOf(account)
	if c == nil || n <= 0 {
		return 0
	}
	for {
		cur := c.v.Load()
		t := min(cur, n)
		if t <= 0 {
			return 0
		}
		if c.v.CompareAndSwap(cur, cur-t) {
			return t
		}
	}
}

// sharedUpsert is Upsert in shared mode: u was checked; the Directory
// writes it and this node applies it.
func (s *Store) sharedUpsert(u User, d Directory) error {
	var prev *User
	if e := s.snap.Load().users[u.SystemID]; e != nil {
		p := e.cur.Load().user
		prev = &p
	}
	return d.PutUser(u, prev)
}

// sharedChange is a record change (SetEnabled) in shared mode.
func (s *Store) sharedChange(systemID string, d Directory, f func(*User)) error {
	e := s.snap.Load().users[systemID]
	if e == nil {
		return fmt.Errorf("%w %q", ErrUnknownUser, systemID)
	}
	p := e.cur.Load().user
	n := p
	n.own()
	f(&n)
	return d.PutUser(n, &p)
}
