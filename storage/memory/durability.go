package memory

import "github.com/smppd/smppd/storage"

// The memory store is not durable: these are the storage.Store methods a
// durable store gives meaning to, answered so the caller's code is the
// same for both (nothing to recover, nothing to wait for).

// noCommit is the Committer of a store with nothing to commit: both
// positions stay 0, so no answer is ever deferred.
type noCommit struct{}

func (noCommit) Written() uint64            { return 0 }
func (noCommit) Committed() uint64          { return 0 }
func (noCommit) OnCommit(func(uint64))      {}
func (noCommit) WaitCommitted(uint64) error { return nil }

// Committer implements storage.Store: Written and Committed are always 0.
func (s *Store) Committer() storage.Committer { return noCommit{} }

// Recover implements storage.Store: a new memory store has nothing to
// recover, so fn is never called.
func (s *Store) Recover(func(r *storage.Record, m []byte) error) error { return nil }

// IDFloor implements storage.Store: the highest SetIDFloor of this process.
func (s *Store) IDFloor() uint64 { return s.idFloor.Load() }

// SetIDFloor implements storage.Store: it raises the floor to v.
func (s *Store) SetIDFloor(v uint64) error {
	for {
		cur := s.idFloor.Load()
		if v <= cur || s.idFloor.CompareAndSwap(cur, v) {
			return nil
		}
	}
}
