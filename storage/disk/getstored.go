package disk

import (
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// GetStored copies the record for id into out as stored: Get without its
// view of a state decided at acceptance (State, Err and Done are the
// stored ones), so without that view's clock read. For a reader that
// takes the state from elsewhere: the CDR writer writes the final state
// it was reported. storage.ErrNotFound as Get.
func (s *Store) GetStored(id msg.ID, out *storage.Record) error {
	sh := s.recShard(id)
	sh.mu.Lock()
	r := sh.find(id, s.now(), s.ttl)
	if r == nil {
		sh.mu.Unlock()
		return storage.ErrNotFound
	}
	s.copyOut(sh, r, out)
	sh.mu.Unlock()
	return nil
}
