package engine

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
)

// addrKey maps a source address to the key of the per-address limits: IPv4
// (mapped or not) as is, IPv6 as its /64, since one host usually owns the
// whole /64 and could otherwise take a fresh address per connection.
func addrKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}

// connLimits enforces the total and per-source-address connection caps.
// acquire/release run once per connection (not per PDU), from any loop and
// the TLS acceptor, so a mutex is enough.
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
	ip = addrKey(ip)
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
	ip = addrKey(ip)
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.perIP[ip]; n > 1 {
		c.perIP[ip] = n - 1
	} else {
		delete(c.perIP, ip)
	}
	c.total--
}

// acquireConn reserves the connection slot of a conn entering a loop (c's
// context is still what it was registered with). A TLS relay took its slot
// at accept, so that handshakes count against the limits: its session takes
// that slot over instead of a second one.
func (srv *Server) acquireConn(c gnet.Conn, ip netip.Addr) bool {
	if o, ok := c.Context().(*tlsOrigin); ok {
		return o.held.CompareAndSwap(true, false)
	}
	return srv.limits.acquire(ip)
}

// pendingBinds caps the binds each source address (addrKey) has queued for
// or at the auth workers, so that one address cannot fill the auth queue
// and starve every other. take runs on the loops and give on the workers,
// once per bind: a mutex is enough.
type pendingBinds struct {
	mu  sync.Mutex
	n   map[netip.Addr]int
	max int

	overShare, queueFull atomic.Uint64 // refusals, for Stats
}

func (p *pendingBinds) init(limit int) {
	p.max = limit
	p.n = make(map[netip.Addr]int)
}

// take reserves a place for a bind from key; false means the address holds
// its whole share.
func (p *pendingBinds) take(key netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[key] >= p.max {
		return false
	}
	p.n[key]++
	return true
}

func (p *pendingBinds) give(key netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.n[key]; n > 1 {
		p.n[key] = n - 1
	} else {
		delete(p.n, key)
	}
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
