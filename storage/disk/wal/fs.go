package wal

import (
	"errors"
	"os"
)

// FS is the file layer under the log: the operating system's by default
// (OSFS), a wrapper in tests that injects ENOSPC, EIO and torn writes.
type FS interface {
	MkdirAll(dir string) error
	// ReadDir returns the names of the entries of dir.
	ReadDir(dir string) ([]string, error)
	// OpenFile opens name with os.OpenFile flags (mode 0640 when created).
	OpenFile(name string, flag int) (File, error)
	Remove(name string) error
	// Rename renames oldName to newName (in the same directory).
	Rename(oldName, newName string) error
	// SyncDir makes the creation and removal of dir's entries durable.
	SyncDir(dir string) error
}

// File is an open segment. The log writes at explicit offsets so a failed
// write is retried over the same bytes.
type File interface {
	ReadAt(p []byte, off int64) (int, error)
	// WriteAt writes all of p or returns an error with how much it wrote.
	WriteAt(p []byte, off int64) (int, error)
	// Sync makes the data written so far durable (fdatasync where there is
	// one: the file's size is flushed, its times are not).
	Sync() error
	Truncate(size int64) error
	Size() (int64, error)
	Close() error
}

// writeSyncer is a File that can write and make durable in one call
// (Linux: pwritev2 with RWF_DSYNC). The writer uses it for a group that
// is the only unsynced write to its segment; other files (and the test
// wrappers) get WriteAt and Sync.
type writeSyncer interface {
	WriteAtSync(p []byte, off int64) (int, error)
}

// ErrNoWriteSync: the kernel cannot write and sync in one call; the
// writer stops trying.
var ErrNoWriteSync = errors.New("wal: no write-and-sync call")

// OSFS is the operating system's file layer.
type OSFS struct{}

func (OSFS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o750) }

func (OSFS) ReadDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, nil
}

func (OSFS) OpenFile(name string, flag int) (File, error) {
	f, err := os.OpenFile(name, flag, 0o640)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (OSFS) Remove(name string) error { return os.Remove(name) }

func (OSFS) Rename(oldName, newName string) error { return os.Rename(oldName, newName) }

func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

type osFile struct{ *os.File }

func (f osFile) Sync() error { return datasync(f.File) }

func (f osFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
