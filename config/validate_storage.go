package config

import (
	"path/filepath"
	"strings"
	"time"
)

// Bounds of [storage]; see docs/CONFIG.md.
const (
	// Below 1 ms the timer would fire faster than a typical fsync returns
	// (sync = "always" then costs no more); above 1 s a host crash could
	// lose seconds of acknowledged traffic, which is what "never" is for.
	minSyncInterval = time.Millisecond
	maxSyncInterval = time.Second
	// The smallest budget still holds several segments of a small log (a
	// full-disk test can reach it in seconds); the largest catches a
	// mistyped unit.
	minMaxDisk = Size(16 << 20)
	maxMaxDisk = Size(1 << 50)
)

func (v *validator) storage() {
	s := &v.c.Storage
	const p = "storage."
	switch s.Kind {
	case StorageDisk:
		v.diskStorage(s)
	case StorageMemory:
		v.memoryStorage(s)
	default:
		v.fail(p+"kind", "must be %q or %q, got %q", StorageDisk, StorageMemory, s.Kind)
	}
	switch s.Sync {
	case SyncAlways, SyncInterval, SyncNever:
	default:
		v.fail(p+"sync", "must be %q, %q or %q, got %q", SyncAlways, SyncInterval, SyncNever, s.Sync)
	}
	if d := s.SyncInterval.D(); d < minSyncInterval || d > maxSyncInterval {
		v.fail(p+"sync_interval", "%v is out of range %v..%v", s.SyncInterval, minSyncInterval, maxSyncInterval)
	}
	if s.MaxDisk < minMaxDisk || s.MaxDisk > maxMaxDisk {
		v.fail(p+"max_disk", "%v is out of range %v..%v", s.MaxDisk, minMaxDisk, maxMaxDisk)
	}
	if s.MessageTTL <= 0 {
		v.fail(p+"message_ttl", "must be > 0")
	}
	if dv := v.c.Delivery.DefaultValidity; s.MessageTTL > 0 && s.MessageTTL < dv {
		v.warn("storage: message_ttl %v < delivery.default_validity %v: a late receipt or query_sm finds no record", s.MessageTTL, dv)
	}
}

// diskStorage checks the keys of kind = "disk" and makes Dir absolute.
func (v *validator) diskStorage(s *Storage) {
	const p = "storage."
	// The disk store keeps every record for its whole life: a count limit
	// would silently lose receipts, so it is an error, not a warning.
	for _, key := range []string{"max_records", "max_upstream_ids"} {
		if v.c.written(p + key) {
			v.fail(p+key, "applies to kind = %q only: the disk store keeps each record until it is final or expired, plus message_ttl, never evicting by count (remove it, or set kind = %q)",
				StorageMemory, StorageMemory)
		}
	}
	switch {
	case s.Dir == "":
		v.fail(p+"dir", "must not be empty with kind = %q", StorageDisk)
	case strings.ContainsRune(s.Dir, 0):
		v.fail(p+"dir", "must not contain a NUL character")
	default:
		dir, err := filepath.Abs(v.resolve(s.Dir))
		if err != nil {
			v.fail(p+"dir", "%v", err)
			return
		}
		s.Dir = dir
	}
}

// memoryStorage checks the keys of kind = "memory". The disk keys are
// still range-checked but otherwise ignored, so a config can switch kind
// without deleting them.
func (v *validator) memoryStorage(s *Storage) {
	const p = "storage."
	v.intRange(p+"max_records", s.MaxRecords, 1, 1<<28)
	v.intRange(p+"max_upstream_ids", s.MaxUpstreamIDs, 1, 1<<28)
	queued := 0
	for _, c := range v.c.Connectors {
		queued += c.Queue
	}
	// Records are evicted oldest first: every message still queued must
	// keep its record, or its receipt finds none and is dropped.
	if s.MaxRecords > 0 && s.MaxRecords < 2*queued {
		v.warn("storage: max_records %d < twice the connector queues (%d): under load a record can be evicted before its receipt arrives (the receipt is then dropped, counted as unknown)", s.MaxRecords, queued)
	}
}

// written reports whether the file set key (a dotted path), rather than
// leaving it to its default.
func (c *Config) written(key string) bool {
	_, ok := c.pos[key]
	return ok
}
