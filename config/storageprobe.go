package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ProbeStorageDir is CheckStorageDir without side effects, for
// -check-config on a host where smppd may be running: it creates and writes
// nothing, and reports whether CheckStorageDir would succeed, as far as
// permissions tell: the data directory is a directory this process may
// write and enter, or its nearest existing parent is (MkdirAll would
// create it). The warnings are legal but worth a look (a directory others
// may write, a directory still to be created). kind = "memory" has none.
func (c *Config) ProbeStorageDir() (warnings []string, err error) {
	s := &c.Storage
	if !s.Disk() {
		return nil, nil
	}
	fail := func(format string, args ...any) error {
		return c.errorAt("storage.dir", fmt.Sprintf(format, args...))
	}
	dir := s.Dir
	for {
		fi, err := os.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			parent := filepath.Dir(dir)
			if parent == dir {
				return nil, fail("no existing parent of %s", s.Dir)
			}
			dir = parent
			continue
		}
		if err != nil {
			return nil, fail("%v", err)
		}
		if !fi.IsDir() {
			return nil, fail("%s is not a directory, so %s cannot be created", dir, s.Dir)
		}
		if err := syscall.Access(dir, 0x2|0x1); err != nil { // W_OK|X_OK: create and write files in it
			if dir == s.Dir {
				return nil, fail("cannot write in the data directory %s: %v", dir, err)
			}
			return nil, fail("cannot create the data directory %s: %s: %v", s.Dir, dir, err)
		}
		if dir != s.Dir {
			warnings = append(warnings, fmt.Sprintf("storage.dir: %s does not exist yet; smppd creates it (mode 0750) at start", s.Dir))
		} else if fi.Mode().Perm()&0o002 != 0 {
			warnings = append(warnings, fmt.Sprintf("storage.dir: %s is writable by every user of the host (mode %04o): message bodies are customer data", s.Dir, fi.Mode().Perm()))
		}
		return warnings, nil
	}
}
