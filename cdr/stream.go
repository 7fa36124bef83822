package cdr

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/logthrottle"
	"github.com/smppd/smppd/internal/ring"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Options configure a Stream. Zero values take the defaults in brackets
// (the [cdr] defaults of docs/CONFIG.md).
type Options struct {
	// Dir holds the files; created 0750 when missing. Required.
	Dir string
	// MaxFileSize: a line that would take the file being written past it
	// closes that file first [64 MiB].
	MaxFileSize int64
	// MaxFileAge: the file being written is closed this long after its
	// first line [1h].
	MaxFileAge time.Duration
	// Retention: a closed file is removed once its close is this old [30 days].
	Retention time.Duration
	// QueueSize bounds the final states waiting for the writer; one
	// reported while it is full is dropped and counted [65536].
	QueueSize int
	// HighWater is the share of QueueSize, in percent, past which Backlog
	// is raised (new MT refused; backlog.go) [DefaultHighWater];
	// MinHighWater..MaxHighWater.
	HighWater int
	// ReadyGrace is how long Backlog must have stayed up before
	// BacklogLasting reports it (GET /v1/ready): admission reacts at once,
	// readiness only to a backlog that lasts [0, at once].
	ReadyGrace time.Duration
	// MaskContent leaves the message text out of lines and lookups.
	MaskContent bool
	// Messages is where each line's record is read; required.
	Messages storage.Messages
	// UpstreamIDs gives the upstream id of a final state reported without
	// one (a receipt); nil = only those reported with one.
	UpstreamIDs storage.UpstreamIDs
	// Connectors name the routing ids records carry.
	Connectors []string
	// ConnectorName, when set, names them instead, for a list that grows
	// while the stream runs (connectors added live); "" when unknown.
	// Called once per line: it must not allocate.
	ConnectorName func(id int32) string
	Logger        zerolog.Logger
	// Now is the clock (tests); nil = time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultMaxFileSize = 64 << 20
	DefaultMaxFileAge  = time.Hour
	DefaultRetention   = 30 * 24 * time.Hour
	DefaultQueueSize   = 65536
)

// Writer timing: the writer wakes on the first final state after it went
// idle, waits coalesce for more (one write(2) per batch, not per line),
// and fsyncs the file being written every syncEvery. tick drives age
// rotation and retention while nothing arrives.
const (
	coalesce  = 5 * time.Millisecond
	syncEvery = time.Second
	tick      = time.Second
	batchLen  = 512
	// writeChunk: the encoded lines written in one write(2) while the
	// queue has more, ending on a multiple of it in the file (write).
	// s.out is made with room for a chunk and outCap more (the line that
	// passed the chunk; what a write keeps is less than a chunk), so that
	// it never grows: growing by append's steps left four times its size behind
	// as garbage, resident until a collection that the load (allocating
	// nothing) does not bring (BENCHMARKS.md, issue 17's resident memory).
	writeChunk = 256 << 10
	outCap     = 16 << 10
	// yieldEvery: lines encoded between two yields of the writer's P. A
	// drain keeps its P while it encodes (about a millisecond per 5 ms
	// batch at 500,000 lines/s, a write(2) every ~800 lines); an event
	// loop back from epoll_wait while both Ps are busy waits for it. A
	// writer that is behind (its queue past an eighth of the high-water
	// mark) does not yield: yielding always raised the backlogs
	// (BENCHMARKS.md, "The CDR writer's read and its yields").
	yieldEvery = 64
)

// storedGetter is a store that reads a record without the view Get puts
// over a state decided at acceptance, and without that view's clock read
// per record: a line's state is the event's, not the record's.
type storedGetter interface {
	GetStored(id msg.ID, out *storage.Record) error
}

// ErrNoMessages: Options.Messages is required.
var ErrNoMessages = errors.New("cdr: Options.Messages is required")

// event is one queued final state: fixed size (40 octets), no pointers.
type event struct {
	id       msg.ID
	done     int64
	err      uint16
	state    msg.State
	refunded bool
	up       upID
}

// Stats are the stream's counters since Open.
type Stats struct {
	Written     uint64 // lines written
	Dropped     uint64 // final states refused because the queue was full
	Missing     uint64 // lines written without their record (erased or gone before the writer read it)
	WriteErrors uint64 // failed creates, writes, syncs and closes of files
	Rotations   uint64 // files closed by size or age
	Removed     uint64 // closed files removed by retention
	Erased      uint64 // lines removed by erasures
	Files       int    // closed files kept
	Bytes       int64  // bytes of the closed files and the file being written
	Queue       int    // final states waiting for the writer
	Backlogs    uint64 // times the queue passed its high-water mark (Backlog raised)
	Backlog     bool   // the queue is past its high-water mark now: new MT is refused
}

// Stream is the CDR stream: Final queues, one writer goroutine writes.
type Stream struct {
	opts Options
	now  func() time.Time
	get  func(msg.ID, *storage.Record) error // the writer's read: GetStored when the store has it, else Get
	log  zerolog.Logger
	q    *ring.MPSC[event]
	sp   *spill // the events' upstream ids without a compact form
	bell *ring.Notify
	// high and low are the queue lengths that raise and lower backlog.
	high, low int
	backlog   backlogFlag
	raisedAt  atomic.Int64 // when backlog was raised (Unix ns); 0 while it is down

	// mu is the writer's: the file being written, the batch and the
	// encoder. filesMu guards fs.closed (retention and erasure).
	mu      sync.Mutex
	filesMu sync.Mutex
	fs      *fileSet
	enc     encoder
	rec     storage.Record
	batch   []event
	bi      int    // batch[bi:] are still to be encoded
	out     []byte // encoded lines not yet written to fs.cur
	outN    uint64 // lines in out
	line    []byte
	held    bool // line is batch[bi]'s, held back for the next file
	up      []byte
	synced  int64 // when fs.cur was last fsynced (Unix ns)
	dirty   bool  // written since
	closed  bool

	sy       syncer // the fsyncs (syncer.go)
	stop     chan struct{}
	stopOnce sync.Once
	stopped  chan struct{}
	started  bool

	written, dropped, missing, writeErrs, rotations, removed, erased, backlogs atomic.Uint64
	bytes                                                                      atomic.Int64
	warnFull, warnWrite, warnBacklog, warnCleared                              logthrottle.Gate

	eraseJob eraseJob
}

// Open locks opts.Dir, closes a file a crash left open (its torn last
// line cut) and returns the stream, not yet writing: call Start.
func Open(opts Options) (*Stream, error) {
	if opts.Messages == nil {
		return nil, ErrNoMessages
	}
	if opts.Dir == "" {
		return nil, errors.New("cdr: Options.Dir is required")
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.MaxFileAge <= 0 {
		opts.MaxFileAge = DefaultMaxFileAge
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.HighWater == 0 {
		opts.HighWater = DefaultHighWater
	}
	if opts.HighWater < MinHighWater || opts.HighWater > MaxHighWater {
		return nil, fmt.Errorf("cdr: queue_high_water %d is out of range %d..%d", opts.HighWater, MinHighWater, MaxHighWater)
	}
	if opts.ReadyGrace < 0 {
		return nil, fmt.Errorf("cdr: ready_grace %v is negative", opts.ReadyGrace)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	q, err := ring.NewMPSC[event](opts.QueueSize)
	if err != nil {
		return nil, fmt.Errorf("cdr: queue_size %d: %w", opts.QueueSize, err)
	}
	fs, err := openFiles(opts.Dir)
	if err != nil {
		return nil, err
	}
	s := &Stream{
		// The spill slab has a slot for every queued event, every event
		// of the writer's batch and some pushes under way.
		opts: opts, now: opts.Now, q: q, sp: newSpill(q.Cap() + batchLen + 1024), bell: ring.NewNotify(), fs: fs,
		log:   opts.Logger.With().Str("component", "cdr").Logger(),
		batch: make([]event, 0, batchLen), up: make([]byte, 0, storage.MaxUpstreamID),
		out:  make([]byte, 0, writeChunk+outCap),
		stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	s.get = opts.Messages.Get
	if g, ok := opts.Messages.(storedGetter); ok {
		s.get = g.GetStored
	}
	s.enc = encoder{connectors: opts.Connectors, name: opts.ConnectorName, maskContent: opts.MaskContent}
	s.high = max(1, q.Cap()*opts.HighWater/100)
	s.low = s.high / 2
	logthrottle.Set(10*time.Second, 1, &s.warnFull, &s.warnWrite, &s.warnBacklog, &s.warnCleared)
	s.startSyncer()
	var size int64
	for _, f := range fs.closed {
		size += f.size
	}
	s.bytes.Store(size)
	s.log.Info().Str("event", "cdr_open").Str("dir", opts.Dir).Int("files", len(fs.closed)).
		Int64("bytes", size).Msg("CDR stream open")
	if len(fs.crashed) > 0 {
		s.log.Warn().Str("event", "cdr_unclean_stop").Strs("files", fs.crashed).
			Msg("the last run stopped without closing its CDR file (a crash): closed now; final states still queued then have no line (docs/CDR.md, reconciling)")
	}
	return s, nil
}

// Start runs the writer goroutine until Close.
func (s *Stream) Start() {
	s.started = true
	go s.run()
}

// Final implements the hub's hook (flow.Finals, delivery.Finals): it
// queues f for the writer and never blocks, and raises Backlog past the
// high-water mark. A full queue drops f, counted in Stats.Dropped and
// logged (throttled).
func (s *Stream) Final(f msg.Final) {
	ev := event{id: f.ID, done: f.Done, err: f.Err, state: f.State, refunded: f.Refunded}
	if !ev.up.set(f.UpstreamID, s.sp) || !s.q.TryPush(ev) {
		ev.up.drop(s.sp)
		n := s.dropped.Add(1)
		if e := s.warnFull.Event(&s.log, zerolog.ErrorLevel, time.Now().UnixNano()); e != nil {
			e.Str("event", "cdr_dropped").Stringer("id", f.ID).Uint64("dropped_total", n).Int("queue_size", s.q.Cap()).
				Msg("CDR queue full (the writer is behind: a slow or failing disk): record dropped")
		}
		return
	}
	s.checkBacklog() // before the bell: the writer's next step sees it raised
	s.bell.Ring()
}

func (s *Stream) run() {
	defer close(s.stopped)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.bell.C():
			s.bell.Clear()
			if !s.backlog.on.Load() { // behind: no time to wait for more
				time.Sleep(coalesce)
			}
		case <-t.C:
		}
		s.mu.Lock()
		s.step(s.now().UnixNano())
		s.mu.Unlock()
		s.lowerBacklog()
	}
}

// step writes what is queued, then does the timed work: age rotation,
// fsync, retention. Writer only, s.mu held.
func (s *Stream) step(now int64) {
	s.drain(now)
	if s.fs.cur != nil && now-s.fs.start >= int64(s.opts.MaxFileAge) && len(s.out) == 0 {
		s.rotate(now)
	}
	if s.sy.failed.Load() && s.sy.failed.CompareAndSwap(true, false) {
		s.dirty = true // the last periodic sync failed: try again next period
	}
	if s.fs.cur != nil && s.dirty && now-s.synced >= int64(syncEvery) && s.syncCurrent() {
		s.synced, s.dirty = now, false
	}
	s.retain(now)
}

// drain encodes and writes queued events until the queue is empty or a
// write fails (what was not written waits in s.out and s.batch for the
// next step; the queue fills meanwhile).
func (s *Stream) drain(now int64) {
	for {
		if s.fs.cur != nil && now-s.fs.start >= int64(s.opts.MaxFileAge) {
			if len(s.out) > 0 && !s.write(now, true) {
				return
			}
			s.rotate(now)
		}
		// While the queue has more, lines wait in s.out only while the
		// next are encoded, never for time: one write(2) per writeChunk
		// (ending on a page boundary), the rest when the queue is empty.
		if len(s.out) >= writeChunk && !s.write(now, false) {
			return
		}
		if s.bi == len(s.batch) {
			s.batch, s.bi = s.q.PopBatch(s.batch[:0]), 0
			// Per batch, not only once the queue is empty: while the flag is
			// up every session waits unread, and with admission stopped the
			// queue's second half would otherwise hold it up for as long again.
			s.lowerBacklog()
			if len(s.batch) == 0 {
				if len(s.out) > 0 {
					s.write(now, true)
				}
				return
			}
		}
		full := false
		for ; s.bi < len(s.batch); s.bi++ {
			if !s.held {
				s.line = s.encode(s.line[:0], &s.batch[s.bi])
			}
			s.held = false
			if pending := s.fs.size + int64(len(s.out)); pending > 0 && pending+int64(len(s.line)) > s.opts.MaxFileSize {
				s.held = true // encoded once (read once, counted once): it opens the next file
				full = true
				break
			}
			s.out = append(s.out, s.line...)
			s.outN++
			if s.outN%yieldEvery == 0 && s.q.Len() < s.high/8 {
				runtime.Gosched()
			}
			if len(s.out) >= writeChunk { // written at the loop's top: s.out stays in its first capacity
				s.bi++
				break
			}
		}
		if full {
			if len(s.out) > 0 && !s.write(now, true) {
				return
			}
			s.rotate(now)
		}
	}
}

// encode appends ev's line (with its newline) to dst.
func (s *Stream) encode(dst []byte, ev *event) []byte {
	s.up = ev.up.get(s.up, s.sp)
	v := view{rec: &s.rec, state: ev.state, err: ev.err, done: ev.done, refunded: ev.refunded, cdr: true,
		upstreamID: s.up}
	if err := s.get(ev.id, &s.rec); err != nil {
		s.rec = storage.Record{ID: ev.id}
		v.missing = true
		s.missing.Add(1)
	}
	if len(s.up) == 0 && s.opts.UpstreamIDs != nil {
		if up, ok := s.opts.UpstreamIDs.UpstreamOf(ev.id, s.up[:0]); ok {
			s.up, v.upstreamID = up, up
		}
	}
	dst = s.enc.appendView(dst, &v)
	return append(dst, '\n')
}

// write appends s.out to the file being written, creating it first when
// there is none; false when it failed (the rest of s.out is kept). With
// all false it writes only up to the file's last writeChunk boundary and
// keeps the tail for the next write: a write that starts and ends on
// those boundaries fills one large folio of the page cache (ext4) instead
// of a run of small ones growing from an unaligned start, and costs the
// kernel less per byte (BENCHMARKS.md, the CDR writer's kernel side).
func (s *Stream) write(now int64, all bool) bool {
	if s.fs.cur == nil {
		if err := s.fs.create(now); err != nil {
			s.writeFailed("create", err)
			return false
		}
		s.sy.jobs <- syncJob{kind: syncDirOf} // the new name is durable with the first sync of its lines
		s.synced = now
	}
	b := s.out
	if !all {
		end := (s.fs.size + int64(len(b))) &^ (writeChunk - 1)
		if end <= s.fs.size {
			return true
		}
		b = b[:end-s.fs.size]
	}
	n, err := s.fs.cur.Write(b)
	s.fs.size += int64(n)
	s.bytes.Add(int64(n))
	s.out = s.out[:copy(s.out, s.out[n:])]
	if n > 0 {
		s.dirty = true
	}
	if err != nil {
		s.writeFailed("write", err)
		return false
	}
	// The lines kept back (the last one maybe begun in the file) count
	// once their end is written.
	kept := uint64(bytes.Count(s.out, newline))
	s.written.Add(s.outN - kept)
	s.outN = kept
	return true
}

var newline = []byte{'\n'}

// pageSize aligns the writes that leave lines for the next one.
var pageSize = int64(os.Getpagesize())

// rotate hands the file being written (if any) to the syncer, which
// syncs, closes, renames and lists it; the next line opens a new one.
func (s *Stream) rotate(now int64) {
	if s.fs.cur == nil {
		return
	}
	f, part, info := s.fs.detach(now)
	s.dirty = false
	s.sy.jobs <- syncJob{kind: syncSeal, f: f, part: part, info: info}
}

// retain removes the closed files whose close is older than Retention.
func (s *Stream) retain(now int64) {
	cutoff := now - int64(s.opts.Retention)
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	keep := s.fs.closed[:0]
	for _, f := range s.fs.closed {
		if f.end >= cutoff {
			keep = append(keep, f)
			continue
		}
		if err := os.Remove(filepath.Join(s.fs.dir, f.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.writeFailed("remove", err)
			keep = append(keep, f)
			continue
		}
		s.removed.Add(1)
		s.bytes.Add(-f.size)
		s.log.Info().Str("event", "cdr_removed").Str("file", f.name).Msg("CDR file past its retention removed")
	}
	s.fs.closed = keep
}

func (s *Stream) writeFailed(op string, err error) {
	n := s.writeErrs.Add(1)
	if e := s.warnWrite.Event(&s.log, zerolog.ErrorLevel, time.Now().UnixNano()); e != nil {
		e.Str("event", "cdr_write_failed").Str("op", op).Str("dir", s.fs.dir).Err(err).Uint64("write_errors_total", n).
			Msg("CDR file operation failed: retried, final states queue meanwhile")
	}
}

// Close writes what is queued, closes the file being written and unlocks
// the directory. Stop every reporter (the hub) first: a final state
// reported after Close is dropped.
func (s *Stream) Close() error {
	if s.started {
		s.stopOnce.Do(func() { close(s.stop) })
		<-s.stopped
	}
	s.eraseJob.wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	now := s.now().UnixNano()
	s.drain(now)
	var err error
	if len(s.out) > 0 || s.bi < len(s.batch) {
		err = fmt.Errorf("cdr: %d bytes of lines could not be written to %s", len(s.out), s.fs.dir)
	}
	s.rotate(now)
	s.stopSyncer()
	s.fs.lock.Release()
	st := s.Stats()
	s.log.Info().Str("event", "cdr_closed").Uint64("written", st.Written).Uint64("dropped", st.Dropped).
		Uint64("write_errors", st.WriteErrors).Msg("CDR stream closed")
	return err
}

// Stats returns the counters; any goroutine.
func (s *Stream) Stats() Stats {
	s.filesMu.Lock()
	files := len(s.fs.closed)
	s.filesMu.Unlock()
	return Stats{
		Written: s.written.Load(), Dropped: s.dropped.Load(), Missing: s.missing.Load(),
		WriteErrors: s.writeErrs.Load(), Rotations: s.rotations.Load(), Removed: s.removed.Load(),
		Erased: s.erased.Load(), Files: files, Bytes: s.bytes.Load(), Queue: s.q.Len(),
		Backlogs: s.backlogs.Load(), Backlog: s.backlog.on.Load(),
	}
}
