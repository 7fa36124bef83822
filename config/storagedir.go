package config

import (
	"fmt"
	"os"
)

// CheckStorageDir creates the disk store's data directory (and its parents)
// if needed, then writes, fsyncs and removes a probe file in it, so that a
// directory smppd cannot create or write is refused at start with the file
// and line of storage.dir rather than at the first submit. It does nothing
// for kind = "memory". cmd/smppd calls it after Load, before opening the
// store; Load itself never touches the disk (SIGHUP and config checks
// re-load freely).
func (c *Config) CheckStorageDir() error {
	s := &c.Storage
	if !s.Disk() {
		return nil
	}
	fail := func(what string, err error) error {
		return c.errorAt("storage.dir", fmt.Sprintf("%s %s: %v", what, s.Dir, err))
	}
	// 0750: message bodies are customer data; the service's group may read
	// them for backups.
	// MkdirAll also fails (ENOTDIR) when Dir or a parent is a file.
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return fail("cannot create the data directory", err)
	}
	f, err := os.CreateTemp(s.Dir, ".write-probe-*")
	if err != nil {
		return fail("cannot write in the data directory", err)
	}
	_, err = f.Write([]byte("smppd\n"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(f.Name()); err == nil {
		err = rerr
	}
	if err != nil {
		return fail("cannot write in the data directory", err)
	}
	return nil
}
