package memory

import (
	"sync"
	"sync/atomic"
)

// names numbers the records' system_ids and MT route names, so that a
// record keeps two 4-byte numbers in its pointer-free slot instead of two
// string headers in a ring the collector scans: 136 bytes a record
// instead of 160 (50,000 records: 1.1 MiB; BENCHMARKS.md, issue 17's
// resident memory). Names are users and routes: the configuration's, and
// users the admin API creates at run time. A number is never reused, so a
// name stays for the store's life. Adding one costs the same however many
// there are (a lookup table with lock-free reads, the numbered names in
// fixed chunks): copying a whole table per name cost 1.7 ms at the
// 20,001st, inside a Put.
type names struct {
	mu  sync.Mutex // adding a name
	ids sync.Map   // string -> uint32
	n   uint32     // names numbered, under mu
	// dir holds the chunks of numbered names (id-1 in chunk
	// (id-1)/nameChunk); replaced whole, under mu, when a chunk is added.
	dir atomic.Pointer[[]*[nameChunk]string]
}

// nameChunk names are kept per chunk.
const nameChunk = 1024

// of returns s's number, numbering it first when it is new; 0 for "".
func (n *names) of(s string) uint32 {
	if s == "" {
		return 0
	}
	if id, ok := n.ids.Load(s); ok {
		return id.(uint32)
	}
	return n.add(s)
}

func (n *names) add(s string) uint32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if id, ok := n.ids.Load(s); ok {
		return id.(uint32)
	}
	i := n.n
	var dir []*[nameChunk]string
	if p := n.dir.Load(); p != nil {
		dir = *p
	}
	if int(i/nameChunk) == len(dir) {
		grown := append(dir[:len(dir):len(dir)], new([nameChunk]string))
		n.dir.Store(&grown)
		dir = grown
	}
	// Written before the number is published (ids.Store): a reader gets
	// the number only from ids or from a record Put after it.
	dir[i/nameChunk][i%nameChunk] = s
	n.n = i + 1
	id := i + 1
	n.ids.Store(s, id)
	return id
}

// name returns number id's name; "" for 0.
func (n *names) name(id uint32) string {
	if id == 0 {
		return ""
	}
	i := id - 1
	return (*n.dir.Load())[i/nameChunk][i%nameChunk]
}

// count is how many names are numbered.
func (n *names) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return int(n.n)
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
