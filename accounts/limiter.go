package accounts

import (
	"net/netip"
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

// failState counts the failures of one key (a source address or a system_id).
type failState struct {
	windowStart  time.Time
	count        int       // failures since windowStart
	blockedUntil time.Time // zero when not blocked
}

// limiter counts failed binds per source address and per system_id.
//
// Rules, per key: failures are counted in a fixed window of FailWindow that
// starts at the first failure. Once the count reaches SlowAfter, every
// further bind for that key waits SlowDelay before it is answered; once it
// reaches BlockAfter, binds are refused for BlockFor, after which the key
// starts again with a fresh window. A successful bind clears its system_id's
// count (not its address's: one valid account must not reset the count of
// an address that is guessing others).
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
		ids:   newLRU[string, failState](lim.MaxKeys),
	}
}

// ipKey maps a source address to its limiter key.
func ipKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}

// check returns the stricter verdict of ip's and systemID's counts.
func (l *limiter) check(ip netip.Addr, systemID string) verdict {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	v := allow
	if st, ok := l.ips.get(ipKey(ip)); ok {
		v = max(v, l.judge(st, now))
	}
	if st, ok := l.ids.get(systemID); ok {
		v = max(v, l.judge(st, now))
	}
	return v
}

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
	if l.lim.BlockAfter > 0 && st.count >= l.lim.BlockAfter {
		return block
	}
	if l.lim.SlowAfter > 0 && st.count >= l.lim.SlowAfter {
		return slow
	}
	return allow
}

// fail records one failed bind for ip and systemID.
func (l *limiter) fail(ip netip.Addr, systemID string) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.record(l.ips.touch(ipKey(ip)), now)
	l.record(l.ids.touch(systemID), now)
}

func (l *limiter) record(st *failState, now time.Time) {
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
	if l.lim.BlockAfter > 0 && st.count >= l.lim.BlockAfter {
		st.blockedUntil = now.Add(l.lim.BlockFor)
	}
}

// succeed clears systemID's failures after a correct password.
// A block set meanwhile by concurrent failures stays.
func (l *limiter) succeed(systemID string) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if st, ok := l.ids.get(systemID); ok && !now.Before(st.blockedUntil) {
		l.ids.remove(systemID)
	}
}
