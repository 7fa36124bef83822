package memory

import (
	"testing"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/storagetest"
)

// TestConformance runs the storage seam's suite against the memory store.
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(_ *testing.T, c storagetest.Config) storage.Store {
		return New(Options{MaxHeld: c.MaxHeld, HeldShare: c.HeldShare, MaxDeadLetters: c.MaxDeadLetters, TTL: c.TTL, Now: c.Now})
	})
}
