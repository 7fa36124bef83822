package flow

import "github.com/smppd/smppd/storage"

// Find implements storage.Messages for the unit tests' memStore: a walk
// of its slots, newest first.
func (s *memStore) Find(q *storage.Query, dst []storage.Record) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var top storage.Newest
	top.Reset(len(dst))
	for i := range s.recs {
		r := &s.recs[i]
		if r.ID != 0 && q.Matches(r.ID, r.SystemID, r.Submitted, r.SourceAddr(), r.DestAddr()) {
			top.Offer(r.ID)
		}
	}
	n := 0
	for _, id := range top.Sorted() {
		dst[n] = *s.slot(id)
		n++
	}
	return n, nil
}
