package memory

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// cbShards spread the callbacks' locks; callbacks come only with HTTP
// submits, far fewer than records.
const cbShards = 16

// errCallbacksFull: PutCallback with as many callbacks kept as records
// may be (Options.MaxRecords) and none expired in the id's shard.
var errCallbacksFull = errors.New("memory: callback table full (as many as max_records)")

// callbacks is the in-memory storage.Callbacks: a map per shard, bounded
// as a whole by MaxRecords (a callback without its record is of no use).
type callbacks struct {
	sh    [cbShards]cbShard
	max   int
	ttl   int64
	now   func() int64
	seed  uint64
	count atomic.Int64
}

type cbShard struct {
	mu sync.Mutex
	m  map[msg.ID]cbEntry
	_  cachePad
}

// cbEntry is one kept callback; until is the end of its lifetime.
type cbEntry struct {
	url                 string
	until               int64
	level, method, done uint8
}

func (c *callbacks) init(max int, ttl int64, now func() int64, seed uint64) {
	c.max, c.ttl, c.now, c.seed = max, ttl, now, seed
	for i := range c.sh {
		c.sh[i].m = make(map[msg.ID]cbEntry)
	}
}

func (c *callbacks) shard(id msg.ID) *cbShard {
	return &c.sh[mix64(uint64(id)^c.seed^0x2545f4914f6cdd1d)%cbShards]
}

// Callbacks implements storage.Store.
func (s *Store) Callbacks() storage.Callbacks { return &s.cbs }

// PutCallback implements storage.Callbacks.
func (c *callbacks) PutCallback(cb *storage.Callback) error {
	if !cb.Valid() {
		return storage.ErrBadCallback
	}
	now := c.now()
	until := max(now, cb.Expires) + c.ttl
	sh := c.shard(cb.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[cb.ID]; !ok {
		if c.count.Load() >= int64(c.max) && sh.sweep(now, len(sh.m), &c.count) == 0 {
			return errCallbacksFull
		}
		c.count.Add(1)
	}
	sh.m[cb.ID] = cbEntry{url: cb.URL, until: until, level: cb.Level, method: cb.Method, done: cb.Done}
	return nil
}

// Callback implements storage.Callbacks.
func (c *callbacks) Callback(id msg.ID, out *storage.Callback) error {
	if c.count.Load() == 0 {
		return storage.ErrNotFound // the usual case, asked for every message: no lock
	}
	now := c.now()
	sh := c.shard(id)
	sh.mu.Lock()
	e, ok := sh.m[id]
	sh.mu.Unlock()
	if !ok || now > e.until {
		return storage.ErrNotFound
	}
	*out = storage.Callback{ID: id, Level: e.level, Method: e.method, Done: e.done, URL: e.url}
	return nil
}

// CallbackCount is how many callbacks are kept: a reader that sees 0 may
// skip its lookups.
func (c *callbacks) CallbackCount() int64 { return c.count.Load() }

// DeleteCallback implements storage.Callbacks.
func (c *callbacks) DeleteCallback(id msg.ID) error {
	sh := c.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[id]; !ok {
		return storage.ErrNotFound
	}
	delete(sh.m, id)
	c.count.Add(-1)
	return nil
}

// sweep drops up to budget entries' worth of expired callbacks from the
// shard (map iteration starts at a random place, so successive calls
// cover the map) and returns how many went. Caller holds mu.
func (sh *cbShard) sweep(now int64, budget int, count *atomic.Int64) int {
	n, seen := 0, 0
	for id, e := range sh.m {
		if seen >= budget {
			break
		}
		seen++
		if now > e.until {
			delete(sh.m, id)
			n++
		}
	}
	count.Add(int64(-n))
	return n
}

// sweepAll runs each shard's sweep over a share of it (Store.Sweep, about
// once a second: the whole table in about a minute).
func (c *callbacks) sweepAll(now int64) int {
	n := 0
	for i := range c.sh {
		sh := &c.sh[i]
		sh.mu.Lock()
		n += sh.sweep(now, len(sh.m)/60+64, &c.count)
		sh.mu.Unlock()
	}
	return n
}
