package config

// Storage is [storage]: where accepted messages, their records, the upstream
// id maps, held MO and receipts and the balance ledger live.
type Storage struct {
	// Kind is StorageDisk (the default: everything acknowledged survives a
	// crash) or StorageMemory (tests and benchmarks: a crash loses it all).
	Kind string `toml:"kind"`
	// Dir is the disk store's data directory. Validate makes it absolute,
	// resolving a relative path against the config file's folder.
	// CheckStorageDir creates it and proves it writable.
	Dir string `toml:"dir"`
	// Sync is SyncAlways, SyncInterval or SyncNever: when an accepted
	// message reaches the disk relative to its ESME_ROK (docs/CONFIG.md).
	Sync string `toml:"sync"`
	// SyncInterval is, with Sync = SyncInterval, the longest an
	// acknowledged message may sit in the OS page cache before its fsync.
	SyncInterval Duration `toml:"sync_interval"`
	// MaxDisk is the disk budget of Dir; past its high-water mark new
	// submits are refused while accepted messages still record their states.
	MaxDisk Size `toml:"max_disk"`
	// MessageTTL is how long a final message's record (query_sm, receipts)
	// and its upstream id mapping are kept: with the disk store counted
	// from the later of its final state and its validity end.
	MessageTTL Duration `toml:"message_ttl"`
	// MaxRecords bounds the memory store's records; the oldest are
	// evicted. Refused in the file with kind = "disk".
	MaxRecords int `toml:"max_records"`
	// MaxUpstreamIDs bounds the memory store's upstream id mappings,
	// evicted the same way. Refused in the file with kind = "disk".
	MaxUpstreamIDs int `toml:"max_upstream_ids"`
}

// Values of [storage] kind and sync.
const (
	StorageDisk   = "disk"
	StorageMemory = "memory"

	SyncAlways   = "always"   // fsync before the answer (group commit)
	SyncInterval = "interval" // fsync at least every sync_interval
	SyncNever    = "never"    // the OS writes back at its own pace
)

// Disk reports whether the durable disk store is configured.
func (s *Storage) Disk() bool { return s.Kind == StorageDisk }
