package accounts

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Store authenticates binds against a snapshot of users. Create it with
// NewStore; the zero value is not usable.
type Store struct {
	snap  atomic.Pointer[snapshot]
	cache *credCache // nil: no cache
	lim   *limiter   // nil: no failed-bind limits
	limit Limits
	clock Clock

	// slots holds each system_id's bind counter. It outlives snapshots so
	// a reload keeps the counts; guarded by slotsMu (touched only by
	// NewStore and Reload).
	slotsMu sync.Mutex
	slots   map[string]*atomic.Int64

	hits, misses, slowed, throttled atomic.Uint64
}

// snapshot is an immutable set of users.
type snapshot struct {
	users map[string]*account
	dummy pwHash // checked for unknown system_ids
}

// account is one user of a snapshot.
type account struct {
	user  User
	hash  pwHash
	binds *atomic.Int64 // shared with every snapshot that has this system_id
}

// NewStore builds a Store from users. It fails if a user is malformed
// (empty or duplicate system_id, unreadable password_hash, no bind types).
func NewStore(users []User, opts Options) (*Store, error) {
	s := &Store{clock: opts.Clock, limit: opts.Limits, slots: make(map[string]*atomic.Int64)}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	if opts.CacheTTL > 0 && opts.CacheSize > 0 {
		s.cache = newCredCache(opts.CacheTTL, opts.CacheSize)
	}
	if opts.Limits.SlowAfter > 0 || opts.Limits.BlockAfter > 0 {
		if opts.Limits.FailWindow <= 0 {
			return nil, errors.New("accounts: Limits.FailWindow must be > 0")
		}
		s.lim = newLimiter(opts.Limits, s.clock)
	}
	if err := s.Reload(users); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload replaces the users atomically. Binds already held stay valid and
// keep counting against their system_id's max_binds (a lowered max_binds
// refuses new binds until the count falls below it). Cached verifications
// of removed users, or of users whose password_hash changed, are dropped.
// On error the previous users stay in force.
func (s *Store) Reload(users []User) error {
	snap := &snapshot{users: make(map[string]*account, len(users))}
	dummyIter := 0
	s.slotsMu.Lock()
	defer s.slotsMu.Unlock()
	for i := range users {
		u := users[i]
		if u.SystemID == "" {
			return fmt.Errorf("accounts: user %d has no system_id", i)
		}
		if _, dup := snap.users[u.SystemID]; dup {
			return fmt.Errorf("accounts: user %q is defined twice", u.SystemID)
		}
		h, err := parseHash(u.PasswordHash)
		if err != nil {
			return fmt.Errorf("user %q: %w", u.SystemID, err)
		}
		if u.BindTypes&AllBindTypes == 0 {
			return fmt.Errorf("accounts: user %q allows no bind type", u.SystemID)
		}
		if u.MaxBinds < 0 {
			return fmt.Errorf("accounts: user %q has a negative max_binds", u.SystemID)
		}
		u.AllowIPs = append([]netip.Prefix(nil), u.AllowIPs...)
		for j, p := range u.AllowIPs {
			u.AllowIPs[j] = p.Masked()
		}
		ctr := s.slots[u.SystemID]
		if ctr == nil {
			ctr = new(atomic.Int64)
		}
		snap.users[u.SystemID] = &account{user: u, hash: h, binds: ctr}
		dummyIter = max(dummyIter, h.iter)
	}
	if dummyIter == 0 {
		dummyIter = DefaultIterations
	}
	snap.dummy = dummyHash(dummyIter)
	for _, a := range snap.users {
		s.slots[a.user.SystemID] = a.binds
	}
	s.snap.Store(snap)
	if s.cache != nil {
		s.cache.purge(func(id string) string {
			if a := snap.users[id]; a != nil {
				return a.user.PasswordHash
			}
			return ""
		})
	}
	return nil
}

// Authenticate checks a bind and, on success, reserves one of the user's
// bind slots, held by the returned *Bind until its Release.
//
// Order: the failed-bind limiter (ErrThrottled, or a SlowDelay sleep), the
// password (ErrBadCredentials; an unknown system_id runs a hash of the same
// cost), then ErrDisabled, ErrIPNotAllowed, ErrBindTypeNotAllowed and
// ErrTooManyBinds. Only ErrBadCredentials counts as a failure for the
// limiter: the others come after a correct password, so they reveal nothing
// to a guesser.
//
// Safe for concurrent use. It blocks for a PBKDF2 run on a cache miss and
// for SlowDelay when slowed: never call it on an event loop.
func (s *Store) Authenticate(systemID, password string, bt BindType, ip netip.Addr) (*Bind, error) {
	if s.lim != nil {
		switch s.lim.check(ip, systemID) {
		case block:
			s.throttled.Add(1)
			return nil, ErrThrottled
		case slow:
			s.slowed.Add(1)
			s.clock.Sleep(s.limit.SlowDelay)
		}
	}
	snap := s.snap.Load()
	a := snap.users[systemID]
	if !s.verify(snap, a, systemID, password) {
		if s.lim != nil {
			s.lim.fail(ip, systemID)
		}
		return nil, ErrBadCredentials
	}
	if s.lim != nil {
		s.lim.succeed(systemID)
	}
	u := &a.user
	if !u.Enabled {
		return nil, ErrDisabled
	}
	if !ipAllowed(u.AllowIPs, ip) {
		return nil, ErrIPNotAllowed
	}
	if (bt != BindTransmitter && bt != BindReceiver && bt != BindTransceiver) || u.BindTypes&bt == 0 {
		return nil, ErrBindTypeNotAllowed
	}
	if !reserve(a.binds, u.MaxBinds) {
		return nil, ErrTooManyBinds
	}
	return &Bind{acct: a, typ: bt}, nil
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

// Binds returns how many binds systemID holds now (0 for an unknown user).
func (s *Store) Binds(systemID string) int {
	if a := s.snap.Load().users[systemID]; a != nil {
		return int(a.binds.Load())
	}
	s.slotsMu.Lock()
	defer s.slotsMu.Unlock()
	if c := s.slots[systemID]; c != nil {
		return int(c.Load())
	}
	return 0
}

// Lookup returns a copy of the current user with systemID.
func (s *Store) Lookup(systemID string) (User, bool) {
	if a := s.snap.Load().users[systemID]; a != nil {
		u := a.user
		u.AllowIPs = append([]netip.Prefix(nil), u.AllowIPs...)
		return u, true
	}
	return User{}, false
}

// Stats returns the Store's counters.
func (s *Store) Stats() Stats {
	return Stats{
		CacheHits:   s.hits.Load(),
		CacheMisses: s.misses.Load(),
		Slowed:      s.slowed.Load(),
		Throttled:   s.throttled.Load(),
	}
}

// Bind is a successful bind: the user as it was when the bind was accepted
// and one reserved bind slot.
type Bind struct {
	acct     *account
	typ      BindType
	released atomic.Bool
}

// SystemID returns the bound system_id.
func (b *Bind) SystemID() string { return b.acct.user.SystemID }

// User returns the user as it was at bind time. The value is shared and
// must not be modified; it stays valid (and unchanged) after a Reload.
func (b *Bind) User() *User { return &b.acct.user }

// Type returns the bind type that was granted.
func (b *Bind) Type() BindType { return b.typ }

// Release frees the bind slot. It is idempotent and safe for concurrent use.
func (b *Bind) Release() {
	if b.released.CompareAndSwap(false, true) {
		b.acct.binds.Add(-1)
	}
}
