package accounts

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// verdict is the failed-bind limiter's answer for one bind attempt.
type verdict uint8

const (
	allow verdict = iota
	slow          // answer after Limits.SlowDelay
	block         // refuse with ErrThrottled without checking the password
)

// failState counts the failures of one key.
type failState struct {
	windowStart  time.Time
	count        int       // failures since windowStart
	blockedUntil time.Time // zero when not blocked
}

// pairKey is one (source address key, system_id) pair.
type pairKey struct {
	ip netip.Addr
	id string
}

// limiter counts failed binds under three keys: the source address, the
// (address, system_id) pair and the system_id.
//
// Rules: each key counts its failures in a fixed window of FailWindow that
// starts at its first failure. Once any of a bind's three keys has
// SlowAfter failures in its window, the bind is answered only after
// SlowDelay. A pair with BlockAfter failures, or an address with
// AddressBlockAfter, is blocked for BlockFor: its binds are refused without
// a password check; afterwards the key starts a fresh window. A system_id
// is never blocked, only slowed: a guesser on one address must not lock
// the real user out of the addresses the user binds from. A successful bind
// clears its pair's and its system_id's counts, not its address's (one
// valid account must not reset the count of an address guessing others).
//
// IPv6 sources are keyed by their /64, since one host usually owns the whole
// /64. Only failures create entries, and each kind keeps at most MaxKeys of
// them, evicting the least recently failed; a spray from more sources than
// that can push blocked keys out, which caps memory at the cost of
// precision.
type limiter struct {
	mu    sync.Mutex
	lim   Limits
	clock Clock
	ips   *lru[netip.Addr, failState]
	pairs *lru[pairKey, failState]
	ids   *lru[string, failState]
}

func newLimiter(lim Limits, clock Clock) *limiter {
	if lim.MaxKeys <= 0 {
		lim.MaxKeys = 65536
	}
	return &limiter{
		lim:   lim,
		clock: clock,
		ips:   newLRU[netip.Addr, failState](lim.MaxKeys),
		pairs: newLRU[pairKey, failState](lim.MaxKeys),
		ids:   newLRU[string, failState](lim.MaxKeys),
	}
}

// ipKey maps a source address to its limiter key: IPv4 (mapped or not) as
// is, IPv6 as its /64.
func ipKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}

// check returns the strictest verdict of the bind's three keys.
func (l *limiter) check(ip netip.Addr, systemID string) verdict {
	now := l.clock.Now()
	k := ipKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	v := allow
	if st, ok := l.ips.get(k); ok {
		v = max(v, l.judge(st, now))
	}
	if st, ok := l.pairs.get(pairKey{k, systemID}); ok {
		v = max(v, l.judge(st, now))
	}
	if st, ok := l.ids.get(systemID); ok {
		v = max(v, l.judge(st, now))
	}
	return v
}

// judge reads one key's state; only record sets a block.
func (l *limiter) judge(st *failState, now time.Time) verdict {
	if !st.blockedUntil.IsZero() {
		if now.Before(st.blockedUntil) {
			return block
		}
		return allow // the block ended; the next failure starts a new window
	}
	if now.Sub(st.windowStart) >= l.lim.FailWindow {
		return allow
	}
	if l.lim.SlowAfter > 0 && st.count >= l.lim.SlowAfter {
		return slow
	}
	return allow
}

// fail records one failed bind for ip and systemID.
func (l *limiter) fail(ip netip.Addr, systemID string) {
	// The keys outlive the bind: a copy, so a key cut from a larger buffer
	// (an HTTP request's URL or body) does not keep all of it alive.
	systemID = strings.Clone(systemID)
	now := l.clock.Now()
	k := ipKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.record(l.ips.touch(k), now, l.lim.AddressBlockAfter)
	l.record(l.pairs.touch(pairKey{k, systemID}), now, l.lim.BlockAfter)
	l.record(l.ids.touch(systemID), now, 0)
}

// record counts a failure; blockAfter 0 never blocks the key.
func (l *limiter) record(st *failState, now time.Time, blockAfter int) {
	if !st.blockedUntil.IsZero() {
		if now.Before(st.blockedUntil) {
			return // already blocked; blocks do not extend themselves
		}
		*st = failState{}
	}
	if st.count == 0 || now.Sub(st.windowStart) >= l.lim.FailWindow {
		st.windowStart, st.count = now, 0
	}
	st.count++
	if blockAfter > 0 && st.count >= blockAfter {
		st.blockedUntil = now.Add(l.lim.BlockFor)
	}
}

// succeed clears the pair's and systemID's failures after a correct
// password. A pair block set meanwhile by concurrent failures stays.
func (l *limiter) succeed(ip netip.Addr, systemID string) {
	now := l.clock.Now()
	pk := pairKey{ipKey(ip), systemID}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st, ok := l.pairs.get(pk); ok && !now.Before(st.blockedUntil) {
		l.pairs.remove(pk)
	}
	l.ids.remove(systemID)
}
