package accounts

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Store authenticates binds against a snapshot of users and groups, and
// keeps each user's current record and live counters. Create it with
// NewStore; the zero value is not usable.
type Store struct {
	snap    atomic.Pointer[snapshot]
	cache   *credCache // nil: no cache
	lim     *limiter   // nil: no failed-bind limits
	limit   Limits
	clock   Clock
	persist func([]User) error // nil: runtime changes are not written back
	led     *ledgerOut         // nil: no ledger (Options.Ledger)
	share   int                // Options.HeldShare

	// saveMu serialises Reload and the Persist hook, so files are written
	// in order and never interleave with a reload. Taken before mu.
	saveMu sync.Mutex
	// mu serialises writers: it guards entries, the file baselines in each
	// entry and changed. Readers use snap and entry.cur without it.
	mu      sync.Mutex
	entries map[string]*entry // every system_id ever loaded; never shrinks
	changed bool              // a record changed at runtime since the last save
	// restored is what NewStore took from the ledger (Restored).
	restored Restored

	hits, misses, slowed, throttled atomic.Uint64

	elsewhere atomic.Pointer[elsewhereRef] // cluster-wide bind counts (elsewhere.go); nil: this process's
	dir       atomic.Pointer[dirRef]       // shared mode (shared.go): the cluster's Directory; nil: this process's users
}

// snapshot is an immutable set of users and groups.
type snapshot struct {
	users  map[string]*entry
	order  []*entry // the users in file order, for Users
	groups map[string]Group
	dummy  pwHash // checked for unknown system_ids
}

// entry is what outlives snapshots for one system_id: the bind counters,
// the current record, and what the users file last said about the counters.
type entry struct {
	cur    atomic.Pointer[account] // the current record; after removal the last one, inactive
	binds  atomic.Int64            // binds of any type
	byType [3]atomic.Int64         // binds per BindType.Index

	// The balance and quota_used last read from or written to the users
	// file (guarded by Store.mu): Reload keeps the live counter while the
	// file still says this.
	fileBalance Amount
	fileUsed    int64
}

// account is one immutable user record.
type account struct {
	user User // compiled, Limits prepared
	hash pwHash
	held int // HeldLimit: the user's, its group's or the Store's share
}

// NewStore builds a Store from users and groups. It fails if a user or a
// group breaks a rule of the users file (ParseUser, CheckGroups: a bad or
// duplicate system_id, an unreadable password_hash, no bind types, a value
// out of range, bad source_addrs, a default_source they refuse, an unknown
// group; a bad or duplicate group name); the error names every problem.
//
// With Options.Ledger the live balances and quotas come from the ledger
// (see Restored), and users it does not know yet are written to it; an
// error reading or writing it fails NewStore.
func NewStore(users []User, groups []Group, opts Options) (*Store, error) {
	s := &Store{clock: opts.Clock, limit: opts.Limits, persist: opts.Persist, share: max(opts.HeldShare, 0),
		entries: make(map[string]*entry)}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	if opts.CacheTTL > 0 && opts.CacheSize > 0 {
		s.cache = newCredCache(opts.CacheTTL, opts.CacheSize)
	}
	if l := opts.Limits; l.SlowAfter > 0 || l.BlockAfter > 0 || l.AddressBlockAfter > 0 {
		if opts.Limits.FailWindow <= 0 {
			return nil, errors.New("accounts: Limits.FailWindow must be > 0")
		}
		s.lim = newLimiter(opts.Limits, s.clock)
	}
	s.snap.Store(&snapshot{users: map[string]*entry{}, dummy: dummyHash(DefaultIterations)})
	if err := s.Reload(users, groups); err != nil {
		return nil, err
	}
	if opts.Ledger != nil {
		// After the first load, which must not write the file's values over
		// the ledger's.
		if err := s.restore(opts.Ledger); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Reload replaces the users and groups (SIGHUP). On error the previous ones
// stay in force and nothing changes.
//
// Binds already held stay valid and keep counting against max_binds and
// max_binds_per_type (a lowered limit refuses new binds until the count
// falls below it). Bind.User() returns the new record from now on, so a
// bound session sees new limits at its next message; a removed user's binds
// keep its last record, marked inactive (User.Active).
//
// Live counters of a user present before and after carry over so that a
// reload does not refill anything mid-flight:
//   - balance: if the file's balance equals what the file last said (as
//     loaded, or as last written by the Persist hook) the live balance is
//     kept; otherwise the operator edited it and the file's value is taken:
//     a set, written to the ledger. So an unchanged file never undoes the
//     charges made since it was read.
//   - quota: quota_used follows the same rule; a changed quota (the total)
//     moves the parts left by the difference, keeping what was used.
//   - throughput: the bucket is kept unless throughput or burst changed.
//
// A user new to the Store starts from the file's balance and quota_used,
// written to the ledger as sets too. The sets are written before anything
// changes: if the ledger refuses one, Reload returns an error wrapping
// ErrLedger and nothing changes (sets written before it stay in the
// ledger: they are the file's values, which the next reload or start
// applies anyway).
//
// Every other field comes from the file; a runtime change to a record that
// the Persist hook failed to save is overridden by it.
//
// Cached verifications of removed users, or of users whose password_hash
// changed, are dropped.
//
// With a Persist hook, read the file inside ReloadWith instead: a save
// landing between reading the file and Reload makes the file look edited
// and would rewind balances to what was read.
func (s *Store) Reload(users []User, groups []Group) error {
	return s.ReloadWith(func() ([]User, []Group, error) { return users, groups, nil })
}

// ReloadWith is Reload with the users read by load, called while no save
// can run (load reads the users file; it must not call the Store's changing
// methods). An error from load changes nothing and is returned as is.
func (s *Store) ReloadWith(load func() ([]User, []Group, error)) error {
	if s.directory() != nil {
		return ErrShared
	}
	return s.reload(load, false)
}

// reload is ReloadWith and ApplyShared: shared keeps live slices by
// carryShared's rules and writes no sets to the ledger.
func (s *Store) reload(load func() ([]User, []Group, error), shared bool) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	users, groups, err := load()
	if err != nil {
		return err
	}
	// Check everything before touching a live counter, by the rules the
	// users file and the operations API are checked by.
	var c Check
	CheckGroups(groups, &c)
	gm := make(map[string]Group, len(groups))
	for _, g := range groups {
		gm[g.Name] = g
	}
	checkUsers(users, groupIn(gm), &c)
	if err := c.Err(); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := &snapshot{users: make(map[string]*entry, len(users)), order: make([]*entry, 0, len(users)), groups: gm}
	built := make([]*account, len(users))
	dummyIter := 0
	for i := range users {
		a, err := build(users[i], gm, s.share)
		if err != nil {
			return err
		}
		built[i] = a
		dummyIter = max(dummyIter, a.hash.iter)
	}
	if dummyIter == 0 {
		dummyIter = DefaultIterations
	}
	snap.dummy = dummyHash(dummyIter)

	old := s.snap.Load()
	if s.led != nil && !shared {
		var sets []LedgerEntry
		for _, a := range built {
			id := a.user.SystemID
			if e := old.users[id]; e != nil {
				sets = setsFor(sets, id, &a.user.Limits, &e.cur.Load().user.Limits, e.fileBalance, e.fileUsed)
			} else {
				sets = setsFor(sets, id, &a.user.Limits, nil, Amount{}, 0)
			}
		}
		if err := s.led.appendAll(sets); err != nil {
			return err
		}
	}
	for _, a := range built {
		l := &a.user.Limits
		id := a.user.SystemID
		e := old.users[id]
		switch {
		case e != nil && shared:
			p := e.cur.Load().user.Limits.live
			s.carryShared(id, l, &e.cur.Load().user.Limits)
			s.attach(id, l.live, p)
		case e != nil:
			p := e.cur.Load().user.Limits.live
			carry(l, &e.cur.Load().user.Limits, e.fileBalance, e.fileUsed)
			s.attach(id, l.live, p)
		default:
			if e = s.entries[id]; e == nil {
				e = new(entry)
				s.entries[id] = e
			}
			if shared {
				l.live = l.newLive(NewBucket(l.Throughput, l.Burst), s.sharedCredit(id, l.Balance), s.sharedQuota(id, l.Quota))
			} else {
				l.live = l.newLive(NewBucket(l.Throughput, l.Burst), NewCredit(l.Balance), l.newQuota(l.QuotaUsed))
			}
			s.attach(id, l.live, nil)
		}
		e.fileBalance, e.fileUsed = l.Balance, l.QuotaUsed
		e.cur.Store(a)
		snap.users[id] = e
		snap.order = append(snap.order, e)
	}
	for id, e := range old.users {
		if snap.users[id] == nil {
			last := *e.cur.Load()
			last.user.inactive = true
			e.cur.Store(&last)
		}
	}
	s.snap.Store(snap)
	s.changed = false // runtime record changes not yet saved are overridden by the file
	s.purgeCache(snap)
	return nil
}

// build returns u's record, without live counters: allow_ips normalised
// (normPrefix), source_addrs compiled, inactive when its group is
// disabled, its held-item share resolved (share: the Store's). u must have
// passed checkUser against groups; its reference fields are copied.
func build(u User, groups map[string]Group, share int) (*account, error) {
	var h pwHash // zero for a certificate-only user without a password
	if u.Auth != AuthCert || u.PasswordHash != "" {
		var err error
		if h, err = parseHash(u.PasswordHash); err != nil {
			return nil, fmt.Errorf("user %q: %w", u.SystemID, err)
		}
	}
	u.own()
	for j, p := range u.AllowIPs {
		u.AllowIPs[j] = normPrefix(p)
	}
	if err := u.compile(); err != nil {
		return nil, err
	}
	u.inactive = false
	if u.Group != "" {
		g, ok := groups[u.Group]
		if !ok {
			return nil, fmt.Errorf("user %q: %w %q", u.SystemID, ErrUnknownGroup, u.Group)
		}
		u.inactive = !g.Enabled
	}
	u.Limits.live = nil
	return &account{user: u, hash: h, held: heldShare(&u, groups, share)}, nil
}

// groupIn is checkUser's knownGroup for a snapshot's groups.
func groupIn(groups map[string]Group) func(string) bool {
	return func(name string) bool {
		_, ok := groups[name]
		return ok
	}
}

func (s *Store) purgeCache(snap *snapshot) {
	if s.cache == nil {
		return
	}
	s.cache.purge(func(id string) string {
		if e := snap.users[id]; e != nil {
			return e.cur.Load().user.PasswordHash
		}
		return ""
	})
}

// Authenticate checks a bind and, on success, reserves one of the user's
// bind slots (and one of its slots for bt), held by the returned *Bind until
// its Release.
//
// Order: the failed-bind limiter's block (ErrThrottled; checked again here,
// since a block may have started while the bind waited), the password
// (ErrBadCredentials; an unknown system_id runs a hash of the same cost),
// then ErrDisabled (the user or its group), ErrIPNotAllowed,
// ErrBindTypeNotAllowed and ErrTooManyBinds (max_binds, then
// max_binds_per_type). Only ErrBadCredentials counts as a failure for the
// limiter: the others come after a correct password, so they reveal nothing
// to a guesser. A correct password clears the failures of its (address,
// system_id) pair and of its system_id.
//
// Authenticate never waits for slow_delay: a caller that applies it asks
// Gate first and calls Authenticate once the delay has passed.
//
// Safe for concurrent use. It blocks for a PBKDF2 run on a cache miss:
// never call it on an event loop.
func (s *Store) Authenticate(systemID, password string, bt BindType, ip netip.Addr) (*Bind, error) {
	return s.AuthenticatePeer(systemID, password, bt, ip, nil)
}

// AuthenticatePeer is Authenticate for a bind that may carry a verified TLS
// client certificate (nil: none). The user's Auth decides what is checked:
// the password, the certificate against its pins, or both; a missing or
// unpinned certificate is ErrBadCredentials, counted by the limiter as a
// wrong password is.
func (s *Store) AuthenticatePeer(systemID, password string, bt BindType, ip netip.Addr, peer *PeerCert) (*Bind, error) {
	if s.lim != nil && s.lim.check(ip, systemID) == block {
		s.throttled.Add(1)
		return nil, ErrThrottled
	}
	snap := s.snap.Load()
	e := snap.users[systemID]
	var a *account
	if e != nil {
		a = e.cur.Load()
	}
	if !s.credentials(snap, a, systemID, password, peer) {
		if s.lim != nil {
			s.lim.fail(ip, systemID)
		}
		return nil, ErrBadCredentials
	}
	if s.lim != nil {
		s.lim.succeed(ip, systemID)
	}
	u := &a.user
	if !u.Active() {
		return nil, ErrDisabled
	}
	if !ipAllowed(u.AllowIPs, ip) {
		return nil, ErrIPNotAllowed
	}
	ti := bt.Index()
	if ti < 0 || u.BindTypes&bt == 0 {
		return nil, ErrBindTypeNotAllowed
	}
	el := s.elsewhere.Load()
	var all int
	var byType [3]int
	if el != nil {
		all, byType = el.b.Binds(systemID)
	}
	if !reserveBeside(&e.binds, u.MaxBinds, all) {
		return nil, ErrTooManyBinds
	}
	if !reserveBeside(&e.byType[ti], u.MaxBindsPerType[ti], byType[ti]) {
		e.binds.Add(-1)
		return nil, ErrTooManyBinds
	}
	tellBinds(el, e, systemID)
	return &Bind{ent: e, typ: bt, el: el}, nil
}

// Gate is the failed-bind limiter's verdict on a bind before its password
// is checked: ErrThrottled when the source address or the (address,
// system_id) pair is blocked; otherwise how long to wait before calling
// Authenticate: SlowDelay once the address, the pair or the system_id has
// SlowAfter failures in its window, else 0. A system_id alone is never
// blocked, so a guesser elsewhere only slows its real user down.
//
// It takes one short mutex and never blocks or allocates, so the engine
// calls it on an event loop and parks a slowed bind on its timer wheel: the
// delay holds no auth worker. Counted in Stats (Throttled, Slowed).
func (s *Store) Gate(systemID string, ip netip.Addr) (time.Duration, error) {
	if s.lim == nil {
		return 0, nil
	}
	switch s.lim.check(ip, systemID) {
	case block:
		s.throttled.Add(1)
		return 0, ErrThrottled
	case slow:
		s.slowed.Add(1)
		return s.limit.SlowDelay, nil
	}
	return 0, nil
}

// credentials checks what a's Auth asks for: the password (verify), the
// client certificate against its pins, or both (the password first, so a
// bind without the certificate costs what a wrong password costs).
func (s *Store) credentials(snap *snapshot, a *account, systemID, password string, peer *PeerCert) bool {
	if a == nil || a.user.Auth.needsPassword() {
		if !s.verify(snap, a, systemID, password) {
			return false
		}
	}
	return !a.user.Auth.needsCert() || a.user.certMatches(peer)
}

// verify checks password against a (nil for an unknown system_id), through
// the cache when there is one.
func (s *Store) verify(snap *snapshot, a *account, systemID, password string) bool {
	if a == nil {
		snap.dummy.verify(password) // spend the same time as a real check
		return false
	}
	if s.cache == nil {
		s.misses.Add(1)
		return a.hash.verify(password)
	}
	now := s.clock.Now()
	mac := s.cache.mac(systemID, password)
	if s.cache.hit(systemID, a.user.PasswordHash, &mac, now) {
		s.hits.Add(1)
		return true
	}
	s.misses.Add(1)
	if !a.hash.verify(password) {
		return false
	}
	s.cache.put(systemID, a.user.PasswordHash, &mac, now)
	return true
}

func ipAllowed(allow []netip.Prefix, ip netip.Addr) bool {
	if len(allow) == 0 {
		return true
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// reserve takes one slot of ctr if fewer than limit are held (0 = no
// limit).
func reserve(ctr *atomic.Int64, limit int) bool {
	if limit <= 0 {
		ctr.Add(1)
		return true
	}
	for {
		n := ctr.Load()
		if n >= int64(limit) {
			return false
		}
		if ctr.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// entryOf finds systemID's entry, current or removed (nil if never loaded).
func (s *Store) entryOf(systemID string) *entry {
	if e := s.snap.Load().users[systemID]; e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entries[systemID]
}

// Binds returns how many binds systemID holds now (0 for an unknown user).
func (s *Store) Binds(systemID string) int {
	if e := s.entryOf(systemID); e != nil {
		return int(e.binds.Load())
	}
	return 0
}

// BindsOfType returns how many binds of type bt systemID holds now.
func (s *Store) BindsOfType(systemID string, bt BindType) int {
	if e := s.entryOf(systemID); e != nil && bt.Index() >= 0 {
		return int(e.byType[bt.Index()].Load())
	}
	return 0
}

// Stats returns the Store's counters.
func (s *Store) Stats() Stats {
	st := Stats{
		CacheHits:   s.hits.Load(),
		CacheMisses: s.misses.Load(),
		Slowed:      s.slowed.Load(),
		Throttled:   s.throttled.Load(),
	}
	if s.led != nil {
		st.LedgerErrors = s.led.failed.Load()
	}
	return st
}

// Bind is a successful bind: one reserved bind slot of a user, and the way
// to that user's current record.
type Bind struct {
	ent      *entry
	typ      BindType
	el       *elsewhereRef // told at Release; nil outside a cluster
	released atomic.Bool
}

// SystemID returns the bound system_id.
func (b *Bind) SystemID() string { return b.ent.cur.Load().user.SystemID }

// User returns the user's current record: after a Reload or a runtime
// change, the new one (after the user's removal, the last one, inactive).
// The record is shared and must not be modified; it stays valid and
// unchanged for as long as it is referenced, so read it once per message and
// use that pointer throughout. One atomic load; safe for concurrent use.
func (b *Bind) User() *User { return &b.ent.cur.Load().user }

// Type returns the bind type that was granted.
func (b *Bind) Type() BindType { return b.typ }

// Release frees the bind slots. It is idempotent and safe for concurrent
// use.
func (b *Bind) Release() {
	if b.released.CompareAndSwap(false, true) {
		b.ent.binds.Add(-1)
		b.ent.byType[b.typ.Index()].Add(-1)
		if b.el != nil {
			tellBinds(b.el, b.ent, b.SystemID())
		}
	}
}
