package disk

import (
	"testing"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
	"github.com/smppd/smppd/storage/storagetest"
)

// TestConformance runs the storage seam's suite, the durable cases
// included, against the disk store. Segments are larger than the log's
// buffer, as in use: with smaller ones a group can hold more segment
// changes than the log takes (maxCuts), and a slow fsync made the
// concurrent case's appends fail with ErrBufferFull (rotation is the wal
// package's tests' business).
func TestConformance(t *testing.T) {
	storagetest.RunDurable(t, func(t *testing.T, c storagetest.Config) storage.Store {
		s, err := Open(Options{Dir: c.Dir, Sync: wal.SyncAlways, TTL: c.TTL, MaxHeld: c.MaxHeld, HeldShare: c.HeldShare,
			MaxDeadLetters: c.MaxDeadLetters, Now: c.Now, SegmentSize: 8 << 20, CompactEvery: -1})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}
