package main

import (
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// TestIDsKeepTheirFloor: the generator persists a floor before its first id
// and a generator started on the same store issues only ids above it.
func TestIDsKeepTheirFloor(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	ids, err := newIDs(7, st, zerolog.Nop())
	must(t, err)
	floor := st.IDFloor()
	if floor == 0 {
		t.Fatal("no floor persisted before the first id")
	}
	last := ids.Next()
	if uint64(last) >= floor {
		t.Fatalf("id %v at or above the persisted floor %x", last, floor)
	}
	again, err := newIDs(7, st, zerolog.Nop())
	must(t, err)
	if first := again.Next(); uint64(first) < floor {
		t.Fatalf("restarted generator issued %v below the floor %x", first, floor)
	}
	if st.IDFloor() <= floor {
		t.Fatal("the restarted generator kept no higher floor")
	}
}

func TestStoreReady(t *testing.T) {
	if err := storeReady(storage.Stats{}); err != nil {
		t.Fatalf("idle store not ready: %v", err)
	}
	err := storeReady(storage.Stats{DiskFull: true, BytesUsed: 950, MaxDisk: 1000})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("full disk: %v", err)
	}
	if err := storeReady(storage.Stats{DeviceFailed: true}); err == nil || !strings.Contains(err.Error(), "device failed") {
		t.Fatalf("failed device: %v", err)
	}
}
