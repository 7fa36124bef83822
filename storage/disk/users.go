package disk

import (
	"sync"
	"sync/atomic"
)

// users interns system_ids: a record slot keeps a uint32 instead of a
// string, so the record slabs hold no pointers for the garbage collector
// to scan, and Get hands out the interned string without allocating.
// Lookups go through each shard's own cache of the table (under the
// shard's lock), so the table's lock is taken only for a user a shard has
// not seen yet.
type users struct {
	mu    sync.Mutex
	ids   map[string]uint32
	names atomic.Pointer[[]string] // copied on append: readers take no lock
}

func (u *users) init() {
	u.ids = make(map[string]uint32)
	names := make([]string, 0, 64)
	u.names.Store(&names)
}

// name returns the system_id of index i.
func (u *users) name(i uint32) string { return (*u.names.Load())[i] }

// intern returns name's index, adding it when new.
func (u *users) intern(name string) uint32 {
	u.mu.Lock()
	defer u.mu.Unlock()
	if i, ok := u.ids[name]; ok {
		return i
	}
	old := *u.names.Load()
	names := append(old[:len(old):len(old)], name) // a new array: readers keep the old one
	i := uint32(len(old))
	u.ids[name] = i
	u.names.Store(&names)
	return i
}

// routeIn returns the slot value of an MT route's name: its index plus
// one through the shard's cache (the same table as the users': both are
// interned names), 0 for "". Caller holds sh.mu.
func (s *Store) routeIn(sh *recShard, route string) uint32 {
	if route == "" {
		return 0
	}
	return s.users.userIn(sh.users, route) + 1
}

// routeName is routeIn's inverse.
func (s *Store) routeName(v uint32) string {
	if v == 0 {
		return ""
	}
	return s.users.name(v - 1)
}

// userIn returns name's index through cache (a shard's, under its lock).
func (u *users) userIn(cache map[string]uint32, name string) uint32 {
	if i, ok := cache[name]; ok {
		return i
	}
	i := u.intern(name)
	cache[name] = i
	return i
}
