package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Log is an open write-ahead log. Append, Written, Committed, OnCommit,
// WaitCommitted, Segments, Remove and Stats are safe for concurrent use;
// Replay and Close are called once each, by the owner.
type Log struct {
	o          Options
	fs         FS
	log        zerolog.Logger
	lock       *dirLock
	maxPayload int

	// mu guards the append side: the group being filled, the tail, the
	// disk budget, the device state and the refusal counters.
	mu       sync.Mutex
	active   *group
	tailSeq  uint64
	tailOff  int64
	tailSeed uint32 // the frame seed of segment tailSeq
	used     int64  // segment files plus appended bytes not written yet
	state    devState
	lastErr  error
	closed   bool
	replayed bool
	fresh    bool // opened empty: Replay has nothing to read
	idle     bool // the writer waits for a kick
	appends  uint64
	payload  uint64 // payload bytes appended (Stats.AppendedBytes)
	refused  [nRefusals]uint64

	// lazyArmed: lazyTimer runs for the active group's lazy entries;
	// lazyDue: it fired (or someone waits), take the group even without an
	// Append entry. lazyRode, lazyAlone: Stats.LazyRode, LazyAlone.
	lazyArmed, lazyDue  bool
	lazyTimer           *time.Timer
	lazyRode, lazyAlone uint64

	// lingerWant, lingerUntil: with SyncAlways, after a commit the writer
	// waits until the active group holds lingerWant Append entries or
	// lingerUntil passes (linger.go); 0: no wait.
	lingerWant  uint64
	lingerUntil time.Time
	// lingerFilled, lingerCut: lingers ended by the requests they waited
	// for, and by anything else (the deadline, a Sync, a lazy entry
	// waited on) (Stats).
	lingerFilled, lingerCut uint64

	// rotateNext: the next append begins the next segment, whose spare is
	// ready, however little the open one holds (rotateWhenReady).
	rotateNext bool

	written   atomic.Uint64 // after the last entry, lazy or not
	woken     atomic.Uint64 // after the last Append entry (Written)
	committed atomic.Uint64 // written (and with SyncAlways fsynced)
	synced    atomic.Uint64
	onCommit  atomic.Pointer[func(committed uint64)]
	open      atomic.Uint64 // the segment being written (see openSeq)
	// syncTarget: the highest position a Sync caller waits to see fsynced.
	// A position, not a flag: an entry appended just before Sync may reach
	// the writer after an fsync that a flag would have used up.
	syncTarget atomic.Uint64

	// Waiters of WaitCommitted sleep on ccond; the writer broadcasts only
	// when waiters > 0.
	cmu     sync.Mutex
	ccond   *sync.Cond
	waiters atomic.Int32

	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	running bool
	runErr  error // the writer's last failure at Close

	w    writer   // the log goroutine's own state
	prep preparer // the next segment's spare (prealloc.go)

	// smu guards segs, the segment files in order.
	smu  sync.Mutex
	segs []segment

	st statsState
}

type devState uint8

const (
	devOK devState = iota
	devFull
	devFailed
)

const (
	refHighWater = iota
	refDiskFull
	refFailed
	refBufferFull
	nRefusals
)

type segment struct {
	seq      uint64
	size     int64
	end      Pos
	corrupt  bool
	bad      string // why the header is unusable, found at Open
	hdr      segHeader
	removing bool
}

// Open opens (creating it if missing) the log in o.Dir and locks it. A log
// with segments must be replayed before the first Append.
func Open(o Options) (*Log, error) {
	if err := normalize(&o); err != nil {
		return nil, err
	}
	l := &Log{
		o:    o,
		fs:   o.FS,
		log:  o.Logger,
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	l.ccond = sync.NewCond(&l.cmu)
	l.lazyTimer = time.NewTimer(time.Hour)
	l.lazyTimer.Stop()
	l.w.linger = time.NewTimer(time.Hour)
	l.w.linger.Stop()
	l.prep.init()
	l.maxPayload = min(o.BufferSize, int(o.SegmentSize-headerSize)) - frameHeader
	l.active = newGroup(o.BufferSize)
	l.w.spare = newGroup(o.BufferSize)
	if o.Sync == SyncInterval {
		l.w.unsynced.buf = make([]byte, 0, l.unsyncedCap())
	}
	l.w.seq = ^uint64(0)

	if err := mkdirDurable(l.fs, o.Dir); err != nil {
		return nil, fmt.Errorf("wal: create data directory %s: %w", o.Dir, err)
	}
	lk, err := lockDir(o.Dir, o.LockWait, o.Logger)
	if err != nil {
		return nil, err
	}
	l.lock = lk
	// A spare left by a stop is stale (its header may name a segment that
	// exists now): the preparer makes a new one. Removed segments kept
	// for recycling go too.
	for i := -1; i < maxRecycled; i++ {
		name := l.spareName()
		if i >= 0 {
			name = l.recycleName(i)
		}
		if err := l.fs.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			_ = lk.unlock()
			return nil, fmt.Errorf("wal: remove %s: %w", name, err)
		}
	}
	if err := l.scan(); err != nil {
		_ = lk.unlock()
		return nil, err
	}
	if len(l.segs) == 0 {
		// A new log: nothing to replay.
		if err := l.w.create(l, 1); err != nil {
			_ = lk.unlock()
			return nil, fmt.Errorf("wal: create first segment in %s: %w", o.Dir, err)
		}
		l.used = headerSize
		l.setTail(1, headerSize, frameSeed(1))
		l.replayed, l.fresh = true, true
		l.start()
	}
	l.log.Info().Str("event", "wal_open").Str("dir", o.Dir).Int("segments", len(l.segs)).
		Int64("bytes", l.used).Str("sync", o.Sync.String()).Msg("wal: opened")
	return l, nil
}

// mkdirDurable creates dir and the parents it lacks, and fsyncs the
// directory above each one it created: the segments' own directory
// fsyncs do not make the data directory itself survive a host crash.
func mkdirDurable(fsys FS, dir string) error {
	var created []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := fsys.ReadDir(d); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		created = append(created, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	if err := fsys.MkdirAll(dir); err != nil {
		return err
	}
	for _, d := range created {
		if err := fsys.SyncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

func normalize(o *Options) error {
	if o.Dir == "" {
		return errors.New("wal: Options.Dir is empty")
	}
	if o.Sync > SyncNever {
		return fmt.Errorf("wal: Options.Sync %d is not a sync mode", o.Sync)
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.SyncInterval < 0 {
		return fmt.Errorf("wal: Options.SyncInterval %s is negative", o.SyncInterval)
	}
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
		if o.MaxDisk > 0 {
			o.SegmentSize = max(MinSegmentSize, min(o.SegmentSize, o.MaxDisk/8))
		}
	}
	if o.SegmentSize < MinSegmentSize || o.SegmentSize > MaxSegmentSize {
		return fmt.Errorf("wal: Options.SegmentSize %d is outside [%d, %d]", o.SegmentSize, MinSegmentSize, int64(MaxSegmentSize))
	}
	if o.BufferSize == 0 {
		o.BufferSize = DefaultBufferSize
	}
	if o.BufferSize < MinBufferSize {
		return fmt.Errorf("wal: Options.BufferSize %d is below %d", o.BufferSize, MinBufferSize)
	}
	if o.MaxDisk < 0 {
		return fmt.Errorf("wal: Options.MaxDisk %d is negative", o.MaxDisk)
	}
	if o.FS == nil {
		o.FS = OSFS{}
	}
	return nil
}

// scan lists the segments and checks their headers. A newer format
// refuses the directory; any other bad header marks the segment corrupt,
// for Replay to report, except a last segment shorter than a header: the
// process stopped while creating it, and it is begun again.
func (l *Log) scan() error {
	names, err := l.fs.ReadDir(l.o.Dir)
	if err != nil {
		return fmt.Errorf("wal: read data directory %s: %w", l.o.Dir, err)
	}
	for _, n := range names {
		if seq, ok := parseSegName(n); ok {
			l.segs = append(l.segs, segment{seq: seq})
		}
	}
	slices.SortFunc(l.segs, func(a, b segment) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	for i := range l.segs {
		s := &l.segs[i]
		name := segName(l.o.Dir, s.seq)
		f, err := l.fs.OpenFile(name, os.O_RDONLY)
		if err != nil {
			return fmt.Errorf("wal: open %s: %w", name, err)
		}
		size, err := f.Size()
		if err != nil {
			f.Close()
			return fmt.Errorf("wal: stat %s: %w", name, err)
		}
		s.size, s.end = size, mkpos(s.seq, size)
		if size < headerSize {
			f.Close()
			if i == len(l.segs)-1 {
				if err := l.restartSegment(s); err != nil {
					return err
				}
				continue
			}
			s.bad = fmt.Sprintf("%d bytes, shorter than a header", size)
			l.used += size
			continue
		}
		var h [headerSize]byte
		_, err = f.ReadAt(h[:], 0)
		f.Close()
		if err != nil && err != io.EOF {
			return fmt.Errorf("wal: read %s: %w", name, err)
		}
		sh, he := checkHeader(h[:], s.seq)
		s.hdr = sh
		if he != nil {
			if he.version != 0 {
				return fmt.Errorf("%w: %s has format version %d and this release reads up to %d; "+
					"run the release that wrote it, or restore the directory from a backup",
					ErrNewerFormat, name, he.version, formatVersion)
			}
			s.bad = he.reason
		}
		l.used += size
	}
	return nil
}

// restartSegment writes the header of a segment whose creation was cut
// short (it holds no entry).
func (l *Log) restartSegment(s *segment) error {
	name := segName(l.o.Dir, s.seq)
	l.log.Warn().Str("event", "wal_torn_segment").Str("file", name).Int64("bytes", s.size).
		Msg("wal: last segment was cut short while being created; writing its header again")
	f, err := l.fs.OpenFile(name, os.O_RDWR|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("wal: rewrite %s: %w", name, err)
	}
	h := appendHeader(make([]byte, 0, headerSize), s.seq, false, 0)
	if _, err = f.WriteAt(h, 0); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wal: rewrite %s: %w", name, err)
	}
	s.size, s.end = headerSize, mkpos(s.seq, headerSize)
	s.hdr = segHeader{seed: frameSeed(s.seq)}
	l.used += headerSize
	return nil
}

// setTail places the next append at off in segment seq, whose frames
// take seed. Before the writer runs only.
func (l *Log) setTail(seq uint64, off int64, seed uint32) {
	l.tailSeq, l.tailOff, l.tailSeed = seq, off, seed
	p := uint64(mkpos(seq, off))
	l.written.Store(p)
	l.committed.Store(p)
	l.synced.Store(p)
	l.active.reset(seq, off)
}

func (l *Log) start() {
	l.running = true
	go l.run()
	l.startPreparer()
}

// MaxPayload is the longest payload Append takes.
func (l *Log) MaxPayload() int { return l.maxPayload }

// Dir is the log's directory.
func (l *Log) Dir() string { return l.o.Dir }

// Close writes and fsyncs everything appended, whatever the sync mode,
// stops the log's goroutine and releases the directory lock. Appends after
// Close return ErrClosed. If the device still fails, Close gives up after
// one more try and returns the error: those entries are not on disk.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	var err error
	if l.running {
		<-l.done
		err = l.runErr
	} else if l.w.f != nil {
		err = l.w.f.Close()
		l.w.f = nil
	}
	l.stopPreparer() // after the writer, which may still take a spare
	l.wakeWaiters()
	if uerr := l.lock.unlock(); err == nil {
		err = uerr
	}
	ev := l.log.Info()
	if err != nil {
		ev = l.log.Error().Err(err)
	}
	ev.Str("event", "wal_close").Str("dir", l.o.Dir).Uint64("written", l.written.Load()).
		Uint64("synced", l.synced.Load()).Msg("wal: closed")
	return err
}

// retryBackoff bounds the wait between tries of a failed write.
const (
	retryFirst = 10 * time.Millisecond
	retryMax   = time.Second
)
