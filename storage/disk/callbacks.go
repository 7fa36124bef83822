package disk

import (
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// Entry kinds of the callbacks (numbers continue format.go's list).
const (
	kCallback    byte = 16 // a message's callback, full state
	kCallbackDel byte = 17 // a message's callback gone
)

// cbShards spread the callbacks' locks; callbacks come only with HTTP
// submits, far fewer than records.
const cbShards = 16

// cbShard is one shard of the durable storage.Callbacks: id -> callback,
// each anchored at its kCallback entry. All under mu.
type cbShard struct {
	mu      sync.Mutex
	m       map[msg.ID]cbSlot
	held    *atomic.Int64 // the store's count of callbacks in every shard (cbHeld)
	buf     []byte
	live    liveSegs
	expired uint64
	_       cachePad
}

type cbSlot struct {
	url                 string
	until               int64
	anchor              wal.Pos
	level, method, done uint8
}

func (sh *cbShard) init(held *atomic.Int64) { sh.m, sh.held = make(map[msg.ID]cbSlot), held }

func (s *Store) cbShard(id msg.ID) *cbShard {
	return &s.cbs[mix64(uint64(id)^s.seed^0x2545f4914f6cdd1d)%cbShards]
}

// Callbacks implements storage.Store.
func (s *Store) Callbacks() storage.Callbacks { return cbView{s} }

// cbView is the Store seen as storage.Callbacks.
type cbView struct{ s *Store }

// Callback entry layout (kCallback), little endian: id u64, until i64,
// level, method, done, then the URL (the rest). kCallbackDel: the id.
const cbFixed = 19

func appendCallback(dst []byte, id msg.ID, e *cbSlot) []byte {
	dst = le.AppendUint64(dst, uint64(id))
	dst = le.AppendUint64(dst, uint64(e.until))
	dst = append(dst, e.level, e.method, e.done)
	return append(dst, e.url...)
}

// decodeCallback returns the id and the slot (its URL a view into p).
func decodeCallback(p []byte) (msg.ID, cbSlot, []byte, error) {
	if len(p) < cbFixed+1 || len(p) > cbFixed+storage.MaxCallbackURL {
		return 0, cbSlot{}, nil, errBadEntry
	}
	e := cbSlot{until: int64(le.Uint64(p[8:])), level: p[16], method: p[17], done: p[18]}
	return msg.ID(le.Uint64(p)), e, p[cbFixed:], nil
}

// PutCallback implements storage.Callbacks. Not urgent: a callback comes
// with a new message, refused past the disk's high-water mark like it.
func (v cbView) PutCallback(c *storage.Callback) error {
	if !c.Valid() {
		return storage.ErrBadCallback
	}
	s := v.s
	e := cbSlot{url: c.URL, until: max(s.now(), c.Expires) + s.ttl, level: c.Level, method: c.Method, done: c.Done}
	sh := s.cbShard(c.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.buf = appendCallback(sh.buf[:0], c.ID, &e)
	pos, err := s.log.Append(kCallback, sh.buf, false)
	if err != nil {
		return err
	}
	sh.set(c.ID, e, pos)
	return nil
}

// set keeps e for id anchored at pos. Caller holds mu.
func (sh *cbShard) set(id msg.ID, e cbSlot, pos wal.Pos) {
	old, ok := sh.m[id]
	if !ok {
		sh.held.Add(1)
	}
	sh.live.move(old.anchor, pos)
	e.anchor = pos
	sh.m[id] = e
}

// remove drops id's callback. Caller holds mu.
func (sh *cbShard) remove(id msg.ID) {
	if e, ok := sh.m[id]; ok {
		sh.live.move(e.anchor, 0)
		delete(sh.m, id)
		sh.held.Add(-1)
	}
}

// Callback implements storage.Callbacks. It is asked for every accepted
// message (delivery/webhook); while no callback is kept, which is every
// message of a server without HTTP submits, it answers without a lock.
func (v cbView) Callback(id msg.ID, out *storage.Callback) error {
	s := v.s
	if s.cbHeld.Load() == 0 {
		return storage.ErrNotFound
	}
	now := s.now()
	sh := s.cbShard(id)
	sh.mu.Lock()
	e, ok := sh.m[id]
	sh.mu.Unlock()
	if !ok || expired(e.until, now) {
		return storage.ErrNotFound
	}
	*out = storage.Callback{ID: id, Level: e.level, Method: e.method, Done: e.done, URL: e.url}
	return nil
}

// CallbackCount is how many callbacks are kept: delivery/webhook skips its
// lookup for every answered MT while it is 0.
func (v cbView) CallbackCount() int64 { return v.s.cbHeld.Load() }

// DeleteCallback implements storage.Callbacks (urgent: it changes the
// state of an accepted message).
func (v cbView) DeleteCallback(id msg.ID) error {
	s := v.s
	sh := s.cbShard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[id]; !ok {
		return storage.ErrNotFound
	}
	sh.buf = appendID(sh.buf[:0], uint64(id))
	if _, err := s.log.Append(kCallbackDel, sh.buf, true); err != nil {
		return err
	}
	sh.remove(id)
	return nil
}

// replayCallback applies kCallback and kCallbackDel at pos (replay only).
func (s *Store) replayCallback(pos wal.Pos, kind byte, p []byte) error {
	if kind == kCallbackDel {
		v, err := decodeID(p)
		if err != nil {
			return err
		}
		sh := s.cbShard(msg.ID(v))
		sh.mu.Lock()
		sh.remove(msg.ID(v))
		sh.mu.Unlock()
		return nil
	}
	id, e, url, err := decodeCallback(p)
	if err != nil {
		return err
	}
	e.url = string(url)
	sh := s.cbShard(id)
	sh.mu.Lock()
	sh.set(id, e, pos)
	sh.mu.Unlock()
	return nil
}

// callback copies a callback anchored at pos (compaction); one past its
// lifetime goes instead.
func (c *copier) callback(pos wal.Pos, p []byte) (wal.Pos, error) {
	id, _, _, err := decodeCallback(p)
	if err != nil {
		return 0, nil
	}
	s := c.s
	sh := s.cbShard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[id]
	if !ok || e.anchor != pos {
		return 0, nil
	}
	if expired(e.until, s.now()) {
		sh.remove(id)
		sh.expired++
		return 0, nil
	}
	c.buf = appendCallback(c.buf[:0], id, &e)
	np, err := c.append(kCallback, c.buf)
	if err != nil {
		return 0, err
	}
	sh.set(id, e, np)
	return np, nil
}

// sweep drops a share of the shard's callbacks past their lifetime (map
// iteration starts at a random place, so successive calls cover it; no
// entry is written: a replay drops them by the same rule) and returns how
// many went.
func (sh *cbShard) sweep(now int64) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	budget := max(len(sh.m)/sweepShare, sweepMin)
	n, seen := 0, 0
	for id, e := range sh.m {
		if seen >= budget {
			break
		}
		seen++
		if expired(e.until, now) {
			sh.live.move(e.anchor, 0)
			delete(sh.m, id)
			sh.held.Add(-1)
			n++
		}
	}
	sh.expired += uint64(n)
	return n
}

// cbStats returns how many callbacks are kept.
func (s *Store) cbStats() int {
	n := 0
	for i := range s.cbs {
		sh := &s.cbs[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// cbLiveUpTo is how many callbacks are anchored in segments up to seg.
func (s *Store) cbLiveUpTo(seg uint64) int {
	n := 0
	for i := range s.cbs {
		sh := &s.cbs[i]
		sh.mu.Lock()
		n += sh.live.upTo(seg)
		sh.mu.Unlock()
	}
	return n
}
