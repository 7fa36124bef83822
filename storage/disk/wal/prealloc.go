package wal

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Preallocation (Options.Preallocate). An fdatasync of entries appended to
// a file must also write the file's new size and block allocation (the
// inode, or a journal commit); when the entries overwrite blocks already
// written and synced, it flushes the data alone. Here (ext4 on a virtio
// disk, 64 KiB per fsync, 1,500 fsyncs a run) that was a p50 of 0.18 ms
// against 0.29-0.38 ms, and a mean of 0.31-0.45 ms against 0.82-1.39 ms.
// So the next segment is made ahead of time, off the writer's path, once
// the open one is half written: a spare file filled with zeros to
// SegmentSize, its header written, fsynced. At the rotation the writer renames it to the segment's name
// (and fsyncs the directory) instead of creating a file, and cuts the
// segment it leaves to the end of its entries, so only the last segment
// ever carries a zero tail, which Replay cuts like a torn one. A spare not
// ready in time is no wait: the segment is created as without
// preallocation. PostgreSQL zero-fills its WAL segments the same way
// (wal_init_zero).
//
// The zeros cost CPU (1.4-3 ms per 4 MiB here) and write each segment's
// bytes twice, so a segment that compaction removes is recycled instead
// while fewer than maxRecycled wait: Remove renames it (recycleName) and
// the preparer makes it a spare with a new header. Its blocks are written
// and synced, so the new entries overwrite them as they would zeros; the
// old entries past them fail the new segment's frame seed (format.go),
// and Replay tells them from damage (staleTail). fallocate(2), tried
// instead of the zeros, leaves unwritten extents that each fdatasync must
// convert: p50 0.18-0.31 ms against 0.11-0.18 for zeros, and 80-100 us of
// CPU per write and fsync against 46-60.

// spareName is the spare segment's file in the log's directory; it is no
// segment name, and Open removes one left by a stop.
const spareName = "next-segment.tmp"

// recycleName is the prefix of the removed segments kept for the next
// spares (recycled-segment-N.tmp, N < maxRecycled); Open removes those a
// stop left.
const recycleName = "recycled-segment-"

// maxRecycled bounds the removed segments kept; they count in the disk
// budget until a spare is made of them. Compaction removes segments in
// bursts: in BenchmarkLifecycleBytes (1 M messages) one kept made 49-51%
// of the spares, two 50-55%, four 66-69%.
const maxRecycled = 4

// zeroChunk is the size of the zero writes that fill a spare.
const zeroChunk = 1 << 20

// preparer is the goroutine that prepares spares.
type preparer struct {
	want chan uint64 // the segment to prepare next (latest wins)
	stop chan struct{}
	done chan struct{}

	running bool // the goroutine was started (Log.start)

	mu         sync.Mutex
	ready      uint64 // the segment the spare on disk is complete for (0: none)
	recyclable int    // removed segments waiting, recycleName(0..recyclable-1)
	keptSize   [maxRecycled]int64

	made, missed, failed, recycled atomic.Uint64
}

func (p *preparer) init() {
	p.want = make(chan uint64, 1)
	p.stop = make(chan struct{})
	p.done = make(chan struct{})
}

// request asks for segment seq's spare; it never blocks, and a request
// not yet taken is replaced.
func (p *preparer) request(seq uint64) {
	for {
		select {
		case p.want <- seq:
			return
		default:
		}
		select {
		case <-p.want:
		default:
		}
	}
}

// take claims the spare for segment seq: true when it is complete (the
// caller renames it), false when it is not (the caller creates the
// segment; counted).
func (p *preparer) take(seq uint64) bool {
	p.mu.Lock()
	ok := p.ready == seq
	if ok {
		p.ready = 0
	}
	p.mu.Unlock()
	if !ok {
		p.missed.Add(1)
	}
	return ok
}

func (l *Log) spareName() string { return filepath.Join(l.o.Dir, spareName) }

func (l *Log) recycleName(i int) string {
	return filepath.Join(l.o.Dir, recycleName+strconv.Itoa(i)+".tmp")
}

// keepForRecycling renames the removed segment name (size bytes, still
// counted in the budget) to a recycleName when spares are made, fewer than
// maxRecycled wait and the disk budget has room for a spare beside them;
// false when the caller is to delete it.
func (l *Log) keepForRecycling(name string, size int64) bool {
	if !l.preallocating() || !l.roomFor(3) {
		return false
	}
	p := &l.prep
	p.mu.Lock()
	defer p.mu.Unlock()
	// Under p.mu: the preparer takes the last one by its name.
	if p.recyclable >= maxRecycled || l.fs.Rename(name, l.recycleName(p.recyclable)) != nil {
		return false
	}
	p.keptSize[p.recyclable] = size
	p.recyclable++
	return true
}

// prepare is the preparer's goroutine.
func (l *Log) prepare() {
	p := &l.prep
	defer close(p.done)
	zeros := make([]byte, zeroChunk)
	for {
		var seq uint64
		select {
		case <-p.stop:
			return
		case seq = <-p.want:
		}
		if !l.roomForSpare() {
			continue
		}
		p.mu.Lock()
		p.ready = 0 // the file is about to be rewritten
		p.mu.Unlock()
		err := l.fillSpare(seq, zeros, p.stop)
		if errors.Is(err, errStopped) {
			return
		}
		if err != nil {
			_ = l.fs.Remove(l.spareName())
			p.failed.Add(1) // after the removal: Stats sees the spare gone
			l.log.Warn().Str("event", "wal_prealloc_failed").Str("dir", l.o.Dir).Uint64("segment", seq).Err(err).
				Msg("wal: could not prepare the next segment; it will be created when needed")
			continue
		}
		p.mu.Lock()
		p.ready = seq
		p.mu.Unlock()
	}
}

var errStopped = errors.New("wal: stopped")

// roomForSpare reports whether a spare fits under the disk budget's
// high-water mark with room for the segment being written.
func (l *Log) roomForSpare() bool { return l.roomFor(2) }

// roomFor reports whether n more segments fit under the disk budget's
// high-water mark.
func (l *Log) roomFor(n int64) bool {
	if l.o.MaxDisk <= 0 {
		return true
	}
	l.mu.Lock()
	used := l.used
	l.mu.Unlock()
	return used+n*l.o.SegmentSize <= l.o.MaxDisk/100*HighWater
}

// fillSpare writes the spare for segment seq: a recycled segment with its
// new header when one waits, else zeros to SegmentSize and the header;
// then an fsync.
func (l *Log) fillSpare(seq uint64, zeros []byte, stop <-chan struct{}) error {
	p := &l.prep
	p.mu.Lock()
	var err error
	recycle := p.recyclable > 0
	var kept int64
	if recycle {
		p.recyclable--
		kept = p.keptSize[p.recyclable]
		err = l.fs.Rename(l.recycleName(p.recyclable), l.spareName())
	}
	p.mu.Unlock()
	if recycle {
		// A spare, recycled or not, is outside the budget (roomForSpare).
		l.mu.Lock()
		l.used -= kept
		l.mu.Unlock()
		ok := false
		if err == nil {
			ok, err = l.recycle(seq)
		}
		if ok {
			p.recycled.Add(1)
			return nil
		}
		if err != nil {
			l.log.Warn().Str("event", "wal_recycle_failed").Str("dir", l.o.Dir).Uint64("segment", seq).Err(err).
				Msg("wal: could not reuse a removed segment; filling the next one with zeros")
		}
	}
	f, err := l.fs.OpenFile(l.spareName(), os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	defer f.Close()
	for off := int64(0); off < l.o.SegmentSize; off += int64(len(zeros)) {
		select {
		case <-stop:
			return errStopped
		default:
		}
		n := min(int64(len(zeros)), l.o.SegmentSize-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
	}
	var h [headerSize]byte
	if _, err := f.WriteAt(appendHeader(h[:0], seq, false, 0), 0); err != nil {
		return err
	}
	return f.Sync()
}

// recycle makes the removed segment renamed to the spare's name the spare
// for segment seq: sized to SegmentSize, its header naming seq and the
// seed of the old frames it keeps, fsynced. false without an error when
// the old header is unusable (or its seed is seq's): the caller fills
// zeros instead.
func (l *Log) recycle(seq uint64) (bool, error) {
	f, err := l.fs.OpenFile(l.spareName(), os.O_RDWR)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var h [headerSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		return false, err
	}
	old, _, he := parseHeader(h[:])
	if he != nil || old.seed == frameSeed(seq) {
		return false, nil
	}
	if size, err := f.Size(); err != nil || size != l.o.SegmentSize {
		if err == nil {
			err = f.Truncate(l.o.SegmentSize)
		}
		if err != nil {
			return false, err
		}
	}
	// Its pages may have left the cache: read them back ahead of the
	// writer, whose writes of part of a page would otherwise wait for it.
	if fd, ok := f.(interface{ Fd() uintptr }); ok {
		_ = unix.Fadvise(int(fd.Fd()), 0, l.o.SegmentSize, unix.FADV_WILLNEED)
	}
	if _, err := f.WriteAt(appendHeader(h[:0], seq, true, old.seed), 0); err != nil {
		return false, err
	}
	return true, f.Sync()
}

// startPreparer starts the goroutine when Options.Preallocate asks for it.
func (l *Log) startPreparer() {
	if l.preallocating() {
		l.prep.running = true
		go l.prepare()
	}
}

// bareSyncs is how many fsyncs a segment not begun from a spare takes
// before the next spare is asked for at once (earlySpare). Such a segment
// is the first of a new log, the one a restart goes on writing (its zero
// tail was cut) and one whose spare was not ready: each entry appended
// grows the file, so each fdatasync also writes the inode (ext4 without a
// journal here: a second synchronous write, ext4_write_inode) or a
// journal commit. At window 1 that is every submit until the segment is
// half written, tens of seconds to hours after a start at low rates. The
// spare costs the zeros of one segment ahead of time; a log that fsyncs
// less than this (a test, an idle server) never pays for it.
const bareSyncs = 256

// earlySpare asks for the next segment's spare now, and has the writer
// rotate to it as soon as it is ready (rotateWhenReady). Writer only.
func (l *Log) earlySpare() {
	w := &l.w
	if w.asked || !l.preallocating() {
		return
	}
	w.asked, w.early = true, true
	l.prep.request(w.seq + 1)
}

// rotateWhenReady, while an early spare is awaited, checks after each
// commit whether it is ready, and then makes the next append begin its
// segment. A spare that never comes (no room, a failure) leaves the
// rotation to the segment's end, as without it. Writer only.
func (l *Log) rotateWhenReady() {
	w := &l.w
	p := &l.prep
	p.mu.Lock()
	ready := p.ready == w.seq+1
	p.mu.Unlock()
	if !ready {
		return
	}
	w.early = false
	l.mu.Lock()
	if l.tailSeq == w.seq {
		l.rotateNext = true
	}
	l.mu.Unlock()
}

// wantSpare asks for the next segment's spare once the open one is half
// written: time enough to fill it, and a log that writes little (a test,
// an idle server) never pays for one. Writer only.
func (l *Log) wantSpare() {
	w := &l.w
	if w.asked || !l.preallocating() || w.end < l.o.SegmentSize/2 {
		return
	}
	w.asked = true
	l.prep.request(w.seq + 1)
}

// preallocating: spares are made (never with SyncNever, which fsyncs a
// segment only as it leaves it: nothing to speed up).
func (l *Log) preallocating() bool { return l.o.Preallocate && l.o.Sync != SyncNever }

// stopPreparer stops the goroutine and removes a spare left on disk.
func (l *Log) stopPreparer() {
	if !l.prep.running {
		return
	}
	close(l.prep.stop)
	<-l.prep.done
	_ = l.fs.Remove(l.spareName())
	for i := range maxRecycled {
		_ = l.fs.Remove(l.recycleName(i))
	}
}

// openSpare makes the prepared spare segment seq's file: renamed, its
// directory entry fsynced, opened.
func (l *Log) openSpare(seq uint64) (File, error) {
	name := segName(l.o.Dir, seq)
	if err := l.fs.Rename(l.spareName(), name); err != nil {
		return nil, err
	}
	if err := l.fs.SyncDir(l.o.Dir); err != nil {
		return nil, err
	}
	return l.fs.OpenFile(name, os.O_RDWR)
}
