package wal

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// datasync is fdatasync(2): the data and the size, without the times, which
// an append-only file does not need durable.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}

// WriteAtSync writes p at off and makes it durable in one system call,
// pwritev2(2) with RWF_DSYNC: the write and the fdatasync of its range.
// One blocking call instead of two halves the times the runtime hands
// the writer's P to another thread and takes one back. ErrNoWriteSync
// when the kernel has no RWF_DSYNC (before Linux 4.7).
func (f osFile) WriteAtSync(p []byte, off int64) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var serr error
	iov := [1][]byte{}
	if err := rc.Control(func(fd uintptr) {
		for n < len(p) {
			iov[0] = p[n:]
			m, e := unix.Pwritev2(int(fd), iov[:], off+int64(n), unix.RWF_DSYNC)
			if e == syscall.EINTR {
				continue
			}
			if e != nil {
				serr = e
				return
			}
			if m == 0 {
				serr = syscall.EIO
				return
			}
			n += m
		}
	}); err != nil {
		return n, err
	}
	switch {
	case serr == nil:
		return n, nil
	case n == 0 && (errors.Is(serr, syscall.EOPNOTSUPP) || errors.Is(serr, syscall.ENOSYS) || errors.Is(serr, syscall.EINVAL)):
		return 0, ErrNoWriteSync
	}
	return n, &os.PathError{Op: "pwritev2", Path: f.Name(), Err: serr}
}
