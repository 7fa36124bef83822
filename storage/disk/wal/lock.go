//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// lockName is the lock file in the data directory. It is never removed:
// deleting it while another process waits on it would let two hold it.
const lockName = "LOCK"

// dirLock is an exclusive flock(2) on DIR/LOCK, released by the kernel when
// the process dies, so a crash never leaves a stale lock behind.
type dirLock struct{ f *os.File }

// lockRetry is how often a waiting Open tries the lock again: the hand-over
// gap an upgrade sees is at most this past the old process's release.
const lockRetry = 20 * time.Millisecond

// lockDir takes the lock, waiting up to wait for a process that holds it
// (an upgrade's old process draining) before it fails with ErrLocked.
func lockDir(dir string, wait time.Duration, log zerolog.Logger) (*dirLock, error) {
	name := filepath.Join(dir, lockName)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("wal: lock %s: %w", name, err)
	}
	deadline := time.Now().Add(wait)
	for waited := false; ; {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == syscall.EINTR {
			continue
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || !time.Now().Before(deadline) {
			break
		}
		if !waited {
			waited = true
			log.Warn().Str("event", "lock_wait").Str("dir", dir).Str("holder", readHolder(f)).Dur("wait", wait).
				Msg("data directory locked by another process; waiting for it to stop")
		}
		time.Sleep(lockRetry)
	}
	if err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is locked by another process (%s); each smppd needs its own data directory",
				ErrLocked, dir, holder)
		}
		return nil, fmt.Errorf("wal: lock %s: %w", name, err)
	}
	// The pid is for the message above; the flock is what excludes.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

func readHolder(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid := strings.TrimSpace(string(b[:n]))
	if _, err := strconv.Atoi(pid); err != nil {
		return "pid unknown"
	}
	return "pid " + pid
}

func (l *dirLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	err := l.f.Close()
	l.f = nil
	return err
}
