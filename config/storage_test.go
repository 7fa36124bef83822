package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadStorage loads a config made of src in a fresh directory and returns
// it with that directory.
func loadStorage(t *testing.T, src string) (*Config, string, error) {
	t.Helper()
	path := writeConfig(t, map[string]string{"smppd.toml": src})
	c, err := Load(path)
	return c, filepath.Dir(path), err
}

func TestStorageKeys(t *testing.T) {
	abs, err := filepath.Abs("/srv/smppd/store")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, src string
		want      func(dir string) Storage
	}{
		{"defaults", "", func(dir string) Storage {
			return Storage{Kind: "disk", Dir: filepath.Join(dir, "var", "smppd"), Sync: "always",
				SyncInterval: Duration(10 * time.Millisecond), MaxDisk: 8 << 30, MessageTTL: Duration(72 * time.Hour),
				MaxRecords: 1000000, MaxUpstreamIDs: 1000000}
		}},
		{"disk, every key", "[storage]\nkind = \"disk\"\ndir = \"/srv/smppd/store\"\nsync = \"interval\"\nsync_interval = \"1s\"\nmax_disk = \"2TiB\"\nmessage_ttl = \"96h\"\n",
			func(string) Storage {
				return Storage{Kind: "disk", Dir: abs, Sync: "interval", SyncInterval: Duration(time.Second), MaxDisk: 2 << 40,
					MessageTTL: Duration(96 * time.Hour), MaxRecords: 1000000, MaxUpstreamIDs: 1000000}
			}},
		{"relative dir", "[storage]\ndir = \"../data/./store\"\nsync = \"never\"\nsync_interval = \"1ms\"\nmax_disk = 16777216\n",
			func(dir string) Storage {
				return Storage{Kind: "disk", Dir: filepath.Join(filepath.Dir(dir), "data", "store"), Sync: "never",
					SyncInterval: Duration(time.Millisecond), MaxDisk: 16 << 20, MessageTTL: Duration(72 * time.Hour),
					MaxRecords: 1000000, MaxUpstreamIDs: 1000000}
			}},
		// With memory the disk keys are range-checked and left as written.
		{"memory", "[storage]\nkind = \"memory\"\ndir = \"\"\nmax_disk = \"1024TiB\"\nmax_records = 5000\nmax_upstream_ids = 7000\n",
			func(string) Storage {
				return Storage{Kind: "memory", Dir: "", Sync: "always", SyncInterval: Duration(10 * time.Millisecond), MaxDisk: 1 << 50,
					MessageTTL: Duration(72 * time.Hour), MaxRecords: 5000, MaxUpstreamIDs: 7000}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, dir, err := loadStorage(t, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want(dir); c.Storage != want {
				t.Errorf("storage\n got %+v\nwant %+v", c.Storage, want)
			}
			if c.Storage.Disk() != (c.Storage.Kind == StorageDisk) {
				t.Errorf("Disk() = %v for kind %q", c.Storage.Disk(), c.Storage.Kind)
			}
		})
	}
}

// A config read through a relative path still gets an absolute dir (the
// lock and log lines name it; a later chdir cannot move it).
func TestStorageDirRelativeConfigPath(t *testing.T) {
	c, err := Parse(filepath.Join("etc", "smppd.toml"), "[storage]\ndir = \"store\"\n")
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs(filepath.Join("etc", "store"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.Dir != want {
		t.Errorf("dir %q, want %q", c.Storage.Dir, want)
	}
}

func TestStorageValidation(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"kind", "[storage]\nkind = \"ssd\"\n", `:2: storage.kind: must be "disk" or "memory", got "ssd"`},
		{"kind type", "[storage]\n\nkind = 1\n", `:3: storage.kind: expected a string, got an integer (1)`},
		{"dir empty", "[storage]\nkind = \"disk\"\ndir = \"\"\n", `:3: storage.dir: must not be empty with kind = "disk"`},
		{"dir nul", "[storage]\ndir = \"a\\u0000b\"\n", `:2: storage.dir: must not contain a NUL character`},
		{"sync", "[storage]\nsync = \"sometimes\"\n", `:2: storage.sync: must be "always", "interval" or "never", got "sometimes"`},
		{"sync case", "[storage]\nsync = \"Always\"\n", `:2: storage.sync: must be "always", "interval" or "never", got "Always"`},
		{"sync_interval low", "[storage]\nsync = \"interval\"\nsync_interval = \"500us\"\n", `:3: storage.sync_interval: 500µs is out of range 1ms..1s`},
		{"sync_interval zero", "[storage]\nsync_interval = \"0s\"\n", `:2: storage.sync_interval: 0s is out of range 1ms..1s`},
		{"sync_interval high", "[storage]\nsync_interval = \"2s\"\n", `:2: storage.sync_interval: 2s is out of range 1ms..1s`},
		{"sync_interval unit", "[storage]\nsync_interval = 10\n", `:2: storage.sync_interval: a duration needs a unit`},
		{"max_disk low", "[storage]\nmax_disk = \"8MiB\"\n", `:2: storage.max_disk: 8MiB is out of range 16MiB..1024TiB`},
		{"max_disk high", "[storage]\nmax_disk = \"2048TiB\"\n", `:2: storage.max_disk: 2048TiB is out of range 16MiB..1024TiB`},
		{"max_disk unit", "[storage]\nmax_disk = \"8 parsecs\"\n", `:2: storage.max_disk: invalid size unit "parsecs"`},
		{"max_disk fraction", "[storage]\nmax_disk = \"1.5GiB\"\n", `:2: storage.max_disk: invalid size "1.5GiB" (must be a whole`},
		{"message_ttl", "[storage]\nkind = \"memory\"\nmessage_ttl = \"0s\"\n", `:3: storage.message_ttl: must be > 0`},
		{"unknown key", "[storage]\nsyncInterval = \"5ms\"\n", `:2: storage.syncInterval: unknown key (did you mean "sync_interval"?)`},
		// The hints: count limits belong to the memory store only.
		{"max_records with disk", "[storage]\nkind = \"disk\"\n\nmax_records = 50000\n",
			`:4: storage.max_records: applies to kind = "memory" only: the disk store keeps each record until it is final or expired, plus message_ttl, never evicting by count (remove it, or set kind = "memory")`},
		{"max_upstream_ids with default kind", "[storage]\nmax_upstream_ids = 1000000\n",
			`:2: storage.max_upstream_ids: applies to kind = "memory" only: the disk store keeps each record until it is final or expired, plus message_ttl, never evicting by count (remove it, or set kind = "memory")`},
		{"max_records range with memory", "[storage]\nkind = \"memory\"\nmax_records = 268435457\n", `:3: storage.max_records: 268435457 is out of range 1..268435456`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := loadStorage(t, tc.src)
			wantErr(t, err, tc.want)
		})
	}
}

// Both hints at once, each on its own line.
func TestStorageDiskRefusesBothCountLimits(t *testing.T) {
	_, _, err := loadStorage(t, "[storage]\nmax_records = 1\nmax_upstream_ids = 1\n")
	wantErr(t, err, ":2: storage.max_records: applies to kind = \"memory\" only", ":3: storage.max_upstream_ids: applies to kind = \"memory\" only")
	if n := strings.Count(err.Error(), "\n") + 1; n != 2 {
		t.Errorf("%d errors, want 2: %v", n, err)
	}
}

// The queue warning is the memory store's (it evicts by count): queues of
// a million are over half the default max_records.
func TestStorageQueueWarningMemoryOnly(t *testing.T) {
	const conns = "[[connector]]\nname = \"sim\"\ntype = \"sim\"\nqueue = 1000000\n"
	for kind, want := range map[string]bool{"disk": false, "memory": true} {
		c, _, err := loadStorage(t, "[storage]\nkind = \""+kind+"\"\n"+conns)
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, w := range c.Warnings {
			got = got || strings.Contains(w, "max_records 1000000 < twice the connector queues (1000000)")
		}
		if got != want {
			t.Errorf("kind %s: queue warning %v, want %v (%q)", kind, got, want, c.Warnings)
		}
	}
}
