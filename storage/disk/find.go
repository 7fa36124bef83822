package disk

import "github.com/smppd/smppd/storage"

// Find implements storage.Messages: every shard's slab is walked under its
// lock for the ids q selects, then each of the newest len(dst) is read
// with Get (a record deleted in between is left out). The walk reads the
// index in memory only: no log I/O.
func (s *Store) Find(q *storage.Query, dst []storage.Record) (int, error) {
	if len(dst) == 0 || len(q.Addr) == 0 {
		return 0, nil
	}
	var top storage.Newest
	top.Reset(len(dst))
	now := s.now()
	for i := range s.recs {
		sh := &s.recs[i]
		sh.mu.Lock()
		for j := range sh.slots {
			r := &sh.slots[j]
			if r.anchor == 0 || expired(r.end(s.ttl), now) {
				continue
			}
			if q.Matches(r.id, s.users.name(r.user), r.submitted, r.src[:r.srcLen], r.dst[:r.dstLen]) {
				top.Offer(r.id)
			}
		}
		sh.mu.Unlock()
	}
	n := 0
	for _, id := range top.Sorted() {
		if s.Get(id, &dst[n]) == nil {
			n++
		}
	}
	return n, nil
}
