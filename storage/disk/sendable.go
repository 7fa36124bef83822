package disk

import "github.com/smppd/smppd/msg"

// Sendable reports whether id's record is here (found) and still to be
// sent upstream (sendable): not final, not accepted by a connector, and
// no outcome decided at acceptance. A cluster node that takes a message
// from a shared connector queue sends it only then (storage/jetstream).
func (s *Store) Sendable(id msg.ID) (found, sendable bool) {
	sh := s.recShard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.find(id, s.now(), s.ttl)
	if r == nil {
		return false, false
	}
	return true, !r.state.Final() && r.flags&fAccepted == 0 && r.later == 0
}
