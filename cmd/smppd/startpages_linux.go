//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"

	"golang.org/x/sys/unix"
)

// Start-up runs code and reads tables that traffic never touches again
// (the config, TLS, policy and cluster set-up, the package initialisers)
// and the kernel maps a file's pages around each fault in 64 KiB folios:
// once started, about 7 MiB of smppd's text and 5–8 MiB of its read-only
// data (types, pclntab) are resident, most of it for nothing
// (docs/BENCHMARKS.md, issue 17's resident memory). releaseStartPages
// unmaps this process's pages of its own executable's read-only mappings
// (MADV_DONTNEED): they stay in the page cache, and those the traffic
// uses are mapped again by a fault each, once.
//
// Mapped again from those folios, the traffic's few faults in the
// read-only data (the collector's stack scans and asynchronous preemption
// read the pclntab at random) made 5–8 MiB of it resident again. So the
// released mappings are marked MADV_RANDOM (no read-ahead) and the
// executable's page-cache pages no process maps are dropped
// (POSIX_FADV_DONTNEED): a later fault reads one 4 KiB page from the
// file, not a 64 KiB folio from the cache. The price is one read of the
// disk the first time each page is used after start-up, not a copy.

// releaseStartPages releases the resident pages of the executable's
// read-only mappings and returns how many KiB were resident in them. A
// mapping with private copies of pages (a debugger's breakpoints, a
// uprobe) is left alone: MADV_DONTNEED would discard the copies.
func releaseStartPages() (int, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	maps, err := exeMappings(f, uint64(reflect.ValueOf(releaseStartPages).Pointer()))
	if err != nil {
		return 0, err
	}
	kib := 0
	for _, m := range maps {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), unix.MADV_DONTNEED); e != 0 {
			return kib, fmt.Errorf("madvise %x-%x: %w", m.start, m.end, e)
		}
		kib += m.rssKiB
	}
	for _, m := range maps {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), unix.MADV_RANDOM); e != 0 {
			return kib, fmt.Errorf("madvise random %x-%x: %w", m.start, m.end, e)
		}
	}
	return kib, dropExeCache()
}

// dropExeCache drops the executable's page-cache pages that no process
// maps, so that the next faults read them in single pages
// (the mappings being MADV_RANDOM) rather than as the cache's folios.
// /proc/self/exe opens the running file even when an upgrade replaced
// its path.
func dropExeCache() error {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return err
	}
	defer f.Close()
	// A file just written (a fresh build) has dirty pages, which the
	// drop skips; the server is already serving while this waits. An
	// error here only leaves those pages in the cache.
	_ = f.Sync()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("fadvise %s: %w", f.Name(), err)
	}
	return nil
}

// mapping is one /proc/self/smaps entry that releaseStartPages releases.
type mapping struct {
	start, end uint64
	rssKiB     int
}

// exeMappings reads smaps (the format of proc(5)) and returns the
// read-only, unmodified mappings of the file mapped at pc: the same
// device and inode as pc's mapping (the executable, even when an upgrade
// replaced or deleted its path), without write permission and with no
// anonymous (copied-on-write) pages.
func exeMappings(smaps io.Reader, pc uint64) ([]mapping, error) {
	type entry struct {
		header
		anonKiB int
	}
	var all []entry
	var exe string
	sc := bufio.NewScanner(smaps)
	for sc.Scan() {
		line := sc.Bytes()
		if k, v, ok := smapsField(line); ok {
			if n := len(all); n > 0 {
				switch k {
				case "Rss":
					all[n-1].rssKiB = v
				case "Anonymous":
					all[n-1].anonKiB = v
				}
			}
			continue
		}
		e, ok := smapsHeader(line)
		if !ok {
			continue
		}
		if e.start <= pc && pc < e.end {
			exe = e.file
		}
		all = append(all, entry{header: e})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if exe == "" {
		return nil, fmt.Errorf("no file mapping holds %#x", pc)
	}
	var out []mapping
	for _, e := range all {
		if e.file == exe && e.ro && e.anonKiB == 0 {
			out = append(out, e.mapping)
		}
	}
	return out, nil
}

// header is what smapsHeader reads of a mapping's first line.
type header struct {
	mapping
	file string // "dev inode"; "" for an anonymous mapping
	ro   bool
}

// smapsHeader parses "start-end perms offset dev inode [path]"; ok false
// for any other line.
func smapsHeader(line []byte) (header, bool) {
	f := bytes.Fields(line)
	if len(f) < 5 {
		return header{}, false
	}
	lo, hi, ok := bytes.Cut(f[0], []byte("-"))
	if !ok {
		return header{}, false
	}
	start, err1 := strconv.ParseUint(string(lo), 16, 64)
	end, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil || len(f[1]) != 4 || end <= start {
		return header{}, false
	}
	h := header{mapping: mapping{start: start, end: end}, ro: f[1][1] == '-'}
	if string(f[4]) != "0" { // inode 0: not a file
		h.file = string(f[3]) + " " + string(f[4])
	}
	return h, true
}

// smapsField parses "Key:   N kB"; ok false for any other line.
func smapsField(line []byte) (string, int, bool) {
	k, rest, ok := bytes.Cut(line, []byte(":"))
	if !ok || bytes.IndexByte(k, ' ') >= 0 {
		return "", 0, false
	}
	f := bytes.Fields(rest)
	if len(f) != 2 || string(f[1]) != "kB" {
		return "", 0, false
	}
	v, err := strconv.Atoi(string(f[0]))
	if err != nil {
		return "", 0, false
	}
	return string(k), v, true
}
