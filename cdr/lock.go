//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package cdr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrLocked is returned by Open when another process writes the directory.
var ErrLocked = errors.New("cdr: the directory is in use by another process")

// dirLock is an exclusive flock(2) on DIR/LOCK, released by the kernel
// when the process dies: two writers would both number their files from
// the same seq.
type dirLock struct{ f *os.File }

func lockDir(dir string) (*dirLock, error) {
	name := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, fmt.Errorf("cdr: lock %s: %w", name, err)
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
			return nil, fmt.Errorf("%w: %s (each smppd needs its own [cdr] dir)", ErrLocked, dir)
		}
		return nil, fmt.Errorf("cdr: lock %s: %w", name, err)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) release() {
	if l != nil && l.f != nil {
		_ = l.f.Close() // closing drops the flock
		l.f = nil
	}
}
