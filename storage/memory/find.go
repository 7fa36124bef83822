package memory

import "github.com/smppd/smppd/storage"

// Find implements storage.Messages: every shard is walked under its lock
// for the ids q selects, then each of the newest len(dst) is read with Get
// (a record deleted in between is left out).
func (s *Store) Find(q *storage.Query, dst []storage.Record) (int, error) {
	if len(dst) == 0 || len(q.Addr) == 0 {
		return 0, nil
	}
	var top storage.Newest
	top.Reset(len(dst))
	now := s.now()
	for i := range s.recs {
		t := &s.recs[i]
		t.mu.Lock()
		for k := range t.n {
			sl := t.pos(k)
			en := &t.ents[sl]
			if en.at == 0 || s.expired(en.at, now) {
				continue
			}
			e := &en.v
			u := s.rewrites[i].of(e.up)
			user := s.names.name(e.user)
			if q.Matches(e.id, user, en.at, e.src[:e.srcLen], e.dst[:e.dstLen]) ||
				u != nil && q.Matches(e.id, user, en.at, u.src[:u.srcLen], u.dst[:u.dstLen]) {
				top.Offer(e.id)
			}
		}
		t.mu.Unlock()
	}
	n := 0
	for _, id := range top.Sorted() {
		if s.Get(id, &dst[n]) == nil {
			n++
		}
	}
	return n, nil
}
