package cdr

import (
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident reports, per page of path, whether it is in the page cache.
func resident(t *testing.T, path string) []bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+int(pageSize)-1)/int(pageSize))
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	in := make([]bool, len(vec))
	for i, v := range vec {
		in[i] = v&1 != 0
	}
	return in
}

// Once the periodic fsync made them clean, the written pages of the file
// being written leave the page cache, except the one holding the tail
// (written again by the next lines); a sealed file's all go. Its lines
// are all there, read back from the disk.
func TestSyncedPagesLeaveThePageCache(t *testing.T) {
	e := newEnv(t, nil)
	var fs unix.Statfs_t
	if err := unix.Statfs(e.dir, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skip("tmpfs: its pages are the files, never dropped")
	}
	const n = 200 // ~40 KiB of lines: several pages
	for i := uint64(1); i <= n; i++ {
		e.put(i, "demo", "4917000", "4917111", "a text long enough to fill a few pages with two hundred lines")
		e.final(i)
	}
	e.step()
	path := e.s.fs.cur.Name()
	before := resident(t, path)
	if len(before) < 3 || !before[0] {
		t.Fatalf("written and not synced: %d pages, first resident %v", len(before), len(before) > 0 && before[0])
	}
	e.clk.advance(time.Second) // the periodic sync
	e.step()
	after := resident(t, path)
	size := e.s.fs.size
	for i, in := range after {
		if full := int64(i+1)*pageSize <= size; full && in {
			t.Fatalf("page %d of %d still cached after the sync", i, len(after))
		}
	}
	e.clk.advance(2 * time.Hour) // past max_file_age: sealed
	e.final(n + 1)
	e.step()
	if e.s.Stats().Rotations != 1 {
		t.Fatalf("not sealed: %+v", e.s.Stats())
	}
	if got := len(e.lines()); got != n+1 {
		t.Fatalf("%d lines, want %d", got, n+1)
	}
}
