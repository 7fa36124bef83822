package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbeStorageDir(t *testing.T) {
	load := func(t *testing.T, dir string, extra map[string]string) *Config {
		t.Helper()
		files := map[string]string{"smppd.toml": "[storage]\ndir = \"" + dir + "\"\n"}
		for k, v := range extra {
			files[k] = v
		}
		c, err := Load(writeConfig(t, files))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("missing, creatable: a warning, nothing created", func(t *testing.T) {
		c := load(t, "var/store", nil)
		w, err := c.ProbeStorageDir()
		if err != nil || len(w) != 1 || !strings.Contains(w[0], "does not exist yet") {
			t.Fatalf("%q %v", w, err)
		}
		if _, err := os.Stat(filepath.Dir(c.Storage.Dir)); !os.IsNotExist(err) {
			t.Fatalf("the probe created something: %v", err)
		}
	})
	t.Run("existing", func(t *testing.T) {
		c := load(t, "store", map[string]string{"store/keep": ""})
		if w, err := c.ProbeStorageDir(); err != nil || len(w) != 0 {
			t.Fatalf("%q %v", w, err)
		}
	})
	t.Run("writable by everyone", func(t *testing.T) {
		c := load(t, "store", map[string]string{"store/keep": ""})
		if err := os.Chmod(c.Storage.Dir, 0o777); err != nil {
			t.Fatal(err)
		}
		if w, err := c.ProbeStorageDir(); err != nil || len(w) != 1 || !strings.Contains(w[0], "writable by every user") {
			t.Fatalf("%q %v", w, err)
		}
	})
	t.Run("under a file", func(t *testing.T) {
		c := load(t, "afile/store", map[string]string{"afile": "x"})
		_, err := c.ProbeStorageDir()
		wantErr(t, err, "smppd.toml:2: storage.dir: ", "afile is not a directory, so "+c.Storage.Dir+" cannot be created")
	})
	t.Run("not writable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes anywhere")
		}
		c := load(t, "ro/store", map[string]string{"ro/keep": ""})
		ro := filepath.Dir(c.Storage.Dir)
		if err := os.Chmod(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(ro, 0o700) })
		_, err := c.ProbeStorageDir()
		wantErr(t, err, "storage.dir: cannot create the data directory")
	})
	t.Run("memory", func(t *testing.T) {
		c, err := Load(writeConfig(t, map[string]string{"smppd.toml": "[storage]\nkind = \"memory\"\n"}))
		if err != nil {
			t.Fatal(err)
		}
		if w, err := c.ProbeStorageDir(); err != nil || w != nil {
			t.Fatalf("%q %v", w, err)
		}
	})
}
