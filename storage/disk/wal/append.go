package wal

import "time"

// maxCuts bounds the segment changes one group may hold; with segments at
// least as large as the buffer there is at most one.
const maxCuts = 8

// group is one of the two buffers: appends fill one while the log's
// goroutine writes the other.
type group struct {
	buf     []byte // frames, back to back
	cuts    [maxCuts]cut
	ncuts   int
	seq     uint64 // segment of buf[0]
	off     int64  // and its offset there
	end     Pos    // after the last entry
	entries uint64
	lazy    uint64    // of which AppendLazy entries
	reqs    uint64    // of which Options.LingerKind entries (linger.go)
	wake    bool      // it holds an Append entry: write it now
	woke    time.Time // when its first Append entry came (Stats.GroupWait)
	piece   int       // the writer's progress through the pieces, kept across retries
}

// cut: from buf[at] on, the entries go to the new segment seq, after its
// header.
type cut struct {
	at  int
	seq uint64
}

func newGroup(size int) *group { return &group{buf: make([]byte, 0, size)} }

func (g *group) reset(seq uint64, off int64) {
	g.buf = g.buf[:0]
	g.ncuts, g.entries, g.lazy, g.reqs, g.piece = 0, 0, 0, 0, 0
	g.wake = false
	g.woke = time.Time{}
	g.seq, g.off, g.end = seq, off, 0
}

// bounds returns piece i of g: the bytes buf[lo:hi] go at offset off of
// segment seq.
func (g *group) bounds(i int) (seq uint64, off int64, lo, hi int) {
	seq, off = g.seq, g.off
	if i > 0 {
		seq, off, lo = g.cuts[i-1].seq, headerSize, g.cuts[i-1].at
	}
	hi = len(g.buf)
	if i < g.ncuts {
		hi = g.cuts[i].at
	}
	return seq, off, lo, hi
}

// Append copies one entry into the current group and returns the position
// just after it. It takes a short lock, does no I/O and allocates nothing;
// payload may be reused as soon as it returns. When the entry cannot be
// taken now it returns at once ErrDiskFull (budget or device full),
// ErrFailed (device error), ErrBufferFull (the device is behind),
// ErrTooLarge, ErrClosed or ErrNotReplayed. urgent lets the entry use the
// room above HighWater of MaxDisk and the last tenth of the buffer: for
// state changes of what was already accepted.
func (l *Log) Append(kind byte, payload []byte, urgent bool) (Pos, error) {
	return l.append(kind, payload, urgent, false)
}

// AppendLazy is Append for an entry no answer waits on: it does not wake
// the log's goroutine. The entry goes out with the group the next Append
// starts, or LazyDelay after it (or after the writer's last group) when
// none comes, and at Sync, WaitCommitted and Close. The log keeps its
// order, so any later entry found synced implies it is synced too.
func (l *Log) AppendLazy(kind byte, payload []byte, urgent bool) (Pos, error) {
	return l.append(kind, payload, urgent, true)
}

func (l *Log) append(kind byte, payload []byte, urgent, lazy bool) (Pos, error) {
	if len(payload) > l.maxPayload {
		return 0, ErrTooLarge
	}
	n := frameHeader + len(payload)
	crc := frameCRC(kind, payload)
	l.mu.Lock()
	g := l.active
	rotate := l.tailOff+int64(n) > l.o.SegmentSize || l.rotateNext
	if err := l.refuse(g, n, rotate, urgent); err != nil {
		l.mu.Unlock()
		return 0, err
	}
	if rotate {
		l.rotateNext = false
		l.tailSeq++
		l.tailOff = headerSize
		l.tailSeed = frameSeed(l.tailSeq)
		l.used += headerSize
		g.cuts[g.ncuts] = cut{at: len(g.buf), seq: l.tailSeq}
		g.ncuts++
	}
	at := len(g.buf)
	g.buf = g.buf[:at+n]
	putFrameHeader(g.buf[at:], kind, len(payload), crc^l.tailSeed)
	copy(g.buf[at+frameHeader:], payload)
	l.tailOff += int64(n)
	l.used += int64(n)
	pos := mkpos(l.tailSeq, l.tailOff)
	g.end = pos
	g.entries++
	l.appends++
	l.payload += uint64(len(payload))
	l.written.Store(uint64(pos))
	if lazy {
		g.lazy++
		// An idle writer takes it when the deadline comes; a busy one
		// arms the deadline itself when it finds only lazy entries (take).
		if l.idle {
			l.armLazy()
		}
		l.mu.Unlock()
		return pos, nil
	}
	if !g.wake {
		g.wake = true
		g.woke = time.Now() // once a group: what its writer's start waits for
	}
	l.woken.Store(uint64(pos))
	// A lingering writer is woken only once the group is as large as it
	// waits for (or by its deadline).
	if kind == l.o.LingerKind && !urgent {
		g.reqs++
	}
	kick := l.idle && g.reqs >= l.lingerWant
	if kick {
		l.idle = false
	}
	l.mu.Unlock()
	if kick {
		l.kickWriter()
	}
	return pos, nil
}

// armLazy starts the LazyDelay deadline of the lazy entries waiting in
// the active group, unless it runs already. Lock should be held.
func (l *Log) armLazy() {
	if !l.lazyArmed {
		l.lazyArmed = true
		l.lazyTimer.Reset(LazyDelay)
	}
}

// hurry makes the writer take the lazy entries waiting in the active group
// now: someone waits on them.
func (l *Log) hurry() {
	l.mu.Lock()
	g := l.active
	kick := false
	if !g.wake && g.entries > 0 {
		l.lazyDue = true
		kick = l.idle
		l.idle = false
	}
	l.mu.Unlock()
	if kick {
		l.kickWriter()
	}
}

// refuse returns why an entry of n bytes cannot be appended to g now, and
// counts it. Lock should be held.
func (l *Log) refuse(g *group, n int, rotate, urgent bool) error {
	switch {
	case l.closed:
		return ErrClosed
	case !l.replayed:
		return ErrNotReplayed
	case l.state == devFull:
		l.refused[refDiskFull]++
		return ErrDiskFull
	case l.state == devFailed:
		l.refused[refFailed]++
		return ErrFailed
	}
	if max := l.o.MaxDisk; max > 0 {
		need := l.used + int64(n)
		if rotate {
			need += headerSize
		}
		if need > max {
			l.refused[refDiskFull]++
			return ErrDiskFull
		}
		if !urgent && need > max/100*HighWater {
			l.refused[refHighWater]++
			return ErrDiskFull
		}
	}
	limit := cap(g.buf)
	if !urgent {
		limit = limit / 10 * 9
	}
	// An empty buffer takes any entry up to MaxPayload.
	if (len(g.buf) > 0 && len(g.buf)+n > limit) || (rotate && g.ncuts == maxCuts) {
		l.refused[refBufferFull]++
		return ErrBufferFull
	}
	return nil
}

// Written is the position after the last entry Append returned, or
// Committed when that is further: the position to wait on for every
// Append before the call. AppendLazy entries move it only once committed,
// so a waiter never waits on one (up to LazyDelay) that a goroutine
// appended meanwhile.
func (l *Log) Written() uint64 { return max(l.woken.Load(), l.committed.Load()) }

// Appended is the position after the last entry taken, AppendLazy ones
// included: what a crash copy taken once it is committed holds.
func (l *Log) Appended() uint64 { return l.written.Load() }

// Committed is the position up to which entries count as committed: with
// SyncAlways written and fsynced; with SyncInterval and SyncNever written to
// the operating system (a kill -9 loses nothing up to it, a host crash
// may).
func (l *Log) Committed() uint64 { return l.committed.Load() }

// Synced is the position up to which entries are on disk, in every mode.
func (l *Log) Synced() uint64 { return l.synced.Load() }

// OnCommit sets fn, called on the log's goroutine after each group is
// committed, with the new Committed position. fn must not block or call
// WaitCommitted. Set it before the first Append.
func (l *Log) OnCommit(fn func(committed uint64)) { l.onCommit.Store(&fn) }

// WaitCommitted blocks until pos (a position Append returned) is
// committed. It returns ErrDiskFull or ErrFailed if the device fails while
// it waits (the entry may still be written later, when a retry succeeds),
// and ErrClosed if the log closed first. For goroutines that may block
// (connector workers), never event loops.
func (l *Log) WaitCommitted(pos uint64) error {
	if l.Committed() >= pos {
		return nil
	}
	if pos > l.woken.Load() {
		l.hurry() // pos is a lazy entry's, after the last Append
	}
	l.cmu.Lock()
	l.waiters.Add(1)
	var err error
	for l.committed.Load() < pos {
		if err = l.deviceErr(); err != nil {
			break
		}
		if l.isClosedAndDone() {
			err = ErrClosed
			break
		}
		l.ccond.Wait()
	}
	l.waiters.Add(-1)
	l.cmu.Unlock()
	return err
}

// Sync writes and fsyncs everything appended before the call, whatever
// the sync mode, and waits for it: for compaction, before Remove drops the
// only other copy of what it re-appended. It returns ErrDiskFull or
// ErrFailed while the device fails, ErrClosed at Close, ErrNotReplayed
// before Replay. It blocks: never from an event loop.
func (l *Log) Sync() error {
	target := l.written.Load()
	if l.synced.Load() >= target {
		return nil
	}
	l.mu.Lock()
	replayed := l.replayed
	l.mu.Unlock()
	if !replayed {
		return ErrNotReplayed
	}
	for {
		cur := l.syncTarget.Load()
		if cur >= target || l.syncTarget.CompareAndSwap(cur, target) {
			break
		}
	}
	l.kickWriter()
	l.cmu.Lock()
	l.waiters.Add(1)
	var err error
	for l.synced.Load() < target {
		if err = l.deviceErr(); err != nil {
			break
		}
		if l.isClosedAndDone() {
			err = ErrClosed
			break
		}
		l.ccond.Wait()
	}
	l.waiters.Add(-1)
	l.cmu.Unlock()
	return err
}

func (l *Log) deviceErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.state {
	case devFull:
		return ErrDiskFull
	case devFailed:
		return ErrFailed
	}
	return nil
}

func (l *Log) isClosedAndDone() bool {
	select {
	case <-l.stop:
	default:
		return false
	}
	if !l.running {
		return true
	}
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// wakeWaiters wakes WaitCommitted callers to check their position again.
func (l *Log) wakeWaiters() {
	if l.waiters.Load() > 0 {
		l.cmu.Lock()
		l.ccond.Broadcast()
		l.cmu.Unlock()
	}
}

// kickWriter wakes the log's goroutine without blocking (a wake already
// pending is enough).
func (l *Log) kickWriter() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}
