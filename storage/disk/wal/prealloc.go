package wal

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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
// preallocation. The price is each segment's bytes written twice, which
// matters only near the device's bandwidth. PostgreSQL zero-fills its WAL
// segments the same way (wal_init_zero).

// spareName is the spare segment's file in the log's directory; it is no
// segment name, and Open removes one left by a stop.
const spareName = "next-segment.tmp"

// zeroChunk is the size of the zero writes that fill a spare.
const zeroChunk = 1 << 20

// preparer is the goroutine that prepares spares.
type preparer struct {
	want chan uint64 // the segment to prepare next (latest wins)
	stop chan struct{}
	done chan struct{}

	running bool // the goroutine was started (Log.start)

	mu    sync.Mutex
	ready uint64 // the segment the spare on disk is complete for (0: none)

	made, missed, failed atomic.Uint64
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
func (l *Log) roomForSpare() bool {
	if l.o.MaxDisk <= 0 {
		return true
	}
	l.mu.Lock()
	used := l.used
	l.mu.Unlock()
	return used+2*l.o.SegmentSize <= l.o.MaxDisk/100*HighWater
}

// fillSpare writes the spare for segment seq: zeros to SegmentSize, the
// header, an fsync.
func (l *Log) fillSpare(seq uint64, zeros []byte, stop <-chan struct{}) error {
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
	if _, err := f.WriteAt(appendHeader(h[:0], seq), 0); err != nil {
		return err
	}
	return f.Sync()
}

// startPreparer starts the goroutine when Options.Preallocate asks for it.
func (l *Log) startPreparer() {
	if l.preallocating() {
		l.prep.running = true
		go l.prepare()
	}
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

// preallocating: spares are made (never with SyncNever, which makes no
// fsync to speed up).
func (l *Log) preallocating() bool { return l.o.Preallocate && l.o.Sync != SyncNever }

// stopPreparer stops the goroutine and removes a spare left on disk.
func (l *Log) stopPreparer() {
	if !l.prep.running {
		return
	}
	close(l.prep.stop)
	<-l.prep.done
	_ = l.fs.Remove(l.spareName())
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
