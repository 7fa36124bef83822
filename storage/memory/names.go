package memory

import (
	"sync"
	"sync/atomic"
)

// names numbers the records' system_ids and MT route names, so that a
// record keeps two 4-byte numbers in its pointer-free slot instead of two
// string headers in a ring the collector scans: 136 bytes a record
// instead of 160 (50,000 records: 1.1 MiB; BENCHMARKS.md, issue 17's
// resident memory). Names are users and routes, a set the configuration
// bounds; a number is never reused, so a name stays for the store's life.
// Lookups read an immutable table through one atomic load; adding a name
// copies it (once per name).
type names struct {
	mu  sync.Mutex // adding a name
	tab atomic.Pointer[nameTab]
}

type nameTab struct {
	ids  map[string]uint32
	list []string // list[id-1]
}

// of returns s's number, numbering it first when it is new; 0 for "".
func (n *names) of(s string) uint32 {
	if s == "" {
		return 0
	}
	if t := n.tab.Load(); t != nil {
		if id, ok := t.ids[s]; ok {
			return id
		}
	}
	return n.add(s)
}

func (n *names) add(s string) uint32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	old := n.tab.Load()
	if old == nil {
		old = &nameTab{}
	}
	if id, ok := old.ids[s]; ok {
		return id
	}
	t := &nameTab{ids: make(map[string]uint32, len(old.ids)+1), list: append(old.list[:len(old.list):len(old.list)], s)}
	for k, v := range old.ids {
		t.ids[k] = v
	}
	id := uint32(len(t.list))
	t.ids[s] = id
	n.tab.Store(t)
	return id
}

// name returns number id's name; "" for 0.
func (n *names) name(id uint32) string {
	if id == 0 {
		return ""
	}
	return n.tab.Load().list[id-1]
}

// nameCache is a record table's last two names and their numbers, under
// its mu: a Put of the same user and route as the one before (a session's
// run of ids lands on one table) compares two strings, with no lookup.
type nameCache struct {
	user, route     string
	userID, routeID uint32
}

// ids returns the numbers of user and route.
func (c *nameCache) ids(n *names, user, route string) (uint32, uint32) {
	if user != c.user {
		c.user, c.userID = user, n.of(user)
	}
	if route != c.route {
		c.route, c.routeID = route, n.of(route)
	}
	return c.userID, c.routeID
}
