package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Read returns, oldest first, up to limit entries (clamped to
// 1..MaxReadLimit) whose sequence number is above after and whose time is
// not before since (zero: any), each without its newline, and whether more
// follow. Page on with after = the last entry's "seq". A file deleted by
// retention meanwhile is skipped; a corrupt line is not an entry.
func (l *Log) Read(after uint64, since time.Time, limit int) ([][]byte, bool, error) {
	limit = min(max(limit, 1), MaxReadLimit)
	l.mu.Lock()
	if l.f == nil {
		defer l.mu.Unlock()
		return l.readMemory(after, since, limit)
	}
	files := append([]uint64(nil), l.f.files...)
	size := l.f.size // of the last file: nothing past it is complete
	dir := l.f.dir
	l.mu.Unlock()

	start := 0
	for i, first := range files {
		if first <= after+1 {
			start = i
		}
	}
	if !since.IsZero() {
		// A file holds nothing at or after since when the next one begins
		// before since: entries are in time order.
		for start+1 < len(files) {
			h, ok := firstEntry(filepath.Join(dir, fileName(files[start+1])))
			if !ok || !h.Time.Before(since) {
				break
			}
			start++
		}
	}
	var out [][]byte
	for i := start; i < len(files); i++ {
		limitTo := int64(-1)
		if i == len(files)-1 {
			limitTo = size
		}
		more, err := scanFile(filepath.Join(dir, fileName(files[i])), limitTo, func(line []byte, h header) bool {
			if h.Seq <= after || h.Time.Before(since) {
				return true
			}
			if len(out) == limit {
				return false
			}
			out = append(out, append([]byte(nil), line...))
			return true
		})
		if err != nil {
			return nil, false, err
		}
		if more {
			return out, true, nil
		}
	}
	return out, false, nil
}

func (l *Log) readMemory(after uint64, since time.Time, limit int) ([][]byte, bool, error) {
	var out [][]byte
	for i := range l.mem {
		line := l.mem[(l.memHead+i)%len(l.mem)]
		h, _ := parseHeader(line)
		if h.Seq <= after || h.Time.Before(since) {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, append([]byte(nil), line...))
	}
	return out, false, nil
}

// scanFile calls visit with each entry of the file (the first limit
// octets, -1: all), without its newline, until visit returns false; it
// reports whether visit stopped it. A missing file has no entries.
func scanFile(name string, limit int64, visit func(line []byte, h header) bool) (bool, error) {
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	var rd io.Reader = f
	if limit >= 0 {
		rd = io.LimitReader(f, limit)
	}
	r := bufio.NewReaderSize(rd, 64<<10)
	var long []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line := chunk
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], chunk...)
			for errors.Is(err, bufio.ErrBufferFull) {
				chunk, err = r.ReadSlice('\n')
				long = append(long, chunk...)
			}
			line = long
		}
		if errors.Is(err, io.EOF) {
			return false, nil // a line still being written, or none
		}
		if err != nil {
			return false, fmt.Errorf("audit: read %s: %w", name, err)
		}
		line = line[:len(line)-1]
		h, ok := parseHeader(line)
		if !ok {
			continue
		}
		if !visit(line, h) {
			return true, nil
		}
	}
}

// firstEntry returns the header of a file's first entry.
func firstEntry(name string) (header, bool) {
	var first header
	found := false
	_, _ = scanFile(name, -1, func(_ []byte, h header) bool {
		first, found = h, true
		return false
	})
	return first, found
}
