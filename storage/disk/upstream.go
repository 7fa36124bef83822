package disk

import (
	"hash/maphash"
	"sync"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// upSlot is one upstream id entry, pointer-free: in the forward shards
// (connector, key) -> id, chained by next under the key's hash; in the
// reverse shards id -> key (conn -1).
type upSlot struct {
	hash   uint64
	id     msg.ID
	until  int64   // the end of its lifetime (Unix ns)
	anchor wal.Pos // 0: a free slot
	next   int32   // the next slot of the same hash, -1 at the end
	conn   int32
	klen   uint8
	key    [storage.MaxUpstreamID]byte
}

// upShard is one shard of the forward or the reverse map; all under mu.
type upShard struct {
	mu      sync.Mutex
	fwd     map[uint64]int32 // key hash -> first slot of its chain (forward shards)
	rev     map[msg.ID]int32 // our id -> slot (reverse shards)
	slots   []upSlot
	free    []int32
	buf     []byte
	live    liveSegs
	n       int
	cursor  int
	expired uint64
	_       cachePad
}

func (sh *upShard) init() {
	sh.fwd = make(map[uint64]int32)
	sh.rev = make(map[msg.ID]int32)
	sh.buf = make([]byte, 0, 128)
}

// upHash hashes a forward key: upstream ids are chosen by peers, so the
// hash is keyed.
func (s *Store) upHash(conn int32, key []byte) uint64 {
	return mix64(maphash.Bytes(s.upSeed, key) ^ uint64(uint32(conn))*0x9e3779b97f4a7c15)
}

func (s *Store) upShardOf(h uint64) *upShard { return &s.ups[h>>(64-shardBits)] }

func (s *Store) revShard(id msg.ID) *upShard {
	return &s.revs[mix64(uint64(id)^s.seed^0x5bd1e9955bd1e995)>>(64-shardBits)]
}

// findFwd returns the slot of (conn, key) under hash h, or -1. Caller
// holds mu.
func (sh *upShard) findFwd(h uint64, conn int32, key []byte) int32 {
	i, ok := sh.fwd[h]
	if !ok {
		return -1
	}
	for ; i >= 0; i = sh.slots[i].next {
		if e := &sh.slots[i]; e.conn == conn && string(e.key[:e.klen]) == string(key) {
			return i
		}
	}
	return -1
}

// alloc returns a free slot. Caller holds mu.
func (sh *upShard) alloc() int32 {
	sh.n++
	if n := len(sh.free); n > 0 {
		i := sh.free[n-1]
		sh.free = sh.free[:n-1]
		return i
	}
	sh.slots = append(sh.slots, upSlot{})
	return int32(len(sh.slots) - 1)
}

// setFwd maps (conn, key) to id until until, anchored at pos. Caller
// holds mu.
func (sh *upShard) setFwd(h uint64, conn int32, key []byte, id msg.ID, until int64, pos wal.Pos) {
	i := sh.findFwd(h, conn, key)
	if i < 0 {
		i = sh.alloc()
		e := &sh.slots[i]
		e.hash, e.conn, e.klen = h, conn, uint8(copy(e.key[:], key))
		e.next = -1
		if head, ok := sh.fwd[h]; ok {
			e.next = head
		}
		sh.fwd[h] = i
	}
	e := &sh.slots[i]
	sh.live.move(e.anchor, pos)
	e.id, e.until, e.anchor = id, until, pos
}

// setRev maps id to key until until, anchored at pos. Caller holds mu.
func (sh *upShard) setRev(id msg.ID, key []byte, until int64, pos wal.Pos) {
	i, ok := sh.rev[id]
	if !ok {
		i = sh.alloc()
		sh.rev[id] = i
	}
	e := &sh.slots[i]
	sh.live.move(e.anchor, pos)
	e.id, e.conn, e.until, e.anchor = id, -1, until, pos
	e.klen = uint8(copy(e.key[:], key))
}

// remove frees slot i. Caller holds mu.
func (sh *upShard) remove(i int32) {
	e := &sh.slots[i]
	sh.live.move(e.anchor, 0)
	if e.conn < 0 {
		delete(sh.rev, e.id)
	} else if head := sh.fwd[e.hash]; head == i {
		if e.next < 0 {
			delete(sh.fwd, e.hash)
		} else {
			sh.fwd[e.hash] = e.next
		}
	} else {
		for p := head; p >= 0; p = sh.slots[p].next {
			if sh.slots[p].next == i {
				sh.slots[p].next = e.next
				break
			}
		}
	}
	*e = upSlot{}
	sh.free = append(sh.free, i)
	sh.n--
}

// badUpstreamID reports (and counts) an upstream id the maps do not keep.
func (s *Store) badUpstreamID(key []byte) bool {
	if len(key) == 0 || len(key) > storage.MaxUpstreamID {
		s.upRejected.Add(1)
		return true
	}
	return false
}

// upUntil is the end of the lifetime of an upstream id of our id put now:
// the TTL from now, or as long as the record's validity and the TTL when
// that is longer (a receipt may come until the message expires).
func (s *Store) upUntil(id msg.ID, now int64) int64 {
	until := now + s.ttl
	sh := s.recShard(id)
	sh.mu.Lock()
	if r := sh.find(id, now, s.ttl); r != nil {
		until = max(until, r.expires+s.ttl)
	}
	sh.mu.Unlock()
	return until
}

// PutUpstream implements storage.UpstreamIDs.
func (s *Store) PutUpstream(connector int, upstreamID []byte, id msg.ID) error {
	if s.badUpstreamID(upstreamID) {
		return storage.ErrBadUpstreamID
	}
	until := s.upUntil(id, s.now())
	conn := int32(connector)
	h := s.upHash(conn, upstreamID)
	sh := s.upShardOf(h)
	sh.mu.Lock()
	sh.buf = appendUpstream(sh.buf[:0], id, until, conn, upstreamID)
	pos, err := s.log.Append(kUpstream, sh.buf, true)
	if err == nil {
		sh.setFwd(h, conn, upstreamID, id, until, pos)
	}
	sh.mu.Unlock()
	return err
}

// Upstream implements storage.UpstreamIDs.
func (s *Store) Upstream(connector int, upstreamID []byte) (msg.ID, bool) {
	if len(upstreamID) == 0 || len(upstreamID) > storage.MaxUpstreamID {
		return 0, false
	}
	conn := int32(connector)
	h := s.upHash(conn, upstreamID)
	sh := s.upShardOf(h)
	now := s.now()
	sh.mu.Lock()
	i := sh.findFwd(h, conn, upstreamID)
	if i < 0 || expired(sh.slots[i].until, now) {
		sh.mu.Unlock()
		return 0, false
	}
	id := sh.slots[i].id
	sh.mu.Unlock()
	return id, true
}

// PutUpstreamOf implements storage.UpstreamIDs.
func (s *Store) PutUpstreamOf(id msg.ID, upstreamID []byte) error {
	if s.badUpstreamID(upstreamID) {
		return storage.ErrBadUpstreamID
	}
	until := s.upUntil(id, s.now())
	sh := s.revShard(id)
	sh.mu.Lock()
	sh.buf = appendUpstream(sh.buf[:0], id, until, -1, upstreamID)
	pos, err := s.log.Append(kUpstreamOf, sh.buf, true)
	if err == nil {
		sh.setRev(id, upstreamID, until, pos)
	}
	sh.mu.Unlock()
	return err
}

// UpstreamOf implements storage.UpstreamIDs.
func (s *Store) UpstreamOf(id msg.ID, dst []byte) ([]byte, bool) {
	sh := s.revShard(id)
	now := s.now()
	sh.mu.Lock()
	i, ok := sh.rev[id]
	if !ok || expired(sh.slots[i].until, now) {
		sh.mu.Unlock()
		return dst, false
	}
	e := &sh.slots[i]
	dst = append(dst, e.key[:e.klen]...)
	sh.mu.Unlock()
	return dst, true
}

// sweep drops the entries of sh past their lifetime at now (a share of
// the slab per call, as records) and returns how many.
func (sh *upShard) sweep(now int64) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := len(sh.slots)
	k := 0
	for range min(max(n/sweepShare, sweepMin), n) {
		if sh.cursor >= n {
			sh.cursor = 0
		}
		i := int32(sh.cursor)
		sh.cursor++
		if e := &sh.slots[i]; e.anchor != 0 && expired(e.until, now) {
			sh.remove(i)
			k++
		}
	}
	sh.expired += uint64(k)
	return k
}

// stats adds the shard's expiries to st and returns its entries.
func (sh *upShard) stats(st *storage.Stats) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st.UpstreamExpired += sh.expired
	return sh.n
}
