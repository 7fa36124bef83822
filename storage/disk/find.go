package disk

import "github.com/smppd/smppd/storage"

// findChunk bounds the slots Find reads under one hold of a shard's lock:
// a walk of a large store must not stall the event loops' writes to that
// shard for long (4096 slots: about a quarter of a millisecond). A
// variable so a test can make walks cross many chunks.
var findChunk = 4096

// Find implements storage.Messages: every shard's slab is walked for the
// ids q selects, findChunk slots per hold of its lock, then each of the
// newest len(dst) is read with Get (a record deleted in between is left
// out). Slots never move, so a record that lives through the walk is seen
// once; one added meanwhile may be seen or not. The walk reads the index
// in memory only: no log I/O.
func (s *Store) Find(q *storage.Query, dst []storage.Record) (int, error) {
	if len(dst) == 0 || len(q.Addr) == 0 {
		return 0, nil
	}
	var top storage.Newest
	top.Reset(len(dst))
	now := s.now()
	for i := range s.recs {
		sh := &s.recs[i]
		for from := 0; ; from += findChunk {
			sh.mu.Lock()
			end := min(from+findChunk, sh.slots.len())
			for j := from; j < end; j++ {
				r := sh.slots.at(int32(j))
				if r.anchor == 0 || expired(r.end(s.ttl), now) {
					continue
				}
				u := sh.ups.of(r)
				if q.Matches(r.id, s.users.name(r.user), r.submitted, r.src[:r.srcLen], r.dst[:r.dstLen]) ||
					u != nil && q.Matches(r.id, s.users.name(r.user), r.submitted, u.src[:u.srcLen], u.dst[:u.dstLen]) {
					top.Offer(r.id)
				}
			}
			more := end == from+findChunk
			sh.mu.Unlock()
			if !more {
				break
			}
		}
	}
	n := 0
	for _, id := range top.Sorted() {
		if s.Get(id, &dst[n]) == nil {
			n++
		}
	}
	return n, nil
}
