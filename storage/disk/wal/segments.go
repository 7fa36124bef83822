package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Segments lists the segment files, oldest first. For the compaction that
// storage/disk drives: it decides which segments hold nothing live any
// more, and Remove deletes them.
func (l *Log) Segments() []SegmentInfo {
	open := l.openSeq()
	l.smu.Lock()
	defer l.smu.Unlock()
	out := make([]SegmentInfo, 0, len(l.segs))
	for _, s := range l.segs {
		if s.removing {
			continue
		}
		out = append(out, SegmentInfo{
			Seq:     s.seq,
			First:   mkpos(s.seq, headerSize),
			End:     s.end,
			Bytes:   s.size,
			Active:  s.seq >= open,
			Corrupt: s.corrupt || s.bad != "",
		})
	}
	return out
}

// openSeq is the segment the log has open for writing: every older one is
// closed for good. Before the log has one open, nothing is removable.
func (l *Log) openSeq() uint64 {
	if s := l.open.Load(); s != 0 {
		return s
	}
	return ^uint64(0)
}

// Remove deletes segment seq and makes the deletion durable (directory
// fsync), giving its bytes back to the disk budget (one kept for
// recycling, prealloc.go, gives them back when a spare is made of it). The segment the log
// has open for writing, or a later one, is refused with ErrSegmentActive.
// Safe to call from any goroutine; it does I/O.
func (l *Log) Remove(seq uint64) error {
	if seq >= l.openSeq() {
		return fmt.Errorf("%w: segment %d", ErrSegmentActive, seq)
	}
	l.smu.Lock()
	i := l.segIndex(seq)
	if i < 0 || l.segs[i].removing {
		l.smu.Unlock()
		return fmt.Errorf("wal: remove segment %d: no such segment", seq)
	}
	l.segs[i].removing = true
	size, corrupt := l.segs[i].size, l.segs[i].corrupt || l.segs[i].bad != ""
	l.smu.Unlock()

	name := segName(l.o.Dir, seq)
	// A corrupt segment may hold more than its entries: never recycled.
	recycled := !corrupt && l.keepForRecycling(name, size)
	var err error
	if !recycled {
		err = l.fs.Remove(name)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.smu.Lock()
		l.segs[l.segIndex(seq)].removing = false
		l.smu.Unlock()
		return fmt.Errorf("wal: remove %s: %w", name, err)
	}
	l.smu.Lock()
	i = l.segIndex(seq)
	l.segs = append(l.segs[:i], l.segs[i+1:]...)
	l.smu.Unlock()
	if !recycled { // a kept one counts until a spare is made of it
		l.mu.Lock()
		l.used -= size
		l.mu.Unlock()
	}
	l.st.removed.Add(1)
	if err := l.fs.SyncDir(l.o.Dir); err != nil {
		return fmt.Errorf("wal: removed %s but could not sync its directory: %w", name, err)
	}
	l.log.Info().Str("event", "wal_segment_removed").Str("file", name).Int64("bytes", size).
		Bool("recycled", recycled).Msg("wal: segment removed")
	return nil
}

// segIndex finds seq in l.segs. Lock l.smu should be held.
func (l *Log) segIndex(seq uint64) int {
	for i := range l.segs {
		if l.segs[i].seq == seq {
			return i
		}
	}
	return -1
}

// ReadSegment calls fn for each entry of segment seq, in order, with the
// position Append returned for it; payload is valid only during the call.
// seq must be closed (older than the segment being written, else
// ErrSegmentActive); appends may go on meanwhile. It stops at fn's first
// error, and at a frame cut short or failing its checksum returns an error
// wrapping ErrCorrupt, naming the file and offset, after the entries
// before it. For compaction, which copies what is still live elsewhere.
func (l *Log) ReadSegment(seq uint64, fn func(pos Pos, kind byte, payload []byte) error) error {
	if seq >= l.openSeq() {
		return fmt.Errorf("%w: segment %d", ErrSegmentActive, seq)
	}
	name := segName(l.o.Dir, seq)
	f, err := l.fs.OpenFile(name, os.O_RDONLY)
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", name, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return fmt.Errorf("wal: stat %s: %w", name, err)
	}
	var h [headerSize]byte
	if size < headerSize {
		return fmt.Errorf("%w: %s: %d bytes, shorter than a header", ErrCorrupt, name, size)
	}
	if _, err := f.ReadAt(h[:], 0); err != nil {
		return fmt.Errorf("wal: read %s: %w", name, err)
	}
	sh, he := checkHeader(h[:], seq)
	if he != nil {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, name, he.reason)
	}
	off, bad, _, err := scanFrames(f, seq, sh.seed, headerSize, size, make([]byte, replayChunk), fn)
	if err != nil {
		return err
	}
	if bad != "" {
		return fmt.Errorf("%w: %s at offset %d: %s", ErrCorrupt, name, off, bad)
	}
	return nil
}
