package wal

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// writer is the state only the log's goroutine touches (and Open and
// Replay before it starts).
type writer struct {
	f        File         // the segment being written; nil between segments
	seq      uint64       // its number
	end      int64        // after the last byte written to it
	prealloc bool         // it was a spare: zeros follow end, cut at the rotation
	asked    bool         // the next segment's spare was asked for (wantSpare)
	bare     int          // fsyncs of this segment, not begun from a spare (earlySpare)
	early    bool         // the spare was asked for early: rotate to it once ready
	spare    *group       // the buffer not being filled
	dirty    bool         // written since the last fsync
	syncEnd  int64        // end at the last fsync of this segment (unsyncedCap)
	hdrDirty bool         // the header create wrote is not fsynced yet
	resync   bool         // an fsync failed: write what it covered again first
	unsynced unsyncedCopy // with SyncInterval: the bytes resync writes again
	noWSync  bool         // the file layer cannot write and sync in one call
	lastEnd  Pos          // after the last entry written
	lastSync time.Time
	failing  bool
	failedAt time.Time
	aboveHW  bool
	tick     *time.Timer // the next interval fsync
	armed    bool        // tick is set
	backoff  *time.Timer // the next try of a failed write
	linger   *time.Timer // the end of a linger (linger.go)
	fsyncAvg time.Duration
	// lingerSkip: commits to go before the next linger; lingerBack: the
	// skip after the next linger that falls short (linger.go).
	lingerSkip, lingerBack int
}

// run is the log's goroutine: it takes each group, writes it (fsyncing as
// the mode says), commits it, and at stop drains what is left.
func (l *Log) run() {
	defer close(l.done)
	w := &l.w
	w.tick = time.NewTimer(time.Hour)
	w.tick.Stop()
	w.backoff = time.NewTimer(time.Hour)
	w.backoff.Stop()
	w.lastSync = time.Now()
	for {
		// A Sync waits on everything appended before it, lazy or not.
		if g := l.take(l.syncTarget.Load() > l.synced.Load()); g != nil {
			if err := l.retry(g); err != nil {
				l.finish(err)
				return
			}
			l.commit(g)
			if err := l.intervalSync(); err != nil {
				l.finish(err)
				return
			}
			continue
		}
		// Everything appended before a Sync call is written now.
		if l.syncTarget.Load() > l.synced.Load() {
			if err := l.retry(nil); err != nil {
				l.finish(err)
				return
			}
		}
		select {
		case <-l.kick:
		case <-l.lazyTimer.C:
			l.mu.Lock()
			l.lazyArmed, l.lazyDue = false, true
			l.mu.Unlock()
		case <-w.linger.C:
			l.mu.Lock()
			if l.lingerWant > 0 {
				l.lingerEnded(l.active.reqs >= l.lingerWant)
			}
			l.mu.Unlock()
		case <-w.tick.C:
			w.armed = false
			if err := l.intervalSync(); err != nil {
				l.finish(err)
				return
			}
		case <-l.stop:
			l.finish(l.drain())
			return
		}
	}
}

// intervalSync, with SyncInterval, fsyncs when the oldest unsynced write is
// SyncInterval old, and otherwise arms the timer for that moment. Under
// steady load it runs after every group, so the timer is only for a log
// that went quiet.
func (l *Log) intervalSync() error {
	w := &l.w
	if l.o.Sync != SyncInterval || !w.dirty {
		return nil
	}
	wait := l.o.SyncInterval - time.Since(w.lastSync)
	if wait > 0 {
		if !w.armed {
			w.tick.Reset(wait)
			w.armed = true
		}
		return nil
	}
	return l.retry(nil)
}

// take swaps the buffers and returns the group to write, or nil (and marks
// the writer idle) when nothing was appended, or only AppendLazy entries
// whose deadline has not come and force is false: they wait for an Append
// to start the group, and the deadline is armed.
func (l *Log) take(force bool) *group {
	l.mu.Lock()
	g := l.active
	if len(g.buf) == 0 && g.ncuts == 0 {
		l.idle = true
		l.mu.Unlock()
		return nil
	}
	if !g.wake && !l.lazyDue && !force {
		l.armLazy()
		l.idle = true
		l.mu.Unlock()
		return nil
	}
	if l.lingerWant > 0 && !force && !l.lazyDue && g.reqs < l.lingerWant && time.Now().Before(l.lingerUntil) {
		l.idle = true // Append kicks once the group holds lingerWant; the timer runs
		l.mu.Unlock()
		return nil
	}
	if l.lingerWant > 0 {
		l.lingerEnded(g.reqs >= l.lingerWant)
	}
	if g.wake {
		l.lazyRode += g.lazy
		l.st.waited(time.Since(g.woke))
	} else {
		l.lazyAlone += g.lazy
	}
	l.lazyDue = false
	if l.lazyArmed {
		l.lazyArmed = false
		l.lazyTimer.Stop()
	}
	next := l.w.spare
	next.reset(l.tailSeq, l.tailOff)
	l.active = next
	l.w.spare = g
	l.mu.Unlock()
	return g
}

// drain writes what is still appended after stop, then fsyncs.
func (l *Log) drain() error {
	for {
		g := l.take(true)
		if g == nil {
			break
		}
		if err := l.retry(g); err != nil {
			return err
		}
		l.commit(g)
	}
	if l.w.dirty {
		if err := l.retry(nil); err != nil {
			return err
		}
	}
	return nil
}

// finish closes the segment and records err for Close. A prepared
// segment is cut to its entries first, so a clean stop leaves no zeros.
func (l *Log) finish(err error) {
	if w := &l.w; w.f != nil && w.prealloc && err == nil {
		if err = w.f.Truncate(w.end); err == nil {
			err = w.f.Sync()
		}
	}
	if l.w.f != nil {
		if cerr := l.w.f.Close(); err == nil {
			err = cerr
		}
		l.w.f = nil
	}
	if err != nil {
		err = fmt.Errorf("wal: stopped with the entries after position %d (up to %d) not on disk: %w",
			l.synced.Load(), l.written.Load(), err)
	}
	l.runErr = err
}

// retry writes g (or, for nil, fsyncs the segment) until it succeeds. While
// the device fails, appends are refused and the tries back off from 10 ms
// to 1 s; once stop is closed it tries once more and gives up.
func (l *Log) retry(g *group) error {
	w := &l.w
	backoff := retryFirst
	for {
		var err error
		if g != nil {
			err = l.flush(g)
		} else {
			err = l.syncFile()
		}
		if err == nil {
			if w.failing {
				l.recovered()
			}
			return nil
		}
		l.failed(err)
		select {
		case <-l.stop:
			if g != nil {
				err = l.flush(g)
			} else {
				err = l.syncFile()
			}
			if err == nil {
				l.recovered()
			}
			return err
		default:
		}
		w.backoff.Reset(backoff)
		select {
		case <-w.backoff.C:
		case <-l.stop:
			w.backoff.Stop()
		}
		backoff = min(2*backoff, retryMax)
	}
}

// flush writes g piece by piece, opening the next segment at each cut, and
// with SyncAlways fsyncs at the end. It resumes at g.piece after a failure;
// WriteAt at a fixed offset makes a repeated write harmless.
func (l *Log) flush(g *group) error {
	w := &l.w
	for g.piece <= g.ncuts {
		seq, off, lo, hi := g.bounds(g.piece)
		if err := l.toSegment(seq, g); err != nil {
			return err
		}
		if hi > lo {
			if err := l.capUnsynced(off + int64(hi-lo)); err != nil {
				return err // the piece is written after the fsync's retry
			}
			synced, err := l.writePiece(g.buf[lo:hi], off, g.piece == g.ncuts)
			if err != nil {
				return err
			}
			if synced {
				w.end = off + int64(hi-lo)
				w.syncEnd = w.end
				l.segWritten(seq, w.end)
				l.wantSpare()
				g.piece++
				continue
			}
			w.dirty = true
			w.unsynced.keep(g.buf[lo:hi], off)
			w.end = off + int64(hi-lo)
			l.segWritten(seq, w.end)
			l.wantSpare()
		}
		g.piece++
	}
	if l.o.Sync == SyncAlways {
		if err := l.syncFile(); err != nil {
			// After a failed fsync the kernel may have dropped the dirty
			// pages: write the last piece again before the next fsync.
			g.piece = g.ncuts
			return err
		}
	}
	return nil
}

// unsyncedCap is the most of a segment that may be written and not yet
// fsynced: two group buffers. Replay relies on it: what follows the first
// bad frame of the last segment by more than this cannot be a torn write
// (replaySegment, staleTail). SyncAlways keeps it by itself (each group,
// at most one buffer, is fsynced before the next is written); with
// SyncInterval the groups of one interval are written back to back (10 ms
// default, up to 1 s: hundreds of MiB at full rate), so capUnsynced
// fsyncs early when they would pass it. With SyncNever the cap is not
// kept (only leaving a segment fsyncs it, toSegment), but such a log
// never recycles or preallocates (preallocating): after a host crash its
// open segment holds past its entries zeros, cut as a torn tail, or this
// run's own frames beyond a page the kernel had not written back,
// reported as a corrupt segment. No frame is taken for an entry it was
// not: one verifies only under its own segment's seed (format.go). A
// recycled last segment an earlier run left is cut to its entries by
// Replay (truncated, fsynced) before the first append.
func (l *Log) unsyncedCap() int64 { return 2 * int64(l.o.BufferSize) }

// capUnsynced fsyncs the open segment first when writing up to end would
// leave more than unsyncedCap of it unsynced.
func (l *Log) capUnsynced(end int64) error {
	w := &l.w
	if l.o.Sync == SyncNever || !w.dirty || end-w.syncEnd <= l.unsyncedCap() {
		return nil
	}
	return l.syncFile()
}

// writePiece writes b at off of the open segment; true when it is also
// fsynced. With SyncAlways the group's last piece, when nothing else in
// the segment waits for an fsync, is written and synced in one call
// (writeSyncer), the fsync counted as one.
func (l *Log) writePiece(b []byte, off int64, last bool) (bool, error) {
	w := &l.w
	ws, ok := w.f.(writeSyncer)
	if !ok || !last || w.dirty || w.noWSync || l.o.Sync != SyncAlways {
		_, err := w.f.WriteAt(b, off)
		return false, err
	}
	t0 := time.Now()
	_, err := ws.WriteAtSync(b, off)
	if errors.Is(err, ErrNoWriteSync) {
		w.noWSync = true
		_, err = w.f.WriteAt(b, off)
		return false, err
	}
	if err != nil {
		w.dirty = true // what it wrote, if anything, is not known synced
		if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) {
			// Its fdatasync half may be what failed: a failed fsync, counted
			// and logged as one (the piece is written again before the retry).
			l.syncFailed(err, off+int64(len(b)))
		}
		return false, err
	}
	l.didSync(t0, time.Since(t0))
	return true, nil
}

// toSegment makes seq the open segment: the previous one is fsynced and
// closed, the new one created.
func (l *Log) toSegment(seq uint64, g *group) error {
	w := &l.w
	if w.f != nil && w.seq == seq {
		return nil
	}
	if w.f != nil {
		if w.prealloc {
			// Only the last segment may end in zeros.
			if err := w.f.Truncate(w.end); err != nil {
				return err
			}
			w.prealloc, w.dirty = false, true
		}
		// In every mode: with SyncNever too, or Synced, which the next
		// fsync of the new segment moves past this one's entries, would
		// claim them on disk (compaction removes a segment once its
		// copies are synced), and a host crash could tear any segment.
		if w.dirty {
			if err := l.syncFile(); err != nil {
				if g.piece > 0 {
					g.piece-- // write the old segment's piece again
				}
				return err
			}
		}
		// The data is fsynced: an error closing the descriptor changes
		// nothing.
		_ = w.f.Close()
		w.f = nil
	}
	if l.preallocating() {
		if l.prep.take(seq) {
			f, err := l.openSpare(seq)
			if err == nil {
				l.prep.made.Add(1)
				w.opened(l, f, seq, true)
				return nil
			}
			l.log.Warn().Str("event", "wal_prealloc_failed").Str("dir", l.o.Dir).Uint64("segment", seq).Err(err).
				Msg("wal: could not take the prepared segment; creating it")
		}
	}
	return w.create(l, seq)
}

// create creates segment seq with its header and makes its directory entry
// durable.
func (w *writer) create(l *Log, seq uint64) error {
	name := segName(l.o.Dir, seq)
	f, err := l.fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	var h [headerSize]byte
	if _, err = f.WriteAt(appendHeader(h[:0], seq, false, 0), 0); err == nil {
		err = l.fs.SyncDir(l.o.Dir)
	}
	if err != nil {
		f.Close()
		return err
	}
	w.opened(l, f, seq, false)
	w.dirty, w.hdrDirty = true, true // the header: the entries' fsync covers it
	return nil
}

// opened makes f, with its header, the segment being written.
func (w *writer) opened(l *Log, f File, seq uint64, spare bool) {
	w.f, w.seq, w.end, w.prealloc, w.asked = f, seq, headerSize, spare, false
	w.bare, w.early = 0, false
	w.syncEnd = headerSize
	w.resync, w.hdrDirty = false, false
	w.unsynced.reset(headerSize)
	l.open.Store(seq)
	l.smu.Lock()
	if n := len(l.segs); n == 0 || l.segs[n-1].seq < seq {
		l.segs = append(l.segs, segment{seq: seq, size: headerSize, end: mkpos(seq, headerSize)})
	}
	l.smu.Unlock()
}

// segWritten records that segment seq now ends at end.
func (l *Log) segWritten(seq uint64, end int64) {
	l.smu.Lock()
	if n := len(l.segs); n > 0 && l.segs[n-1].seq == seq && l.segs[n-1].size < end {
		l.segs[n-1].size, l.segs[n-1].end = end, mkpos(seq, end)
	}
	l.smu.Unlock()
}

// syncFile fsyncs the open segment and records how long it took.
func (l *Log) syncFile() error {
	w := &l.w
	if w.f == nil || !w.dirty {
		return nil
	}
	if w.resync {
		if err := l.rewriteUnsynced(); err != nil {
			return err
		}
	}
	t0 := time.Now()
	err := w.f.Sync()
	d := time.Since(t0)
	if err != nil {
		l.syncFailed(err, w.end)
		return err
	}
	l.didSync(t0, d)
	return nil
}

// unsyncedCopy is, with SyncInterval, a copy of the bytes of the open
// segment written since its last fsync: buf holds the file's bytes from
// off on, up to the writer's end. A failed fsync may have dropped those
// dirty pages (Linux marks them clean after a writeback error and reports
// the error once: a later fsync succeeds with the data gone), so they are
// written again from here before the next fsync. capUnsynced keeps them
// within unsyncedCap, the capacity made at Open. With SyncAlways the only
// unsynced bytes are the group's last piece, which flush writes again
// itself; with SyncNever they are unbounded and not kept.
type unsyncedCopy struct {
	off int64
	buf []byte // nil: not kept (the other modes)
}

// reset empties the copy: the segment is synced up to off.
func (c *unsyncedCopy) reset(off int64) { c.off, c.buf = off, c.buf[:0] }

// keep records b, just written at off of the open segment. The writer
// writes a segment in order and writes a failed piece again at the same
// offset, so off is never past the copy's end nor before its start.
func (c *unsyncedCopy) keep(b []byte, off int64) {
	if c.buf == nil {
		return
	}
	at := off - c.off
	if at < 0 || at > int64(len(c.buf)) {
		panic(fmt.Sprintf("BUG: wal: write at %d outside the unsynced copy [%d, %d]", off, c.off, c.off+int64(len(c.buf))))
	}
	c.buf = append(c.buf[:at], b...)
}

// syncFailed records a failed fsync of the open segment, which covered
// its bytes up to to: counted, logged once per run of failures, and the
// next fsync writes first what this one covered (rewriteUnsynced).
func (l *Log) syncFailed(err error, to int64) {
	w := &l.w
	l.st.fsyncFailures.Add(1)
	if w.resync {
		return
	}
	w.resync = true
	ev := l.log.Error().Str("event", "wal_fsync_failed").Str("dir", l.o.Dir).Uint64("segment", w.seq).
		Int64("unsynced_from", w.syncEnd).Int64("unsynced_to", to).Err(err)
	if l.o.Sync == SyncNever {
		ev.Msg("wal: fsync failed; the kernel may have dropped what it covered, which sync = never keeps nowhere else: " +
			"appends are refused until the log is reopened and replays what is on disk")
		return
	}
	ev.Msg("wal: fsync failed; the kernel may have dropped what it covered: it is written again from memory before the next fsync")
}

// rewriteUnsynced writes again what a failed fsync covered: the header
// of a segment create made and the copy of the entries (SyncInterval).
// SyncAlways's entries are its group's last piece, which flush has just
// written again. The flag stays until an fsync succeeds. With SyncNever
// there is no copy: a later fsync that succeeded would have Synced claim
// entries that may be gone (and compaction remove their only other copy),
// so it fails for good with ErrUnsyncedLost.
func (l *Log) rewriteUnsynced() error {
	w := &l.w
	if l.o.Sync == SyncNever {
		return ErrUnsyncedLost
	}
	if w.hdrDirty {
		var h [headerSize]byte
		if _, err := w.f.WriteAt(appendHeader(h[:0], w.seq, false, 0), 0); err != nil {
			return err
		}
	}
	if c := &w.unsynced; len(c.buf) > 0 {
		if _, err := w.f.WriteAt(c.buf, c.off); err != nil {
			return err
		}
	}
	if l.o.Sync != SyncNever {
		l.st.rewrites.Add(1)
	}
	return nil
}

// didSync records an fsync begun at t0 that took d: the open segment is
// clean, what was written before it is synced.
func (l *Log) didSync(t0 time.Time, d time.Duration) {
	w := &l.w
	l.st.fsync(d)
	if w.fsyncAvg == 0 {
		w.fsyncAvg = d
	} else {
		w.fsyncAvg += (d - w.fsyncAvg) / 8
	}
	w.dirty, w.resync, w.hdrDirty = false, false, false
	w.syncEnd = w.end
	w.unsynced.reset(w.end)
	w.lastSync = t0
	if !w.prealloc {
		if w.bare++; w.bare == bareSyncs {
			l.earlySpare()
		}
	}
	if uint64(w.lastEnd) > l.synced.Load() {
		l.synced.Store(uint64(w.lastEnd))
		l.wakeWaiters() // Sync callers
	}
}

// commit publishes g: Committed moves to its end, OnCommit runs, waiters
// wake.
func (l *Log) commit(g *group) {
	w := &l.w
	if g.end != 0 {
		w.lastEnd = g.end
	}
	if l.o.Sync == SyncAlways && !w.dirty {
		l.synced.Store(uint64(w.lastEnd))
	}
	l.committed.Store(uint64(w.lastEnd))
	l.st.group(g.entries)
	// Before the answers: a request they bring back may come before
	// OnCommit returns, and must not count as one that was waiting.
	l.lingerAfter(g)
	if fn := l.onCommit.Load(); fn != nil && g.entries > 0 {
		t0 := time.Now()
		(*fn)(uint64(w.lastEnd))
		l.st.answered(time.Since(t0))
	}
	l.wakeWaiters()
	l.highWater()
	if w.early {
		l.rotateWhenReady()
	}
}

// failed puts the log in the failed state for err: appends are refused at
// once until a retry succeeds. The transition is logged; the retries are
// counted.
func (l *Log) failed(err error) {
	st := devFailed
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		st = devFull
	}
	l.st.writeErrors.Add(1)
	l.mu.Lock()
	prev := l.state
	l.state, l.lastErr = st, err
	l.mu.Unlock()
	if !l.w.failing || prev != st {
		l.w.failing = true
		if l.w.failedAt.IsZero() {
			l.w.failedAt = time.Now()
		}
		l.log.Error().Str("event", "wal_device_failed").Str("dir", l.o.Dir).Bool("disk_full", st == devFull).
			Err(err).Msg("wal: write failed; appends are refused until a retry succeeds")
	}
	l.wakeWaiters()
}

// recovered ends the failed state after a successful retry.
func (l *Log) recovered() {
	l.mu.Lock()
	l.state = devOK
	l.mu.Unlock()
	l.log.Warn().Str("event", "wal_device_recovered").Str("dir", l.o.Dir).
		Dur("outage", time.Since(l.w.failedAt)).Msg("wal: writes succeed again; appends are taken")
	l.w.failing = false
	l.w.failedAt = time.Time{}
}

// highWater logs when the disk budget crosses HighWater, either way.
func (l *Log) highWater() {
	if l.o.MaxDisk <= 0 {
		return
	}
	l.mu.Lock()
	used := l.used
	l.mu.Unlock()
	above := used > l.o.MaxDisk/100*HighWater
	if above == l.w.aboveHW {
		return
	}
	l.w.aboveHW = above
	if above {
		l.log.Warn().Str("event", "wal_high_water").Int64("bytes", used).Int64("max_disk", l.o.MaxDisk).
			Msg("wal: disk budget past its high-water mark; only urgent appends are taken")
		return
	}
	l.log.Info().Str("event", "wal_below_high_water").Int64("bytes", used).Int64("max_disk", l.o.MaxDisk).
		Msg("wal: disk budget back under its high-water mark")
}
