//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// Package dirlock gives one process at a time a directory: an exclusive
// flock(2) on DIR/LOCK, released by the kernel when the process dies, so a
// crash never leaves a stale lock behind. The audit log and the CDR stream
// each keep their files this way (two writers would number their entries
// or files from the same sequence).
package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrLocked is returned by Acquire when another process holds the directory.
var ErrLocked = errors.New("the directory is in use by another process")

// Lock is a held directory lock.
type Lock struct{ f *os.File }

// Acquire takes dir's lock without waiting, creating DIR/LOCK with perm.
func Acquire(dir string, perm os.FileMode) (*Lock, error) {
	name := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, perm)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return &Lock{f: f}, nil
}

// Release drops the lock; a nil or released Lock is left alone.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		_ = l.f.Close() // closing drops the flock
		l.f = nil
	}
}
