//go:build linux

package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
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
