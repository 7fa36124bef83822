package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckStorageDirCreates(t *testing.T) {
	c, dir, err := loadStorage(t, "[storage]\ndir = \"data/store\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckStorageDir(); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "data", "store")
	fi, err := os.Stat(store)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o007 != 0 {
		t.Fatalf("%s: %v %v", store, fi, err)
	}
	// The probe is gone, and a second check on the existing dir passes.
	if ents, err := os.ReadDir(store); err != nil || len(ents) != 0 {
		t.Fatalf("left in the data directory: %v %v", ents, err)
	}
	if err := c.CheckStorageDir(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckStorageDirMemoryTouchesNothing(t *testing.T) {
	c, dir, err := loadStorage(t, "[storage]\nkind = \"memory\"\ndir = \"data\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckStorageDir(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("memory store created its dir: %v", err)
	}
}

// Each refusal names storage.dir and the line it was written on (root can
// write anywhere permissions allow, so these use paths that refuse root too).
func TestCheckStorageDirRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the dir to configure
		want  string
	}{
		{"a file", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "plain"))
			return "plain"
		}, "/plain: not a directory"},
		{"under a file", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "plain"))
			return "plain/store"
		}, "cannot create the data directory"},
		{"unwritable filesystem", func(t *testing.T, _ string) string {
			if fi, err := os.Stat("/proc/self"); err != nil || !fi.IsDir() {
				t.Skip("no /proc")
			}
			return "/proc"
		}, "cannot write in the data directory /proc"},
		{"no permission", func(t *testing.T, dir string) string {
			if os.Geteuid() == 0 {
				t.Skip("root ignores directory permissions")
			}
			ro := filepath.Join(dir, "ro")
			if err := os.Mkdir(ro, 0o500); err != nil {
				t.Fatal(err)
			}
			return "ro"
		}, "permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			path := filepath.Join(base, "smppd.toml")
			src := "[smpp-server]\nport = 2775\n\n[storage]\ndir = \"" + tc.setup(t, base) + "\"\n"
			if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			err = c.CheckStorageDir()
			wantErr(t, err, path+":5: storage.dir: ", tc.want)
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != "storage.dir" || ce.Line != 5 {
				t.Errorf("not an *Error at storage.dir line 5: %#v", err)
			}
		})
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}
