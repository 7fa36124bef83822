package memory

import (
	"hash/maphash"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// MaxUpstreamID is storage.MaxUpstreamID: PutUpstream refuses longer (and
// empty) ids, and Upstream never finds them.
const MaxUpstreamID = storage.MaxUpstreamID

// upEntry is one (connector, upstream id) -> our id mapping, or in the
// reverse map one our id -> upstream id; pointer-free.
type upEntry struct {
	key  [MaxUpstreamID]byte
	id   msg.ID
	conn int32  // the connector (forward map only)
	tag  uint32 // hash tag (table.tagOf): the key is long to rehash
	klen uint8
}

// upTag is the upstream tables' tagOf.
func upTag(_ uint64, e *upEntry) uint32 { return e.tag }

// upTable is one shard of upstream ids (or of the reverse map).
type upTable = table[upEntry, struct{}]

func (s *Store) upHash(connector int, key []byte) (*upTable, uint32) {
	h := mix64(maphash.Bytes(s.upSeed, key) ^ uint64(connector)*0x9e3779b97f4a7c15)
	return &s.ups[h>>(64-s.upBits)], uint32(h)
}

// findUp returns the slot mapping connector's key, or -1. Caller holds mu.
func findUp(t *upTable, connector int, key []byte, tag uint32) int {
	for p := tag; ; {
		sl := t.ix.next(tag, &p)
		if sl < 0 {
			return -1
		}
		if e := &t.ents[sl].v; e.conn == int32(connector) && string(e.key[:e.klen]) == string(key) {
			return sl
		}
	}
}

// badUpstreamID reports (and counts) an upstream id the maps do not keep.
func (s *Store) badUpstreamID(upstreamID []byte) bool {
	if len(upstreamID) == 0 || len(upstreamID) > MaxUpstreamID {
		s.upRejected.Add(1)
		return true
	}
	return false
}

// PutUpstream records that connector's upstreamID is our id, replacing an
// earlier mapping of the same pair. upstreamID is copied (it may be a view
// valid only during the call). An empty id or one over MaxUpstreamID octets
// is refused (storage.ErrBadUpstreamID) and counted in
// Stats.UpstreamRejected. A full shard evicts its oldest mapping.
func (s *Store) PutUpstream(connector int, upstreamID []byte, id msg.ID) error {
	if s.badUpstreamID(upstreamID) {
		return storage.ErrBadUpstreamID
	}
	now := s.now()
	t, tag := s.upHash(connector, upstreamID)
	t.mu.Lock()
	sl := findUp(t, connector, upstreamID, tag)
	if sl < 0 {
		sl = t.add(tag, now)
		e := &t.ents[sl].v
		e.klen = uint8(copy(e.key[:], upstreamID))
		e.conn, e.tag = int32(connector), tag
	}
	t.ents[sl].at = now
	t.ents[sl].v.id = id
	t.mu.Unlock()
	return nil
}

// Upstream finds our id for connector's upstreamID; false if unknown,
// evicted or older than the TTL.
func (s *Store) Upstream(connector int, upstreamID []byte) (msg.ID, bool) {
	if len(upstreamID) == 0 || len(upstreamID) > MaxUpstreamID {
		return 0, false
	}
	now := s.now()
	t, tag := s.upHash(connector, upstreamID)
	t.mu.Lock()
	sl := findUp(t, connector, upstreamID, tag)
	if sl < 0 || s.expired(t.ents[sl].at, now) {
		t.mu.Unlock()
		return 0, false
	}
	id := t.ents[sl].v.id
	t.mu.Unlock()
	return id, true
}

// UpstreamLen is the number of upstream id mappings held, counting expired
// ones that Sweep has not reclaimed yet.
func (s *Store) UpstreamLen() int {
	n, _, _ := tableStats(s.ups)
	return n
}
