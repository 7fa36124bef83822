package jetstream

import (
	"slices"
	"strings"
	"sync"
)

// owners are the other nodes whose records this node's Recover passed
// with work left: a body not yet accepted upstream, or an outcome decided
// at acceptance whose receipt is due.
type owners struct {
	mu    sync.Mutex
	nodes []int
}

func (o *owners) note(nodes []int) {
	o.mu.Lock()
	o.nodes = nodes
	o.mu.Unlock()
}

// Owners returns the other nodes that left work in the journal this node
// replayed, the ones a take-over acts for: those whose records Recover
// found with work left (call it after Recover), and the producers of held
// items of an internal queue (a system id starting with NUL: a node's
// HTTP callbacks). They name the nodes that may have departed before this
// one started (cluster.WatchDeparted's absent).
func (s *Store) Owners() []int {
	s.owners.mu.Lock()
	out := slices.Clone(s.owners.nodes)
	s.owners.mu.Unlock()
	h := &s.holds
	h.mu.Lock()
	for key, user := range h.remote {
		if n := int(h.toG[key] >> nodeShift); strings.HasPrefix(user, "\x00") && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	h.mu.Unlock()
	slices.Sort(out)
	return out
}
