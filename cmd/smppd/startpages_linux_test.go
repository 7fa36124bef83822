//go:build linux

package main

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// smapsSample is /proc/self/smaps cut to the lines exeMappings reads,
// plus a few it must skip.
const smapsSample = `00400000-00fec000 r-xp 00000000 fd:01 4711                               /opt/smppd/bin/smppd (deleted)
Size:              12208 kB
Rss:                7344 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me sd
00fec000-01c16000 r--p 00bec000 fd:01 4711                               /opt/smppd/bin/smppd (deleted)
Size:              12456 kB
Rss:                9064 kB
Anonymous:             0 kB
THPeligible:    0
01c16000-01c8c000 rw-p 01816000 fd:01 4711                               /opt/smppd/bin/smppd (deleted)
Rss:                 408 kB
Anonymous:           120 kB
01c8c000-01d00000 r--p 0188c000 fd:01 4711                               /opt/smppd/bin/smppd (deleted)
Rss:                  64 kB
Anonymous:             4 kB
a4a2f800000-a4a31c00000 rw-p 00000000 00:00 0 
Rss:               30212 kB
Anonymous:         30212 kB
7ff6dd2f0000-7ff6dd446000 r-xp 00028000 fd:01 999                        /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                 832 kB
Anonymous:             0 kB
`

func TestExeMappings(t *testing.T) {
	got, err := exeMappings(strings.NewReader(smapsSample), 0x00495300)
	if err != nil {
		t.Fatal(err)
	}
	// The text and the read-only data; not the writable data, not the
	// mapping with a private copy (a breakpoint), not libc, not the heap.
	want := []mapping{{start: 0x00400000, end: 0x00fec000, rssKiB: 7344}, {start: 0x00fec000, end: 0x01c16000, rssKiB: 9064}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("exeMappings = %+v, want %+v", got, want)
	}
	if _, err := exeMappings(strings.NewReader(smapsSample), 0x10); err == nil {
		t.Fatal("exeMappings of an address no file maps: no error")
	}
	if got, err := exeMappings(strings.NewReader(smapsSample), 0x7ff6dd2f1000); err != nil || len(got) != 1 || got[0].rssKiB != 832 {
		t.Fatalf("exeMappings of libc's text = %+v, %v; want its one mapping", got, err)
	}
}

// exeRSS sums the resident KiB of this test binary's read-only mappings.
func exeRSS(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	defer f.Close()
	maps, err := exeMappings(f, uint64(reflect.ValueOf(exeRSS).Pointer()))
	if err != nil {
		t.Fatal(err)
	}
	kib := 0
	for _, m := range maps {
		kib += m.rssKiB
	}
	return kib
}

func TestReleaseStartPages(t *testing.T) {
	before := exeRSS(t)
	kib, err := releaseStartPages()
	if err != nil {
		t.Fatal(err)
	}
	after := exeRSS(t)
	if kib <= 0 || after >= before {
		t.Fatalf("released %d KiB; resident %d KiB before, %d after: want fewer after", kib, before, after)
	}
	// The code and tables released are mapped again when used.
	var b strings.Builder
	for i := range 1000 {
		b.WriteString(reflect.TypeOf(i).String())
	}
	if b.Len() != 3000 {
		t.Fatalf("after the release: built %d octets, want 3000", b.Len())
	}
	t.Logf("released %d KiB; resident %d KiB before, %d after", kib, before, after)
}

// exeCached returns how many of the executable's pages are in the page
// cache (mincore(2) over a mapping of the file that touches none).
func exeCached(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Skip("no /proc/self/exe:", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(b)
	vec := make([]byte, (len(b)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal("mincore:", e)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// randomRead reports, for each of the executable's read-only mappings,
// whether smaps shows it MADV_RANDOM ("rr" in VmFlags).
func randomRead(t *testing.T) map[uint64]bool {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	defer f.Close()
	maps, err := exeMappings(f, uint64(reflect.ValueOf(randomRead).Pointer()))
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]bool{}
	for _, m := range maps {
		out[m.start] = false
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	var cur uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if h, ok := smapsHeader([]byte(line)); ok {
			cur = h.start
			continue
		}
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok {
			if _, exe := out[cur]; exe {
				out[cur] = strings.Contains(flags+" ", " rr ")
			}
		}
	}
	return out
}

// After the release a page of the executable used again comes back alone:
// the mappings read no ahead, and the cache's pages none maps are gone.
func TestReleaseStartPagesDropsTheCache(t *testing.T) {
	if _, err := os.ReadFile("/proc/self/exe"); err != nil { // the whole file in the cache
		t.Skip("no /proc/self/exe:", err)
	}
	before := exeCached(t)
	if _, err := releaseStartPages(); err != nil {
		t.Fatal(err)
	}
	after := exeCached(t)
	if after >= before/2 {
		t.Errorf("executable's pages in the page cache: %d before the release, %d after; want under half", before, after)
	}
	rr := randomRead(t)
	if len(rr) == 0 {
		t.Fatal("no read-only mapping of the executable found")
	}
	for start, ok := range rr {
		if !ok {
			t.Errorf("mapping at %#x: not MADV_RANDOM after the release", start)
		}
	}
	t.Logf("executable's pages in the page cache: %d before the release, %d after", before, after)
}
