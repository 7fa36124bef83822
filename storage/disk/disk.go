// Package disk is the durable storage.Store: every write is an entry in a
// write-ahead log (storage/disk/wal, group commit, one fsync for every
// entry that arrived meanwhile) and an in-memory index answers every read.
// Open replays the log into the index; nothing is read from disk after
// that but by compaction.
//
// # What is kept
//
//   - Records by id, and the message body given to PutMessage until a
//     connector accepts the message or its record is final (Recover hands
//     the bodies out at start). A record lives until max(Submitted, Done,
//     Expires) plus Options.TTL, never evicted by count; the first final
//     state wins (later ones: storage.ErrFinal, counted).
//   - Upstream ids both ways, for as long as their record lives (at least
//     Options.TTL from the PutUpstream).
//   - Held items, by a durable key; leases are not kept, so a restart offers
//     every item again.
//   - Dead letters (bounded, aged out after Options.TTL), the ledger's
//     balances, the id generator's floor.
//   - Message callbacks (an HTTP submit's dlr-url), until deleted or for
//     Options.TTL after the later of their put and the message's validity.
//
// # The log and compaction
//
// Each mutation is one compact entry (format.go), encoded into a shard's
// scratch buffer under the shard's lock and copied into the log's group
// buffer: no allocation, no I/O, no wait on the per-message path. Each live
// object knows its anchor: the position of its latest full-state entry.
// Compaction (compact.go, on the store's goroutine) drops the oldest segment
// once it is mostly dead: it re-appends the full state of the objects
// anchored there, snapshots the balances that depend on it, waits until
// those entries are on disk, and removes the file. So the disk holds the
// live objects plus what the newer segments have not yet shed.
package disk

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
	"github.com/smppd/smppd/storage/memory"
)

// Defaults applied by Open to zero Options fields.
const (
	DefaultTTL            = 72 * time.Hour
	DefaultMaxHeld        = memory.DefaultMaxHeld
	DefaultMaxDeadLetters = 100_000
	// DefaultCompactEvery is how often the store's goroutine looks for a
	// segment to compact when Sweep does not ask sooner.
	DefaultCompactEvery = 5 * time.Second
)

// Options configure Open. Zero values take the defaults.
type Options struct {
	// Dir is the data directory, created if missing and locked while open.
	Dir string
	// LockWait is how long Open waits for another process to release Dir
	// (wal.Options.LockWait); 0 refuses at once.
	LockWait time.Duration
	// Sync, SyncInterval, SegmentSize, BufferSize and MaxDisk are the log's
	// (wal.Options): what an acknowledgement waits for, and the disk budget.
	Sync         wal.SyncMode
	SyncInterval time.Duration
	SegmentSize  int64
	BufferSize   int
	MaxDisk      int64
	// Preallocate is the log's (wal.Options): each next segment is made
	// ahead of time, zero-filled and fsynced, so that an fsync of entries
	// flushes data only. smppd sets it; tests leave it off (64 MiB of
	// zeros per store).
	Preallocate bool
	// FS is the file layer (default the operating system's); tests inject
	// faults.
	FS wal.FS
	// TTL is message_ttl: how long a record is kept after max(Submitted,
	// Done, Expires), an upstream id after its PutUpstream (default 72h).
	TTL time.Duration
	// MaxHeld bounds the held items, HeldShare each user's share of them.
	MaxHeld   int
	HeldShare storage.HeldLimit
	// MaxDeadLetters bounds the dead-letter list (default 100,000).
	MaxDeadLetters int
	// Rebuild builds a held item's Body from its recipe
	// (storage.RecipeHolds), appended to dst. Set: an item held with a
	// recipe is logged with it instead of its Body (kHoldRecipe, a
	// receipt's 200 or so octets down to about 80) and built again at
	// replay. Nil: HoldRecipe is Hold, and a log holding such entries
	// counts them as damaged.
	Rebuild func(dst, recipe []byte) ([]byte, error)
	// Now returns the current Unix ns, safe for concurrent use. Default:
	// the now of the latest Sweep (lifetimes are hours), the wall clock
	// before any.
	Now func() int64
	// CompactEvery: see DefaultCompactEvery; negative: compaction runs only
	// when Compact is called (tests).
	CompactEvery time.Duration
	// NoLog: the store keeps no log, in memory only; Dir is not used and
	// nothing survives Close. For an index rebuilt from elsewhere at each
	// start (storage/jetstream's, from the cluster's journal).
	NoLog  bool
	Logger zerolog.Logger
}

// Shards of the record indexes (chosen by the id's sequence: Store.recShard)
// and of the upstream ones (chosen by hash).
const (
	shardBits = 6
	nShards   = 1 << shardBits
)

// Store is the durable store. Create it with Open; it is safe for
// concurrent use.
type Store struct {
	o      Options
	log    logWriter
	lg     zerolog.Logger
	ttl    int64
	now    func() int64
	clock  func() int64 // precise: Options.Now or the wall clock
	coarse atomic.Int64 // the latest Sweep's now (default clock)
	seed   uint64
	upSeed maphash.Seed

	users users
	recs  [nShards]recShard
	arena slabArena        // the recs' slab chunks
	ups   [nShards]upShard // (connector, upstream id) -> our id
	revs  [nShards]upShard // our id -> upstream id
	holds holds
	led   ledger
	dead  deadList
	floor idFloor
	cbs   [cbShards]cbShard // message callbacks (callbacks.go)
	// cbHeld counts the callbacks in cbs: Callback, asked for every
	// accepted message, skips the shards while it is 0. Written only when
	// a callback comes or goes, so its line stays shared.
	_      cachePad
	cbHeld atomic.Int64
	_      cachePad

	// refusing: the latest new message was refused for the disk (full,
	// past the high-water mark, or failed); cleared by the next one taken.
	refusing   atomic.Bool
	lateFinal  atomic.Uint64
	upRejected atomic.Uint64
	recovered  atomic.Uint64
	replay     replayInfo

	compactor compactor
	closeOnce sync.Once
}

// replayInfo is what Open's replay found, for Stats and the start log.
type replayInfo struct {
	took    time.Duration
	entries uint64
	corrupt uint64 // corrupt segments, plus entries that did not decode
}

// Open opens (creating it if missing) the store in o.Dir, replays its log
// and starts its goroutine. A directory another process holds is refused
// (wal.ErrLocked, naming the directory and the holder's pid); so is one
// written by a newer release (wal.ErrNewerFormat).
func Open(o Options) (*Store, error) {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.MaxHeld <= 0 {
		o.MaxHeld = DefaultMaxHeld
	}
	if o.MaxDeadLetters <= 0 {
		o.MaxDeadLetters = DefaultMaxDeadLetters
	}
	if o.CompactEvery == 0 {
		o.CompactEvery = DefaultCompactEvery
	}
	t0 := time.Now()
	var log logWriter = &noLog{}
	if o.NoLog {
		o.CompactEvery = -1 // no segments to compact
	} else {
		wl, err := wal.Open(wal.Options{Dir: o.Dir, Sync: o.Sync, SyncInterval: o.SyncInterval, SegmentSize: o.SegmentSize,
			BufferSize: o.BufferSize, MaxDisk: o.MaxDisk, Preallocate: o.Preallocate, LockWait: o.LockWait, LingerKind: kPut, FS: o.FS, Logger: o.Logger})
		if err != nil {
			return nil, err
		}
		log = wl
	}
	s := &Store{o: o, log: log, lg: o.Logger, ttl: int64(o.TTL), now: o.Now, seed: rand.Uint64(), upSeed: maphash.MakeSeed()}
	s.clock = s.now
	if s.now == nil {
		s.now = s.sweptNow
		s.clock = func() int64 { return time.Now().UnixNano() }
	}
	s.init()
	if err := s.replayLog(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("disk: replay %s: %w", o.Dir, err)
	}
	s.replay.took = time.Since(t0)
	s.logOpened()
	s.compactor.start(s)
	return s, nil
}

func (s *Store) init() {
	s.users.init()
	s.arena.mapped = new([][]byte)
	runtime.AddCleanup(s, unmapBlocks, s.arena.mapped)
	for i := range s.recs {
		s.recs[i].init(&s.arena)
	}
	for i := range s.ups {
		s.ups[i].init()
		s.revs[i].init()
	}
	s.holds.init(s, s.o.MaxHeld, s.o.HeldShare)
	s.led.init(s)
	s.dead.init(s, s.o.MaxDeadLetters)
	s.floor.s = s
	for i := range s.cbs {
		s.cbs[i].init(&s.cbHeld)
	}
}

// logOpened writes the start line: what the index holds and how long the
// recovery took.
func (s *Store) logOpened() {
	st := s.Stats()
	s.lg.Info().Str("event", "store_opened").Str("dir", s.o.Dir).Dur("recovery", s.replay.took).
		Uint64("entries", s.replay.entries).Uint64("corrupt", s.replay.corrupt).Int("records", st.Records).
		Int("pending", st.Records-finalRecords(&st)).Int("upstream_ids", st.Upstream).Int("held", st.Held).
		Int("dead_letters", st.DeadLetters).Int64("bytes", st.BytesUsed).Int("segments", st.Segments).
		Msg("store: opened and recovered")
}

// finalRecords counts the records of st in a final state.
func finalRecords(st *storage.Stats) int {
	n := 0
	for i, c := range st.RecordsByState {
		if i != 0 && i != 1 { // 0: none, 1: ENROUTE
			n += c
		}
	}
	return n
}

// sweptNow is the default clock (see Options.Now).
func (s *Store) sweptNow() int64 {
	if c := s.coarse.Load(); c != 0 {
		return c
	}
	return time.Now().UnixNano()
}

// Committer implements storage.Store: the log itself.
func (s *Store) Committer() storage.Committer { return s.log }

// Holds implements storage.Store.
func (s *Store) Holds() storage.Holds { return &s.holds }

// Ledger implements storage.Store.
func (s *Store) Ledger() storage.Ledger { return &s.led }

// DeadLetters implements storage.Store.
func (s *Store) DeadLetters() storage.DeadLetters { return &s.dead }

// Close implements storage.Store: it stops compaction, then writes and
// fsyncs what was appended and unlocks the directory.
func (s *Store) Close() error {
	err := errors.New("disk: store already closed")
	s.closeOnce.Do(func() {
		s.compactor.stop()
		err = s.log.Close()
	})
	return err
}

// Sweep implements storage.Sweeper: it drops the records, upstream ids and
// dead letters past their lifetime at now (a share of each shard per call,
// so a store of many millions spreads the walk over about a minute of
// calls), and asks the compactor to look at the oldest segment. Nothing is
// logged: a replay drops by the same rule.
func (s *Store) Sweep(now int64) int {
	s.coarse.Store(now)
	n := 0
	for i := range s.recs {
		n += s.recs[i].sweep(s, now)
	}
	for i := range s.ups {
		n += s.ups[i].sweep(now)
		n += s.revs[i].sweep(now)
	}
	n += s.dead.sweep(now)
	for i := range s.cbs {
		n += s.cbs[i].sweep(now)
	}
	s.compactor.kick()
	return n
}

// expired reports whether a lifetime that ends at end is over at now.
func expired(end, now int64) bool { return now > end }

// Stats implements storage.Store. It takes every shard's lock in turn:
// for metrics, not per message.
func (s *Store) Stats() storage.Stats {
	var st storage.Stats
	for i := range s.recs {
		s.recs[i].stats(&st)
	}
	for i := range s.ups {
		st.Upstream += s.ups[i].stats(&st)
		st.Reverse += s.revs[i].stats(&st)
	}
	st.UpstreamRejected = s.upRejected.Load()
	st.Held, st.HeldUsers, st.HeldRefused, st.HeldShareRefused = s.holds.stats()
	st.LateFinal = s.lateFinal.Load()
	st.DeadLetters, st.DeadLettersAdded, st.DeadLettersDropped = s.dead.stats()
	st.Recovered = s.recovered.Load()
	st.Callbacks = s.cbStats()
	ws := s.log.Stats()
	st.BytesUsed, st.MaxDisk, st.Segments = ws.BytesUsed, ws.MaxDisk, ws.Segments
	st.WriteErrors = ws.RefusedHighWater + ws.RefusedDiskFull + ws.RefusedFailed + ws.RefusedBufferFull
	st.DiskFull, st.DeviceFailed = ws.DiskFull || s.refusing.Load() || s.overHighWater(&ws), ws.Failed
	st.Fsyncs, st.FsyncLast, st.FsyncP50, st.FsyncP99, st.FsyncMax = ws.Fsyncs, ws.FsyncLast, ws.FsyncP50, ws.FsyncP99, ws.FsyncMax
	st.FsyncTotal = ws.FsyncTotal
	if ws.Groups > 0 {
		st.GroupCommitBatch = float64(ws.Appends) / float64(ws.Groups)
	}
	st.GroupCommitMax, st.GroupCommits = ws.GroupMax, ws.Groups
	st.GroupsWoken, st.GroupWait, st.CommitAnswer = ws.GroupsWoken, ws.GroupWait, ws.CommitCallback
	st.LazyRode, st.LazyAlone, st.FsyncFailures = ws.LazyRode, ws.LazyAlone, ws.FsyncFailures
	st.LingerFilled, st.LingerCut = ws.LingerFilled, ws.LingerCut
	st.CompactBacklog, st.Compactions, st.Compacted = s.compactor.stats()
	st.Recovery, st.ReplayEntries, st.ReplayCorrupt = s.replay.took, s.replay.entries, s.replay.corrupt
	return st
}

// overHighWater reports whether new submits are refused for the budget:
// the log is past wal.HighWater percent of MaxDisk.
func (s *Store) overHighWater(ws *wal.Stats) bool {
	return ws.MaxDisk > 0 && ws.BytesUsed > ws.MaxDisk/100*wal.HighWater
}

// mix64 is the MurmurHash3 64-bit finalizer: our ids carry the node in
// their low bits and time in their high bits, so they need mixing before
// their bits pick a shard.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// cachePad keeps neighbouring shards' locks off one cache line.
type cachePad [64]byte

// liveSegs counts the objects anchored in each segment (an object's
// anchor is its latest full-state entry), for compaction to find how much
// of a segment is still live: counts[i] is segment base+i's. Segments only
// grow and the oldest go first, so this is a short slice; its owner's
// lock guards it.
type liveSegs struct {
	base   uint64
	counts []int32
}

// move moves one object's anchor from old to pos (either 0: none).
func (l *liveSegs) move(old, pos wal.Pos) {
	if old != 0 {
		if i := old.Segment() - l.base; old.Segment() >= l.base && i < uint64(len(l.counts)) {
			l.counts[i]--
		}
	}
	if pos != 0 {
		seg := pos.Segment()
		if len(l.counts) == 0 {
			l.base = seg
		}
		if seg < l.base { // replay meets an old segment after a newer one's entry
			l.counts = append(make([]int32, l.base-seg), l.counts...)
			l.base = seg
		}
		for seg-l.base >= uint64(len(l.counts)) {
			l.counts = append(l.counts, 0)
		}
		l.counts[seg-l.base]++
	}
	for len(l.counts) > 0 && l.counts[0] == 0 {
		l.counts = l.counts[1:]
		l.base++
	}
}

// upTo returns how many objects are anchored in segments up to seg.
func (l *liveSegs) upTo(seg uint64) int {
	n := 0
	for i, c := range l.counts {
		if l.base+uint64(i) > seg {
			break
		}
		n += int(c)
	}
	return n
}
