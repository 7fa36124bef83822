package engine

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// connLimits enforces the total and per-source-address connection caps.
// acquire/release run once per connection (not per PDU), from any loop, so a
// mutex is enough.
type connLimits struct {
	mu     sync.Mutex
	total  int
	perIP  map[netip.Addr]int
	maxAll int
	maxIP  int
}

func (c *connLimits) init(maxAll, maxIP int) {
	c.maxAll, c.maxIP = maxAll, maxIP
	c.perIP = make(map[netip.Addr]int)
}

// acquire reserves a connection for ip; false means refuse it.
func (c *connLimits) acquire(ip netip.Addr) bool {
	ip = ip.Unmap()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total >= c.maxAll || c.perIP[ip] >= c.maxIP {
		return false
	}
	c.total++
	c.perIP[ip]++
	return true
}

func (c *connLimits) release(ip netip.Addr) {
	ip = ip.Unmap()
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.perIP[ip]; n > 1 {
		c.perIP[ip] = n - 1
	} else {
		delete(c.perIP, ip)
	}
	c.total--
}

// registry finds bound receiver/transceiver sessions by system_id for
// Server.Deliver. Loops add and remove entries at bind and close (cold path,
// write lock); Deliver reads it from any goroutine under the read lock, so
// concurrent deliveries do not serialise. The round-robin cursor is atomic
// because readers advance it.
type registry struct {
	mu sync.RWMutex
	m  map[string]*regEntry
}

type regEntry struct {
	refs []regRef // changed only under the write lock
	next atomic.Uint32
}

type regRef struct {
	l   *loop
	s   *session
	gen uint32
}

func (r *registry) add(systemID string, l *loop, s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]*regEntry)
	}
	e := r.m[systemID]
	if e == nil {
		e = &regEntry{}
		r.m[systemID] = e
	}
	e.refs = append(e.refs, regRef{l, s, s.gen})
}

func (r *registry) remove(systemID string, s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.m[systemID]
	if e == nil {
		return
	}
	for i, ref := range e.refs {
		if ref.s == s && ref.gen == s.gen {
			last := len(e.refs) - 1
			e.refs[i] = e.refs[last]
			e.refs[last] = regRef{}
			e.refs = e.refs[:last]
			break
		}
	}
	if len(e.refs) == 0 {
		delete(r.m, systemID)
	}
}

// pickWithRoom returns the next session of systemID, round robin, skipping
// those with limit deliveries pending; found is false when systemID has no
// receiving session, room false when every one is full.
func (r *registry) pickWithRoom(systemID string, limit int32) (ref regRef, found, room bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.m[systemID]
	if e == nil || len(e.refs) == 0 {
		return regRef{}, false, false
	}
	n := uint32(len(e.refs))
	start := e.next.Add(1)
	for i := range n {
		ref = e.refs[(start+i)%n]
		if ref.s.deliverPending.Load() < limit {
			return ref, true, true
		}
	}
	return regRef{}, true, false
}
