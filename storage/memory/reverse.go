package memory

import (
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// The reverse map (our id -> the upstream's id as it wrote it) has the
// upstream map's layout: the same pointer-free entries, ring, index, TTL
// and eviction, keyed by our id instead of the upstream key. Only messages
// accepted by connectors that forward cancel_sm or replace_sm are put, so
// it costs nothing for the simulator.

func (s *Store) revHash(id msg.ID) (*upTable, uint32) {
	h := mix64(uint64(id) ^ s.seed ^ 0x5bd1e9955bd1e995)
	return &s.revs[h>>(64-s.upBits)], uint32(h)
}

// findRev returns the slot holding our id, or -1. Caller holds mu.
func findRev(t *upTable, id msg.ID, tag uint32) int {
	for p := tag; ; {
		sl := t.ix.next(tag, &p)
		if sl < 0 || t.ents[sl].v.id == id {
			return sl
		}
	}
}

// PutUpstreamOf records that our id is upstreamID at the upstream
// (copied), replacing an earlier one. An empty id or one over
// MaxUpstreamID octets is refused as by PutUpstream. A full shard evicts
// its oldest entry.
func (s *Store) PutUpstreamOf(id msg.ID, upstreamID []byte) error {
	if s.badUpstreamID(upstreamID) {
		return storage.ErrBadUpstreamID
	}
	now := s.now()
	t, tag := s.revHash(id)
	t.mu.Lock()
	sl := findRev(t, id, tag)
	if sl < 0 {
		sl = t.add(tag, now)
	}
	t.ents[sl].at = now
	e := &t.ents[sl].v
	e.klen = uint8(copy(e.key[:], upstreamID))
	e.id, e.tag = id, tag
	t.mu.Unlock()
	return nil
}

// UpstreamOf appends our id's upstream id to dst; false if unknown,
// evicted or older than the TTL.
func (s *Store) UpstreamOf(id msg.ID, dst []byte) ([]byte, bool) {
	now := s.now()
	t, tag := s.revHash(id)
	t.mu.Lock()
	sl := findRev(t, id, tag)
	if sl < 0 || s.expired(t.ents[sl].at, now) {
		t.mu.Unlock()
		return dst, false
	}
	e := &t.ents[sl].v
	dst = append(dst, e.key[:e.klen]...)
	t.mu.Unlock()
	return dst, true
}
