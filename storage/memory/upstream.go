package memory

import (
	"hash/maphash"
	"sync"

	"github.com/smppd/smppd/msg"
)

// MaxUpstreamID is the longest upstream message id kept: SMPP 3.4 message_id
// is a C-octet string of at most 65 octets with its NUL (§5.2.23).
// PutUpstream ignores longer (and empty) ids, and Upstream never finds them.
const MaxUpstreamID = 64

// upEntry is one (connector, upstream id) -> our id mapping; pointer-free.
type upEntry struct {
	key  [MaxUpstreamID]byte
	id   msg.ID
	at   int64 // Unix ns of the PutUpstream, for the TTL
	conn int64
	tag  uint32 // hash tag, kept so removal need not rehash the key
	klen uint8
}

// upShard is one shard of upstream ids, laid out like recShard.
type upShard struct {
	mu       sync.Mutex
	ents     []upEntry
	head     int
	n        int
	max      int
	ix       index
	evicted  uint64
	expired  uint64
	rejected uint64
	_        cachePad
}

func (s *Store) upHash(connector int, key []byte) (*upShard, uint32) {
	h := mix64(maphash.Bytes(s.upSeed, key) ^ uint64(connector)*0x9e3779b97f4a7c15)
	return &s.ups[h>>(64-s.upBits)], uint32(h)
}

func (sh *upShard) find(connector int, key []byte, tag uint32) int {
	if sh.n == 0 {
		return -1
	}
	for p := tag & sh.ix.mask; ; p = (p + 1) & sh.ix.mask {
		v := sh.ix.w[p]
		if v == 0 {
			return -1
		}
		if tagOf(v) == tag {
			e := &sh.ents[slotOf(v)]
			if e.conn == int64(connector) && string(e.key[:e.klen]) == string(key) {
				return int(slotOf(v))
			}
		}
	}
}

// PutUpstream records that connector's upstreamID is our id, replacing an
// earlier mapping of the same pair. upstreamID is copied (it may be a view
// valid only during the call). An empty id or one over MaxUpstreamID octets
// is ignored and counted in Stats.UpstreamRejected. A full shard evicts its
// oldest mapping.
func (s *Store) PutUpstream(connector int, upstreamID []byte, id msg.ID) {
	if len(upstreamID) == 0 || len(upstreamID) > MaxUpstreamID {
		sh := &s.ups[0] // any shard's counter will do; Stats sums them
		sh.mu.Lock()
		sh.rejected++
		sh.mu.Unlock()
		return
	}
	now := s.now()
	sh, tag := s.upHash(connector, upstreamID)
	sh.mu.Lock()
	slot := sh.find(connector, upstreamID, tag)
	if slot < 0 {
		slot = sh.add(tag)
		e := &sh.ents[slot]
		e.klen = uint8(copy(e.key[:], upstreamID))
		e.conn = int64(connector)
		e.tag = tag
	}
	e := &sh.ents[slot]
	e.id, e.at = id, now
	sh.mu.Unlock()
}

// Upstream finds our id for connector's upstreamID; false if unknown,
// evicted or older than the TTL.
func (s *Store) Upstream(connector int, upstreamID []byte) (msg.ID, bool) {
	if len(upstreamID) == 0 || len(upstreamID) > MaxUpstreamID {
		return 0, false
	}
	now := s.now()
	sh, tag := s.upHash(connector, upstreamID)
	sh.mu.Lock()
	slot := sh.find(connector, upstreamID, tag)
	if slot < 0 || s.expired(sh.ents[slot].at, now) {
		sh.mu.Unlock()
		return 0, false
	}
	id := sh.ents[slot].id
	sh.mu.Unlock()
	return id, true
}

// UpstreamLen is the number of upstream id mappings held, counting expired
// ones that Sweep has not reclaimed yet.
func (s *Store) UpstreamLen() int {
	n := 0
	for i := range s.ups {
		sh := &s.ups[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}

// add takes the tail slot for a new key, growing or evicting first; the
// caller fills it. Caller holds mu.
func (sh *upShard) add(tag uint32) int {
	if sh.n == len(sh.ents) {
		if len(sh.ents) < sh.max {
			sh.grow()
		} else {
			sh.dropHead()
			sh.evicted++
		}
	}
	slot := sh.head + sh.n
	if slot >= len(sh.ents) {
		slot -= len(sh.ents)
	}
	sh.n++
	sh.ix.insert(tag, uint32(slot))
	return slot
}

func (sh *upShard) grow() {
	ents := make([]upEntry, ringNext(len(sh.ents), sh.max))
	k := copy(ents, sh.ents[sh.head:sh.head+min(sh.n, len(sh.ents)-sh.head)])
	copy(ents[k:], sh.ents[:sh.n-k])
	sh.ents, sh.head = ents, 0
	sh.ix.reset(len(ents))
	for i := 0; i < sh.n; i++ {
		sh.ix.insert(ents[i].tag, uint32(i))
	}
}

func (sh *upShard) dropHead() {
	sh.ix.remove(sh.ents[sh.head].tag, uint32(sh.head))
	sh.head++
	if sh.head == len(sh.ents) {
		sh.head = 0
	}
	sh.n--
}

func (sh *upShard) sweep(s *Store, now int64) int {
	sh.mu.Lock()
	k := 0
	for sh.n > 0 && s.expired(sh.ents[sh.head].at, now) {
		sh.dropHead()
		k++
	}
	sh.expired += uint64(k)
	if sh.n == 0 && sh.ents != nil {
		sh.ents, sh.ix, sh.head = nil, index{}, 0
	}
	sh.mu.Unlock()
	return k
}
