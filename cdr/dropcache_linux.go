package cdr

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropPages asks the kernel to drop f's cached pages in [off, off+n)
// (n 0: to the end of the file): POSIX_FADV_DONTNEED drops the clean
// ones and leaves dirty ones to writeback. Advice only: an error changes
// nothing that was written, so it is ignored.
func dropPages(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _ = unix.Fadvise(int(fd), off, n, unix.FADV_DONTNEED) })
}
