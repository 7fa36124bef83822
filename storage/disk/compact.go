package disk

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// Compaction drops the oldest segment. Every object anchored there (whose
// latest full-state entry is there) gets its full state appended again at
// the tail, every balance that depends on it a snapshot; once those
// entries are on disk the segment file is removed. Only the oldest segment
// goes, so an entry that changed an object (a state, an ack) never
// outlives the full state it applies to in a way replay could misread:
// the full state comes first in the log, the change after, and a copy made
// by compaction comes after both.
//
// A segment is dropped when at most half of it would be copied (an
// estimate from the live count), or, past compactPressure percent of
// MaxDisk, when at most nine tenths would. Records live for hours, so
// the oldest segments are mostly dead by the time they are looked at.

// Compaction tuning.
const (
	// liveEstimate is the bytes a live object is counted as when deciding
	// whether a segment is worth dropping (a final record's copy is about
	// 120 bytes, one with a body more).
	liveEstimate = 160
	// compactPressure: past this percent of MaxDisk, segments with up to
	// nine tenths live are dropped too.
	compactPressure = 60
	// compactRound bounds the segments one round drops, so Close never
	// waits long.
	compactRound = 64
	// appendRetry bounds the pauses (1 ms each) for room in the log's
	// buffer while copying one object (the device is behind).
	appendRetry = 200
)

// errCompactBusy: the log's buffer stayed full while compaction copied;
// the segment stays for the next round.
var errCompactBusy = errors.New("disk: compaction: the log stayed busy")

// compactor runs compaction on the store's goroutine.
type compactor struct {
	s           *Store
	mu          sync.Mutex // one compaction at a time
	kickc       chan struct{}
	stopc       chan struct{}
	done        chan struct{}
	backlog     atomic.Int64
	compactions atomic.Uint64
	copied      atomic.Uint64
	copiedBytes atomic.Uint64 // payload bytes of the copies (write amplification)
	failures    atomic.Uint64
}

func (c *compactor) start(s *Store) {
	c.s = s
	c.kickc = make(chan struct{}, 1)
	c.stopc = make(chan struct{})
	c.done = make(chan struct{})
	if s.o.CompactEvery < 0 {
		close(c.done)
		return
	}
	go c.run(s.o.CompactEvery)
}

func (c *compactor) run(every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stopc:
			return
		case <-t.C:
		case <-c.kickc:
		}
		if _, err := c.s.compact(false, c.stopc); err != nil {
			c.failures.Add(1)
			c.s.lg.Warn().Str("event", "store_compaction_failed").Err(err).
				Uint64("failures_total", c.failures.Load()).Msg("store: compaction stopped; the segment stays for the next round")
		}
	}
}

// kick asks for a round now (Sweep calls it); never blocks.
func (c *compactor) kick() {
	select {
	case c.kickc <- struct{}{}:
	default:
	}
}

func (c *compactor) stop() {
	close(c.stopc)
	<-c.done
}

func (c *compactor) stats() (backlog int64, compactions, copied uint64) {
	return c.backlog.Load(), c.compactions.Load(), c.copied.Load()
}

// Compact runs one round of compaction now and returns how many segments
// it removed. force drops every closed segment whatever its live share
// (tests, benchmarks; an operator's tool). Safe to call with the store's
// goroutine running.
func (s *Store) Compact(force bool) (int, error) { return s.compact(force, nil) }

// compact drops the oldest closed segments while they are worth it (or
// all of them, forced), at most compactRound, until stop closes.
func (s *Store) compact(force bool, stop <-chan struct{}) (int, error) {
	c := &s.compactor
	c.mu.Lock()
	defer c.mu.Unlock()
	removed := 0
	defer func() { s.noteBacklog() }()
	for removed < compactRound {
		select {
		case <-stop:
			return removed, nil
		default:
		}
		segs := s.log.Segments()
		if len(segs) == 0 || segs[0].Active {
			return removed, nil
		}
		seg := segs[0]
		if !force && !s.worth(seg) {
			return removed, nil
		}
		if err := s.dropSegment(seg, stop); err != nil {
			select {
			case <-stop: // closing: the segment stays for the next start
				return removed, nil
			default:
			}
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// liveUpTo is how many objects are anchored in segments up to seg.
func (s *Store) liveUpTo(seg uint64) int {
	n := 0
	for i := range s.recs {
		sh := &s.recs[i]
		sh.mu.Lock()
		n += sh.live.upTo(seg)
		sh.mu.Unlock()
	}
	for i := range s.ups {
		for _, sh := range []*upShard{&s.ups[i], &s.revs[i]} {
			sh.mu.Lock()
			n += sh.live.upTo(seg)
			sh.mu.Unlock()
		}
	}
	s.holds.mu.Lock()
	n += s.holds.live.upTo(seg)
	s.holds.mu.Unlock()
	s.dead.mu.Lock()
	n += s.dead.live.upTo(seg)
	s.dead.mu.Unlock()
	if s.floor.anchoredUpTo(seg) {
		n++
	}
	return n + s.cbLiveUpTo(seg)
}

// worth reports whether seg is worth dropping now (see above).
func (s *Store) worth(seg wal.SegmentInfo) bool {
	// A corrupt segment goes by the same rule: what replay could read of it
	// is indexed like any other entry, the rest is lost already.
	copyBytes := int64(s.liveUpTo(seg.Seq)) * liveEstimate
	if copyBytes*2 <= seg.Bytes {
		return true
	}
	ws := s.log.Stats()
	return ws.MaxDisk > 0 && ws.BytesUsed > ws.MaxDisk/100*compactPressure && copyBytes*10 <= seg.Bytes*9
}

// noteBacklog estimates the bytes compaction could reclaim: the closed
// segments' bytes less the live objects anchored in them.
func (s *Store) noteBacklog() {
	segs := s.log.Segments()
	var closed int64
	last := uint64(0)
	for _, sg := range segs {
		if !sg.Active {
			closed += sg.Bytes
			last = sg.Seq
		}
	}
	if last == 0 {
		s.compactor.backlog.Store(0)
		return
	}
	s.compactor.backlog.Store(max(0, closed-int64(s.liveUpTo(last))*liveEstimate))
}

// dropSegment copies what is live in seg to the tail, snapshots the
// balances that depend on it, waits until those entries are on disk, and
// removes seg.
func (s *Store) dropSegment(seg wal.SegmentInfo, stop <-chan struct{}) error {
	cp := copier{s: s, seg: seg.Seq, stop: stop}
	err := s.log.ReadSegment(seg.Seq, cp.entry)
	if err != nil {
		if !errors.Is(err, wal.ErrCorrupt) || !seg.Corrupt {
			return fmt.Errorf("read segment %d: %w", seg.Seq, err)
		}
		// A segment replay found corrupt: its readable entries were copied,
		// the rest was never indexed.
	}
	if n := s.liveUpTo(seg.Seq); n > 0 {
		return fmt.Errorf("segment %d: %d objects still anchored after copying", seg.Seq, n)
	}
	for try := 0; ; try++ {
		pos, n, err := s.led.snapshot(seg.Seq) // resumes where a full buffer stopped it
		cp.copied += uint64(n)
		cp.last = max(cp.last, pos)
		if err == nil {
			break
		}
		if !errors.Is(err, wal.ErrBufferFull) || try == appendRetry {
			return fmt.Errorf("segment %d: balance snapshot: %w", seg.Seq, err)
		}
		select {
		case <-stop:
			return errCompactBusy
		case <-time.After(time.Millisecond):
		}
	}
	if cp.last != 0 {
		if err := s.waitDurable(cp.last); err != nil {
			return fmt.Errorf("segment %d: %w", seg.Seq, err)
		}
	}
	if err := s.log.Remove(seg.Seq); err != nil {
		return err
	}
	s.compactor.compactions.Add(1)
	s.compactor.copied.Add(cp.copied)
	return nil
}

// waitDurable blocks until pos is on disk, whatever the sync mode: the
// segment that held the only other copy is about to go.
func (s *Store) waitDurable(pos wal.Pos) error {
	if s.log.Synced() >= uint64(pos) {
		return nil
	}
	return s.log.Sync()
}

// copier is one segment's copy: entry is ReadSegment's callback.
type copier struct {
	s      *Store
	seg    uint64
	stop   <-chan struct{}
	last   wal.Pos
	copied uint64
	rec    recSlot
	up     upAddrs // decodeRecord's, unused: the slot's own are copied
	held   storage.Held
	dead   storage.DeadLetter
	buf    []byte
}

// entry copies the object whose anchor the entry at pos is, if it is still
// live and still anchored there. A copy is appended under its object's
// lock, without waiting: when the log's buffer is full the lock is let go,
// and the copy is tried again after a pause (the anchor checked again).
func (c *copier) entry(pos wal.Pos, kind byte, p []byte) error {
	for range appendRetry {
		var (
			np  wal.Pos
			err error
		)
		switch kind {
		case kPut, kRecord:
			np, err = c.record(pos, p)
		case kUpstream, kUpstreamOf:
			np, err = c.upstream(pos, kind, p)
		case kHold, kHoldRecipe:
			np, err = c.hold(pos, kind, p)
		case kDead:
			np, err = c.deadLetter(pos, p)
		case kIDFloor:
			np, err = c.floor(pos)
		case kCallback:
			np, err = c.callback(pos, p)
		}
		if errors.Is(err, wal.ErrBufferFull) {
			select {
			case <-c.stop:
				return errCompactBusy
			case <-time.After(time.Millisecond):
			}
			continue
		}
		if err != nil {
			return err
		}
		if np != 0 {
			c.last = np
			c.copied++
		}
		return nil
	}
	return errCompactBusy
}

// append appends a copy. Compaction's copies are urgent: they free room.
func (c *copier) append(kind byte, payload []byte) (wal.Pos, error) {
	pos, err := c.s.log.Append(kind, payload, true)
	if err == nil {
		c.s.compactor.copiedBytes.Add(uint64(len(payload)))
	}
	return pos, err
}

// floor copies the id floor when its latest entry is at pos.
func (c *copier) floor(pos wal.Pos) (wal.Pos, error) {
	f := &c.s.floor
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.anchor != pos {
		return 0, nil
	}
	np, err := c.append(kIDFloor, appendID(f.buf[:0], f.v.Load()))
	if err == nil {
		f.anchor = np
	}
	return np, err
}

// record copies a record anchored at pos: its full state as it stands now
// (kRecord, no ledger change), with its body while it is still needed. A
// record past its lifetime goes instead.
func (c *copier) record(pos wal.Pos, p []byte) (wal.Pos, error) {
	if len(p) < 8 {
		return 0, nil
	}
	id := msg.ID(le.Uint64(p))
	s := c.s
	sh := s.recShard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.ix.get(id)
	if !ok || sh.slots.at(i).anchor != pos {
		return 0, nil
	}
	r := sh.slots.at(i)
	if expired(r.end(s.ttl), s.now()) {
		sh.drop(r)
		sh.expired++
		return 0, nil
	}
	var body []byte
	if r.flags&fBody != 0 {
		if _, _, _, b, err := decodeRecord(p, &c.rec, &c.up); err == nil {
			body = b
		} else {
			r.flags &^= fBody
		}
	}
	c.buf = appendRecord(c.buf[:0], r, sh.ups.of(r), s.users.name(r.user), s.routeName(r.route), charges{}, body)
	np, err := c.append(kRecord, c.buf)
	if err != nil {
		return 0, err
	}
	sh.live.move(r.anchor, np)
	r.anchor = np
	return np, nil
}

// upstream copies an upstream id entry anchored at pos.
func (c *copier) upstream(pos wal.Pos, kind byte, p []byte) (wal.Pos, error) {
	id, _, conn, key, err := decodeUpstream(p)
	if err != nil {
		return 0, nil
	}
	s := c.s
	var sh *upShard
	var i int32 = -1
	if kind == kUpstream {
		h := s.upHash(conn, key)
		sh = s.upShardOf(h)
		sh.mu.Lock()
		i = sh.findFwd(h, conn, key)
	} else {
		sh = s.revShard(id)
		sh.mu.Lock()
		if j, ok := sh.rev[id]; ok {
			i = j
		}
	}
	defer sh.mu.Unlock()
	if i < 0 || sh.slots[i].anchor != pos {
		return 0, nil
	}
	e := &sh.slots[i]
	if expired(e.until, s.now()) {
		sh.remove(i)
		sh.expired++
		return 0, nil
	}
	c.buf = appendUpstream(c.buf[:0], e.id, e.until, e.conn, e.key[:e.klen])
	np, err := c.append(kind, c.buf)
	if err != nil {
		return 0, err
	}
	sh.live.move(e.anchor, np)
	e.anchor = np
	return np, nil
}

// hold copies a held item anchored at pos, with its attempts as they
// stand.
func (c *copier) hold(pos wal.Pos, kind byte, p []byte) (wal.Pos, error) {
	dur, user, err := decodeHold(p, &c.held)
	if err != nil {
		return 0, nil
	}
	hs := &c.s.holds
	hs.mu.Lock()
	defer hs.mu.Unlock()
	key, ok := hs.byDur[dur]
	if !ok {
		return 0, nil
	}
	m := hs.byKey[key]
	if m.anchor != pos {
		return 0, nil
	}
	c.held.Attempts = m.attempts
	c.held.SystemID = string(user)
	c.buf = appendHold(c.buf[:0], dur, &c.held, c.held.Body) // of a kHoldRecipe, the recipe
	np, err := c.append(kind, c.buf)
	if err != nil {
		return 0, err
	}
	hs.live.move(m.anchor, np)
	m.anchor = np
	hs.byKey[key] = m
	return np, nil
}

// deadLetter copies a dead letter anchored at pos (it never changes).
func (c *copier) deadLetter(pos wal.Pos, p []byte) (wal.Pos, error) {
	seq, _, _, _, err := decodeDead(p, &c.dead)
	if err != nil {
		return 0, nil
	}
	dl := &c.s.dead
	dl.mu.Lock()
	defer dl.mu.Unlock()
	sl := dl.find(seq)
	if sl == nil || sl.anchor != pos {
		return 0, nil
	}
	np, err := c.append(kDead, p)
	if err != nil {
		return 0, err
	}
	dl.live.move(sl.anchor, np)
	sl.anchor = np
	return np, nil
}
