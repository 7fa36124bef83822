package wal

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"
)

// replayChunk is how much of a segment Replay reads at a time.
const replayChunk = 1 << 20

// Replay calls fn for every intact entry in order, oldest segment first,
// with the position Append returned for it; payload is valid only during
// the call. The end of the last segment that is not a whole entry (the
// write a stop cut short) is truncated and logged. An entry that fails its
// checksum in an older segment ends that segment: the rest of it is
// skipped, counted and logged, and replay goes on with the next one. An
// error from fn stops the replay and is returned; the log can then only be
// closed. Call it once, before the first Append; on a new log it reads
// nothing. A last segment damaged beyond what a torn write explains (more
// than two buffers after the bad frame, not all zeros) is reported as
// corrupt, kept, and appends go on in a new segment.
func (l *Log) Replay(fn func(pos Pos, kind byte, payload []byte) error) (ReplayStats, error) {
	var rs ReplayStats
	l.mu.Lock()
	if l.replayed || l.closed {
		fresh := l.fresh && l.appends == 0 && !l.closed
		l.fresh = false
		l.mu.Unlock()
		if fresh {
			return rs, nil // a new log: nothing to read
		}
		return rs, ErrNotReplayed
	}
	l.mu.Unlock()
	t0 := time.Now()
	buf := make([]byte, replayChunk)
	l.smu.Lock()
	segs := append([]segment(nil), l.segs...)
	l.smu.Unlock()
	for i := range segs {
		s := &segs[i]
		last := i == len(segs)-1
		rs.Segments++
		if s.bad != "" {
			s.corrupt = true
			rs.CorruptSegments++
			rs.SkippedBytes += s.size
			l.log.Error().Str("event", "wal_corrupt_segment").Str("file", segName(l.o.Dir, s.seq)).
				Str("reason", s.bad).Int64("skipped_bytes", s.size).
				Msg("wal: segment header unreadable; segment skipped")
			continue
		}
		var err error
		buf, err = l.replaySegment(s, last, buf, fn, &rs)
		if err != nil {
			rs.Duration = time.Since(t0)
			return rs, err
		}
	}
	l.smu.Lock()
	l.segs = segs
	l.smu.Unlock()

	// The next append goes after the last intact entry, or into a new
	// segment when the last one is unreadable.
	tail := &segs[len(segs)-1]
	if tail.corrupt {
		if err := l.w.create(l, tail.seq+1); err != nil {
			rs.Duration = time.Since(t0)
			return rs, fmt.Errorf("wal: create segment %d in %s: %w", tail.seq+1, l.o.Dir, err)
		}
		l.mu.Lock()
		l.used += headerSize
		l.mu.Unlock()
		l.setTail(tail.seq+1, headerSize, frameSeed(tail.seq+1))
	} else {
		l.setTail(tail.seq, tail.end.Offset(), tail.hdr.seed)
	}
	l.mu.Lock()
	l.replayed = true
	l.mu.Unlock()
	l.start()
	rs.Duration = time.Since(t0)
	l.log.Info().Str("event", "wal_replayed").Str("dir", l.o.Dir).Int("segments", rs.Segments).
		Uint64("entries", rs.Entries).Int64("bytes", rs.Bytes).Int64("torn_bytes", rs.TornBytes).
		Int("corrupt_segments", rs.CorruptSegments).Dur("took", rs.Duration).Msg("wal: replayed")
	return rs, nil
}

// replaySegment reads segment s from its header on, calling fn per intact
// entry, and deals with what follows the last one: truncated when s is the
// last segment, reported when not. The last segment stays open in l.w for
// the appends that follow, unless it is corrupt. It returns buf, grown if
// an entry needed it.
func (l *Log) replaySegment(s *segment, last bool, buf []byte, fn func(Pos, byte, []byte) error, rs *ReplayStats) ([]byte, error) {
	name := segName(l.o.Dir, s.seq)
	flag := os.O_RDONLY
	if last {
		flag = os.O_RDWR
	}
	f, err := l.fs.OpenFile(name, flag)
	if err != nil {
		return buf, fmt.Errorf("wal: open %s: %w", name, err)
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	size, err := f.Size()
	if err != nil {
		return buf, fmt.Errorf("wal: stat %s: %w", name, err)
	}
	off, bad, buf, err := scanFrames(f, s.seq, s.hdr.seed, headerSize, size, buf, func(pos Pos, kind byte, payload []byte) error {
		rs.Entries++
		rs.Bytes += int64(frameHeader + len(payload))
		return fn(pos, kind, payload)
	})
	if err != nil {
		return buf, err
	}
	if bad != "" {
		dropped := size - off
		// A torn write leaves at most what was not yet fsynced, which the
		// writer keeps within unsyncedCap (two buffers), or zeros; more
		// than that after a bad frame is damage, kept on disk and
		// reported like an older segment's.
		torn := last && dropped <= l.unsyncedCap()
		if last && !torn {
			if s.hdr.recycled {
				torn, err = l.staleTail(f, s, off, size, buf)
			} else {
				torn, err = zeros(f, off, size, buf)
			}
			if err != nil {
				return buf, fmt.Errorf("wal: read %s: %w", name, err)
			}
		}
		if torn {
			if err := f.Truncate(off); err != nil {
				return buf, fmt.Errorf("wal: truncate the torn tail of %s at %d: %w", name, off, err)
			}
			if err := f.Sync(); err != nil {
				return buf, fmt.Errorf("wal: sync %s: %w", name, err)
			}
			rs.TornBytes += dropped
			l.mu.Lock()
			l.used -= dropped
			l.mu.Unlock()
			l.log.Warn().Str("event", "wal_torn_tail").Str("file", name).Int64("offset", off).
				Int64("bytes", dropped).Str("reason", bad).
				Msg("wal: cut the torn tail of the last segment (an entry being written when the process stopped)")
			size = off
		} else {
			s.corrupt = true
			rs.CorruptSegments++
			rs.SkippedBytes += dropped
			l.log.Error().Str("event", "wal_corrupt_segment").Str("file", name).Int64("offset", off).
				Int64("skipped_bytes", dropped).Str("reason", bad).
				Msg("wal: corrupt entry; the rest of this segment is skipped")
		}
	}
	s.size, s.end = size, mkpos(s.seq, off)
	if last && !s.corrupt {
		keep = true
		l.w.f, l.w.seq, l.w.end, l.w.syncEnd = f, s.seq, size, size
		l.w.unsynced.reset(size)
		l.open.Store(s.seq)
	}
	return buf, nil
}

// zeros reports whether the file holds only zero bytes from off to size.
func zeros(f File, off, size int64, buf []byte) (bool, error) {
	for off < size {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		for _, c := range buf[:n] {
			if c != 0 {
				return false, nil
			}
		}
		off += int64(n)
		if err != nil && err != io.EOF {
			return false, err
		}
		if n == 0 {
			break
		}
	}
	return true, nil
}

// staleScanBudget bounds the bytes staleTail checksums looking for the
// old frames' boundary.
const staleScanBudget = 64 << 20

// staleTail reports whether what follows the first bad frame (at off) of
// a recycled last segment is a torn write and the file's previous life:
// past the unsynced bytes a torn write can reach (unsyncedCap, which the
// writer keeps in every mode that recycles), the old frames (seeded
// with the header's stale seed) and then zeros, with no frame of this
// segment among them. The old frames' boundary is searched byte by byte
// within one frame's span; what it cannot explain within staleScanBudget
// is damage.
func (l *Log) staleTail(f File, s *segment, off, size int64, buf []byte) (bool, error) {
	from := off + l.unsyncedCap()
	if from >= size {
		return true, nil
	}
	span := frameHeader + l.maxPayload
	win := make([]byte, min(size-from, 2*int64(span)))
	n, err := f.ReadAt(win, from)
	if err != nil && err != io.EOF {
		return false, err
	}
	win = win[:n]
	last := len(win) - 1 // the window's last non-zero byte
	for last >= 0 && win[last] == 0 {
		last--
	}
	budget := staleScanBudget
	for p := 0; p < span && p+frameHeader <= len(win); p++ {
		if p > last { // zeros to the window's end: the rest must be zeros too
			return zeros(f, from+int64(len(win)), size, buf)
		}
		end := p + frameHeader + int(binary.LittleEndian.Uint32(win[p:]))
		if end-p-frameHeader > l.maxPayload || end > len(win) {
			continue
		}
		if budget -= end - p; budget < 0 {
			return false, nil
		}
		c, want := frameCRC(win[p+8], win[p+frameHeader:end]), binary.LittleEndian.Uint32(win[p+4:])
		if c^s.hdr.seed == want {
			return false, nil // this segment's entry where only old ones may be
		}
		if c^s.hdr.stale == want {
			q, _, _, err := scanFrames(f, s.seq, s.hdr.stale, from+int64(p), size, buf, func(Pos, byte, []byte) error { return nil })
			if err != nil {
				return false, err
			}
			return zeros(f, q, size, buf)
		}
	}
	return false, nil
}

// scanFrames calls fn for each intact entry of segment seq (open as f,
// size bytes, its frames seeded with seed) from offset from on. It stops
// at the first frame that is cut short or fails its checksum and returns
// its offset and why (bad == "" when the whole file was read), or at fn's
// first error.
func scanFrames(f File, seq uint64, seed uint32, from, size int64, buf []byte, fn func(Pos, byte, []byte) error) (off int64, bad string, _ []byte, err error) {
	off = from
	var win []byte // file bytes from off on, read but not consumed
	for off < size {
		if len(win) < frameHeader {
			if win, buf, err = refill(f, buf, win, off, size, frameHeader); err != nil {
				return off, "", buf, fmt.Errorf("wal: read %s: %w", segFile(f, seq), err)
			}
			if len(win) < frameHeader {
				return off, "entry header cut short", buf, nil
			}
		}
		total := frameHeader + int64(binary.LittleEndian.Uint32(win))
		if off+total > size {
			return off, "entry runs past the end of the file", buf, nil
		}
		if int64(len(win)) < total {
			if win, buf, err = refill(f, buf, win, off, size, int(total)); err != nil {
				return off, "", buf, fmt.Errorf("wal: read %s: %w", segFile(f, seq), err)
			}
		}
		kind, payload := win[8], win[frameHeader:total]
		if frameCRC(kind, payload)^seed != binary.LittleEndian.Uint32(win[4:]) {
			return off, "entry checksum mismatch", buf, nil
		}
		off += total
		if err := fn(mkpos(seq, off), kind, payload); err != nil {
			return off, "", buf, err
		}
		win = win[total:]
	}
	return off, "", buf, nil
}

// segFile names segment seq for an error message.
func segFile(f File, seq uint64) string {
	if n, ok := f.(interface{ Name() string }); ok {
		return n.Name()
	}
	return fmt.Sprintf("segment %d", seq)
}

// refill returns a window of at least need bytes of the file from off on
// (fewer only at its end), keeping the unconsumed bytes of win; buf grows
// when need is larger than it.
func refill(f File, buf, win []byte, off, size int64, need int) ([]byte, []byte, error) {
	if need > len(buf) {
		nb := make([]byte, need)
		copy(nb, win)
		win, buf = nb[:len(win)], nb
	} else {
		n := copy(buf, win)
		win = buf[:n]
	}
	for int64(len(win)) < size-off && len(win) < need {
		want := min(int64(len(buf)), size-off)
		n, err := f.ReadAt(buf[len(win):want], off+int64(len(win)))
		win = buf[:len(win)+n]
		if err != nil && err != io.EOF {
			return win, buf, err
		}
		if n == 0 {
			break
		}
	}
	return win, buf, nil
}
