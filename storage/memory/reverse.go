package memory

import (
	"github.com/smppd/smppd/msg"
)

// The reverse map (our id -> the upstream's id as it wrote it) reuses the
// upstream shard layout: the same pointer-free entries, ring, index, TTL
// and eviction, keyed by our id instead of the upstream key. Only messages
// accepted by connectors that forward cancel_sm or replace_sm are put, so
// it costs nothing for the simulator.

func (s *Store) revHash(id msg.ID) (*upShard, uint32) {
	h := mix64(uint64(id) ^ s.seed ^ 0x5bd1e9955bd1e995)
	return &s.revs[h>>(64-s.revBits)], uint32(h)
}

// findOurs returns the slot holding our id, or -1. Caller holds mu.
func (sh *upShard) findOurs(id msg.ID, tag uint32) int {
	if sh.n == 0 {
		return -1
	}
	for p := tag & sh.ix.mask; ; p = (p + 1) & sh.ix.mask {
		v := sh.ix.w[p]
		if v == 0 {
			return -1
		}
		if tagOf(v) == tag && sh.ents[slotOf(v)].id == id {
			return int(slotOf(v))
		}
	}
}

// PutUpstreamOf records that our id is upstreamID at the upstream
// (copied), replacing an earlier one. An empty id or one over
// MaxUpstreamID octets is ignored and counted in Stats.UpstreamRejected.
// A full shard evicts its oldest entry.
func (s *Store) PutUpstreamOf(id msg.ID, upstreamID []byte) {
	if len(upstreamID) == 0 || len(upstreamID) > MaxUpstreamID {
		sh := &s.revs[0]
		sh.mu.Lock()
		sh.rejected++
		sh.mu.Unlock()
		return
	}
	now := s.now()
	sh, tag := s.revHash(id)
	sh.mu.Lock()
	slot := sh.findOurs(id, tag)
	if slot < 0 {
		slot = sh.add(tag)
	}
	e := &sh.ents[slot]
	e.klen = uint8(copy(e.key[:], upstreamID))
	e.id, e.at, e.tag = id, now, tag
	sh.mu.Unlock()
}

// UpstreamOf appends our id's upstream id to dst; false if unknown,
// evicted or older than the TTL.
func (s *Store) UpstreamOf(id msg.ID, dst []byte) ([]byte, bool) {
	now := s.now()
	sh, tag := s.revHash(id)
	sh.mu.Lock()
	slot := sh.findOurs(id, tag)
	if slot < 0 || s.expired(sh.ents[slot].at, now) {
		sh.mu.Unlock()
		return dst, false
	}
	e := &sh.ents[slot]
	dst = append(dst, e.key[:e.klen]...)
	sh.mu.Unlock()
	return dst, true
}
