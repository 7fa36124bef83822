package smppout

import (
	"errors"
	"sync"
	"time"
)

// The bind gate (Options.BindGate): a cluster node binds only its share of
// an upstream's cluster-wide bind limit. A session past the share does
// not connect; a bound one that falls past it (another node joined) stops
// taking submits at its next tick and unbinds once nothing of it is in
// flight, so no submit is cut off. A lower count applies at once; a higher
// one only once the gate has answered it for Options.BindGateRaise without
// a break: the other nodes' bind counts the gate reads are up to a
// heartbeat old, so a node that raised its binds since its last heartbeat
// (starting alone, say) is seen holding them before this one adds its own.

// gateWait is how often a session held back by the gate looks again.
const gateWait = 250 * time.Millisecond

// errGated ends a connection the gate no longer allows.
var errGated = errors.New("smppout: past this node's share of cluster_binds: unbound")

// allowed reports whether the gate lets this session hold its bind: its
// place among the connector's binds (a transmitter and its receiver
// share one) is within the gate's count.
func (s *session) allowed() bool {
	return s.c.opts.BindGate == nil || s.idx%s.c.opts.Binds < s.c.gate.count(s.c.opts.BindGate(), s.c.mono(), s.c.opts.BindGateRaise)
}

// bindGate holds the count in force (bindGate.count).
type bindGate struct {
	mu    sync.Mutex
	cur   int   // the count in force; 0 until a first one held for the raise delay
	since int64 // mono ns since when the gate has answered more than cur; 0 = not
}

// count takes the gate's answer now (mono ns) and returns the count in
// force: lower at once, higher once answered for raise without a break.
func (g *bindGate) count(answer int, now int64, raise time.Duration) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case answer <= g.cur:
		g.cur, g.since = answer, 0
	case g.since == 0:
		g.since = now
	case now-g.since >= int64(raise):
		g.cur, g.since = answer, 0
	}
	return g.cur
}

// waitGate sleeps until the gate allows this session; false when the
// connector stops meanwhile.
func (s *session) waitGate() bool {
	if s.allowed() {
		return true
	}
	s.log.Info().Str("event", "upstream_bind_gated").
		Msg("upstream bind held back: this node's share of cluster_binds does not reach it")
	for {
		if !s.sleep(gateWait) {
			return false
		}
		if s.allowed() {
			return true
		}
	}
}

// gate is the bound session's check at each tick (worker goroutine): past
// the share it takes no more submits (s.over), and once nothing is in
// flight it asks for the connection to end.
func (s *session) gate() error {
	s.over = !s.allowed()
	if !s.over {
		return nil
	}
	s.mu.Lock()
	idle := s.cur == nil && len(s.win.free) == len(s.win.slots)
	s.mu.Unlock()
	if !idle {
		return nil
	}
	return errGated
}
