package memory

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
	t, sl := s.lockFound(id)
	if sl < 0 {
		t.mu.Unlock()
		return storage.ErrNotFound
	}
	copyOut(t, s.rewritesOf(id), sl, out)
	t.mu.Unlock()
	return nil
}
