package cdr

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smppd/smppd/internal/dirlock"
)

// File names (docs/CDR.md): a file being written is
// cdr-<seq>_<start>.jsonl.part; once closed (rotation, stop, or the next
// start after a crash) it is renamed cdr-<seq>_<start>_<end>.jsonl. seq
// grows by one per file and never repeats in a directory, so names sort
// in write order; start and end are the UTC times of its first line and
// of its close, to the millisecond.
const (
	filePrefix  = "cdr-"
	closedExt   = ".jsonl"
	partExt     = ".jsonl.part"
	eraseExt    = ".erase" // an erasure's copy before its rename
	nameTime    = "20060102T150405.000Z"
	filePerm    = 0o640
	dirPerm     = 0o750
	seqDigits   = 10
	partialTail = 1 << 20 // how far back a torn last line is looked for
)

// fileInfo is one closed file.
type fileInfo struct {
	name       string
	seq        uint64
	start, end int64 // Unix ns
	size       int64
}

// fileSet is the directory: its lock, its closed files (by seq) and the
// file being written. Only the writer (under Stream.mu) changes cur;
// closed is guarded by Stream.filesMu.
type fileSet struct {
	dir     string
	lock    *dirlock.Lock
	closed  []fileInfo
	crashed []string // parts a crash left, closed by openFiles
	cur     *os.File
	curName string
	curSeq  uint64
	start   int64 // first line's time, Unix ns
	size    int64
	nextSeq uint64
}

func partName(seq uint64, start int64) string {
	return fmt.Sprintf("%s%0*d_%s%s", filePrefix, seqDigits, seq, stamp(start), partExt)
}

func closedName(seq uint64, start, end int64) string {
	return fmt.Sprintf("%s%0*d_%s_%s%s", filePrefix, seqDigits, seq, stamp(start), stamp(end), closedExt)
}

func stamp(ns int64) string { return time.Unix(0, ns).UTC().Format(nameTime) }

// parseName reads a file name of ours: its seq, start, end (0 for a
// part) and whether it is a part.
func parseName(name string) (seq uint64, start, end int64, part, ok bool) {
	rest, found := strings.CutPrefix(name, filePrefix)
	if !found {
		return 0, 0, 0, false, false
	}
	if r, isPart := strings.CutSuffix(rest, partExt); isPart {
		rest, part = r, true
	} else if r, isClosed := strings.CutSuffix(rest, closedExt); isClosed {
		rest = r
	} else {
		return 0, 0, 0, false, false
	}
	fields := strings.Split(rest, "_")
	if part && len(fields) != 2 || !part && len(fields) != 3 {
		return 0, 0, 0, false, false
	}
	seq, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil {
		return 0, 0, 0, false, false
	}
	times := make([]int64, len(fields)-1)
	for i, f := range fields[1:] {
		t, err := time.Parse(nameTime, f)
		if err != nil {
			return 0, 0, 0, false, false
		}
		times[i] = t.UnixNano()
	}
	start = times[0]
	if !part {
		end = times[1]
	}
	return seq, start, end, part, true
}

// openFiles locks dir (creating it) and lists its files. A part left by
// a crash is closed: its torn last line (no newline) cut, then renamed
// with its modification time as its end; an empty one is removed.
func openFiles(dir string) (*fileSet, error) {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("cdr: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	fs := &fileSet{dir: dir, lock: lock}
	if err := fs.scan(); err != nil {
		lock.Release()
		return nil, err
	}
	return fs, nil
}

func (fs *fileSet) scan() error {
	ents, err := os.ReadDir(fs.dir)
	if err != nil {
		return fmt.Errorf("cdr: %w", err)
	}
	for _, de := range ents {
		if n := de.Name(); strings.HasPrefix(n, filePrefix) && strings.HasSuffix(n, eraseExt) {
			// An erasure's copy a crash left: the original is whole (the
			// rename had not happened) or already replaced by it.
			if err := os.Remove(filepath.Join(fs.dir, n)); err != nil {
				return fmt.Errorf("cdr: %w", err)
			}
			continue
		}
		seq, start, end, part, ok := parseName(de.Name())
		if !ok || !de.Type().IsRegular() {
			continue
		}
		fs.nextSeq = max(fs.nextSeq, seq+1)
		if part {
			if err := fs.closePart(de.Name(), seq, start); err != nil {
				return err
			}
			continue
		}
		fi, err := de.Info()
		if err != nil {
			return fmt.Errorf("cdr: %w", err)
		}
		fs.closed = append(fs.closed, fileInfo{name: de.Name(), seq: seq, start: start, end: end, size: fi.Size()})
	}
	slices.SortFunc(fs.closed, func(a, b fileInfo) int { return cmpSeq(a.seq, b.seq) })
	if fs.nextSeq == 0 {
		fs.nextSeq = 1
	}
	return syncDir(fs.dir)
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// closePart closes a part a crash left behind (see openFiles).
func (fs *fileSet) closePart(name string, seq uint64, start int64) error {
	path := filepath.Join(fs.dir, name)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("cdr: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cdr: %w", err)
	}
	size, err := wholeLines(f, fi.Size())
	if err != nil {
		return fmt.Errorf("cdr: %s: %w", path, err)
	}
	if size == 0 {
		return os.Remove(path)
	}
	if size != fi.Size() {
		if err := f.Truncate(size); err != nil {
			return fmt.Errorf("cdr: %s: %w", path, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cdr: %s: %w", path, err)
	}
	end := max(fi.ModTime().UnixNano(), start)
	closed := closedName(seq, start, end)
	if err := os.Rename(path, filepath.Join(fs.dir, closed)); err != nil {
		return fmt.Errorf("cdr: %w", err)
	}
	fs.closed = append(fs.closed, fileInfo{name: closed, seq: seq, start: start, end: end, size: size})
	fs.crashed = append(fs.crashed, closed)
	return nil
}

// wholeLines returns the length of f's content up to and including its
// last newline (looked for in its last partialTail bytes).
func wholeLines(f *os.File, size int64) (int64, error) {
	if size == 0 {
		return 0, nil
	}
	from := max(size-partialTail, 0)
	buf := make([]byte, size-from)
	if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	i := bytes.LastIndexByte(buf, '\n')
	if i < 0 {
		return from, nil
	}
	return from + int64(i) + 1, nil
}

// create starts a part for a first line at now.
func (fs *fileSet) create(now int64) error {
	name := partName(fs.nextSeq, now)
	f, err := os.OpenFile(filepath.Join(fs.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, filePerm)
	if err != nil {
		return err
	}
	fs.cur, fs.curName, fs.curSeq, fs.start, fs.size = f, name, fs.nextSeq, now, 0
	fs.nextSeq++
	return nil
}

// detach ends the part being written at now: it returns the open file,
// its name and the closed file it becomes, for the syncer to seal
// (syncer.go).
func (fs *fileSet) detach(now int64) (*os.File, string, fileInfo) {
	f := fs.cur
	fs.cur = nil
	end := max(now, fs.start)
	info := fileInfo{name: closedName(fs.curSeq, fs.start, end), seq: fs.curSeq, start: fs.start, end: end, size: fs.size}
	fs.size = 0
	return f, fs.curName, info
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
