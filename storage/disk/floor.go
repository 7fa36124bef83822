package disk

import (
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/storage/disk/wal"
)

// idFloor is the message-id generator's persisted high-water mark: one
// object, anchored at its latest kIDFloor entry.
type idFloor struct {
	s      *Store
	mu     sync.Mutex // over the writes, so the log has them in order
	v      atomic.Uint64
	anchor wal.Pos
	buf    [8]byte
}

// IDFloor implements storage.Store.
func (s *Store) IDFloor() uint64 { return s.floor.v.Load() }

// SetIDFloor implements storage.Store: a v at or below the floor writes
// nothing.
func (s *Store) SetIDFloor(v uint64) error {
	f := &s.floor
	f.mu.Lock()
	defer f.mu.Unlock()
	if v <= f.v.Load() {
		return nil
	}
	pos, err := s.log.Append(kIDFloor, appendID(f.buf[:0], v), true)
	if err != nil {
		return err
	}
	f.v.Store(v)
	f.anchor = pos
	return nil
}

// restore applies a kIDFloor entry at replay.
func (f *idFloor) restore(v uint64, pos wal.Pos) {
	f.v.Store(max(f.v.Load(), v))
	f.anchor = pos
}

// anchoredUpTo reports whether the floor's latest entry is in a segment up
// to seg.
func (f *idFloor) anchoredUpTo(seg uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.anchor != 0 && f.anchor.Segment() <= seg
}
