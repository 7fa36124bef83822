package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
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

// diskConfig is a validated config on the disk store in a fresh directory.
func diskConfig(t *testing.T) *config.Config {
	t.Helper()
	cfgPath, _, _, _ := demoDir(t)
	cfg, err := config.Load(cfgPath)
	must(t, err)
	if !cfg.Storage.Disk() {
		t.Fatal("the demo config is not on the disk store")
	}
	return cfg
}

// TestStoreRefusals: a second process on the same directory, a directory
// smppd cannot create, and a log written by a newer release are each
// refused at start with what to do about it.
func TestStoreRefusals(t *testing.T) {
	cfg := diskConfig(t)
	st, err := openStore(cfg, nil, 0, zerolog.Nop())
	must(t, err)
	_, err = openStore(cfg, nil, 0, zerolog.Nop())
	if err == nil || !errors.Is(err, wal.ErrLocked) || !strings.Contains(err.Error(), "in use by another smppd") ||
		!strings.Contains(err.Error(), cfg.Storage.Dir) {
		t.Fatalf("second open of a locked dir: %v", err)
	}
	// Put something in the log, then have a "newer release" write its
	// segment header.
	must(t, st.SetIDFloor(42))
	must(t, st.Close())
	segs, err := filepath.Glob(filepath.Join(cfg.Storage.Dir, "*.wal"))
	must(t, err)
	if len(segs) == 0 {
		t.Fatal("no segment written")
	}
	f, err := os.OpenFile(segs[0], os.O_RDWR, 0)
	must(t, err)
	_, err = f.WriteAt([]byte{99}, 8) // the format version
	must(t, err)
	must(t, f.Close())
	_, err = openStore(cfg, nil, 0, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "newer smppd release") || !strings.Contains(err.Error(), "rollback") {
		t.Fatalf("newer format: %v", err)
	}

	// A dir under a regular file cannot be created: refused naming the key.
	blocker := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(blocker, []byte("x"), 0o600))
	cfg.Storage.Dir = filepath.Join(blocker, "store")
	_, err = openStore(cfg, nil, 0, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "storage.dir") {
		t.Fatalf("uncreatable dir: %v", err)
	}
}

// TestDaemonRefusesLockedStore: a second smppd on the same config fails at
// start (its listeners never open) and leaves the first one's lock alone.
func TestDaemonRefusesLockedStore(t *testing.T) {
	d, cfgPath, _, _ := startDemo(t)
	cfg, err := config.Load(cfgPath)
	must(t, err)
	if _, err := newDaemon(cfg, zerolog.Nop(), nil); err == nil || !strings.Contains(err.Error(), "in use by another smppd") {
		t.Fatalf("second daemon on the same store: %v", err)
	}
	if err := d.ready(); err != nil && !strings.Contains(err.Error(), "connector") {
		t.Fatalf("first daemon hurt by the refused second: %v", err)
	}
}
