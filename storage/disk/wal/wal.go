// Package wal is smppd's write-ahead log: append-only segment files of
// checksummed entries, written by one goroutine with group commit. It knows
// nothing of what an entry means; storage/disk keeps its records in it.
//
// # Who calls what
//
// Append runs on event loops and connector workers: it copies the entry
// into the current group's buffer under a short lock and returns. It never
// does I/O, never waits and allocates nothing. The log's own goroutine takes
// the whole group, writes it, and (with SyncAlways) fsyncs once for every
// entry that arrived meanwhile, then advances Committed and calls the
// OnCommit callback. When the entry cannot be taken now (the buffer is full,
// the disk budget is spent, the device failed) Append says so at once.
// AppendLazy is Append for an entry no answer waits on: it does not wake
// the goroutine and rides with the next Append's group (one fsync for
// both), or goes alone after LazyDelay.
//
// # Positions
//
// A Pos is the segment number << 32 | the byte offset just after the entry
// in that segment's file, so positions only grow, the segment of an entry is
// pos>>32, and "written/committed up to pos" is one comparison. Segment
// numbers start at 1; 0 is no position.
//
// # On disk
//
// DIR/LOCK holds an exclusive flock and the holder's pid. DIR/NNNNNNNNNN.wal
// are the segments, each a 32-byte header (magic "SMPPDLOG", format version,
// flags, segment number, a recycled file's stale seed, CRC32C of the header)
// followed by entries framed as length (uint32 LE, of the payload), CRC32C
// (Castagnoli, over kind and payload) XOR the segment's seed, kind (one
// byte), payload. A segment never holds a partial entry except at a torn
// tail; past the tail of a recycled one lie its previous life's entries,
// which fail the seed. A release that finds a newer format version refuses
// to open the directory (format.go has both versions' layout).
package wal

import (
	"time"

	"github.com/rs/zerolog"
)

// Pos is a position in the log: segment number << 32 | offset just after an
// entry in that segment's file. Positions of later entries are larger;
// compare one with Written or Committed as uint64(pos).
type Pos uint64

// Segment is the number of the segment the entry is in.
func (p Pos) Segment() uint64 { return uint64(p) >> 32 }

// Offset is the byte offset just after the entry in its segment file.
func (p Pos) Offset() int64 { return int64(p & (1<<32 - 1)) }

// SyncMode says when the log fsyncs, and so what Committed promises.
type SyncMode uint8

const (
	// SyncAlways fsyncs every group before it counts as committed: what
	// Committed reports is on disk.
	SyncAlways SyncMode = iota
	// SyncInterval counts a group committed once written to the operating
	// system (it survives the process, not the host), and fsyncs at most,
	// and at least, every Options.SyncInterval while there is unsynced
	// data: a host crash loses at most that much.
	SyncInterval
	// SyncNever counts a group committed once written to the operating
	// system and leaves flushing to it; the log fsyncs only a segment it
	// leaves for the next (so a host crash can tear only the open one),
	// at Close and when Sync asks.
	SyncNever
)

func (m SyncMode) String() string {
	switch m {
	case SyncAlways:
		return "always"
	case SyncInterval:
		return "interval"
	case SyncNever:
		return "never"
	}
	return "unknown"
}

// Defaults for zero Options fields.
const (
	DefaultSegmentSize  = 64 << 20
	DefaultBufferSize   = 4 << 20
	DefaultSyncInterval = 10 * time.Millisecond
	// HighWater is the share of MaxDisk, in percent, above which only
	// urgent appends are taken.
	HighWater = 90
	// LazyDelay is the longest an AppendLazy entry waits for an Append to
	// carry it before the writer takes it alone: short enough that the
	// lazy entries of a log gone quiet are on disk almost at once, long
	// enough to span a submit's round trip at window 1.
	LazyDelay = 2 * time.Millisecond
)

// Limits on Options.
const (
	MinSegmentSize = 4 << 10
	MaxSegmentSize = 1<<32 - 1 // offsets are the low 32 bits of a Pos
	MinBufferSize  = 4 << 10
)

// Options configure Open. Zero values take the defaults above.
type Options struct {
	Dir string // created if missing
	// Sync is when to fsync (the zero value is SyncAlways).
	Sync SyncMode
	// SyncInterval is the longest an entry stays unsynced with
	// SyncInterval (default 10 ms).
	SyncInterval time.Duration
	// SegmentSize: a segment is closed and the next begun when an entry
	// would take it past this many bytes. Default 64 MiB, or MaxDisk/8 when
	// that is smaller, so that compaction has segments to free in a small
	// budget.
	SegmentSize int64
	// BufferSize is the size of each of the two group buffers (default
	// 4 MiB): entries arriving while the previous group is written and
	// fsynced wait here. Log.MaxPayload is the largest entry it takes.
	BufferSize int
	// MaxDisk is the budget of the segments in bytes; 0 = no budget. Past
	// HighWater percent of it only urgent appends are taken, past all of it
	// none.
	MaxDisk int64
	// Preallocate makes each next segment ahead of time, off the writer's
	// path: filled with zeros to SegmentSize and fsynced, so that the
	// fsyncs after its entries flush data without the file's size and
	// blocks (prealloc.go). It writes each segment's bytes twice; ignored
	// with SyncNever.
	Preallocate bool
	// LockWait is how long Open waits for another process to release the
	// data directory (an upgrade: the old process drains, then unlocks);
	// 0 fails at once with ErrLocked.
	LockWait time.Duration
	// LingerKind, when not 0, is the entry kind of a client's request
	// (the disk store's new record): with SyncAlways the writer waits
	// after a commit, briefly, for the requests its answers bring back
	// (linger.go). Only non-urgent Append entries of the kind count
	// (compaction's urgent copies of records do not).
	LingerKind byte
	// FS is the file layer (default the operating system's).
	FS     FS
	Logger zerolog.Logger
}

// SegmentInfo describes one segment file. Its entries have positions in
// (First, End].
type SegmentInfo struct {
	Seq   uint64
	First Pos   // Seq<<32 | header size: before the first entry
	End   Pos   // after the last entry written to it
	Bytes int64 // file size
	// Active: the segment the log is writing to (Remove refuses it and any
	// later one).
	Active bool
	// Corrupt: Replay found it unreadable from some offset on (or its
	// header bad) and skipped the rest.
	Corrupt bool
}

// ReplayStats report what Replay read and what it had to drop.
type ReplayStats struct {
	Segments int    // segment files read
	Entries  uint64 // intact entries handed to fn
	Bytes    int64  // bytes of those entries, frames included
	// TornBytes were cut from the end of the last segment: the entry being
	// written when the process stopped. Nothing acknowledged under
	// SyncAlways is ever there.
	TornBytes int64
	// CorruptSegments were unreadable from some point on and SkippedBytes
	// of them were skipped: a damaged disk or file, reported, never fatal.
	CorruptSegments int
	SkippedBytes    int64
	Duration        time.Duration
}

// FsyncBuckets is the number of fsync latency histogram buckets: bucket i
// counts fsyncs that took less than 2^i microseconds (and at least 2^(i-1)
// for i > 0); the last bucket also counts everything longer.
const FsyncBuckets = 24

// Stats is a snapshot of the log's counters.
type Stats struct {
	Sync      SyncMode
	Written   uint64
	Committed uint64
	Synced    uint64 // on disk, whatever the mode

	BytesUsed int64 // segment files plus bytes appended but not written yet
	MaxDisk   int64 // 0 = no budget
	Segments  int

	Appends uint64 // entries taken
	// AppendedBytes is their payloads' bytes (without frames): with the
	// compaction's copies subtracted, the logical bytes stored.
	AppendedBytes uint64
	Groups        uint64 // groups written
	// GroupLast and GroupMax are entries per group: how many appends one
	// write (and with SyncAlways one fsync) served.
	GroupLast, GroupMax uint64
	// GroupWait is the time, summed over the groups an Append started
	// (GroupsWoken), from that first entry to the writer's taking the
	// group (the fsync in progress, then the commit callback of the one
	// before); over GroupsWoken, how long a submit arriving at an idle
	// log waits to be written. CommitCallback is the time spent in OnCommit's callback,
	// which the next group's write waits for.
	GroupsWoken               uint64
	GroupWait, CommitCallback time.Duration
	// AppendLazy entries written with a group an Append started
	// (LazyRode) and without one, after LazyDelay or for a Sync, a
	// WaitCommitted or Close (LazyAlone).
	LazyRode, LazyAlone uint64
	// Lingers after a commit (Options.LingerKind) that ended with the
	// requests they waited for, and that ended short of them.
	LingerFilled, LingerCut uint64

	Fsyncs     uint64
	FsyncLast  time.Duration
	FsyncP50   time.Duration // over the last 1024 fsyncs
	FsyncP99   time.Duration
	FsyncMax   time.Duration // since Open
	FsyncTotal time.Duration // time spent in fsync since Open
	FsyncHisto [FsyncBuckets]uint64

	// Refused appends, by reason.
	RefusedHighWater  uint64 // non-urgent past HighWater of MaxDisk
	RefusedDiskFull   uint64 // past MaxDisk, or the device reported no space
	RefusedFailed     uint64 // the device failed (EIO and the like)
	RefusedBufferFull uint64 // the device is slower than the arrivals
	WriteErrors       uint64 // failed writes, fsyncs and segment creations
	// FsyncFailures: fsyncs that failed (a write-and-sync call's failure
	// counts too, unless ENOSPC or EDQUOT). The kernel may have dropped the
	// pages one covered and still let the next succeed, so with SyncAlways
	// and SyncInterval the writer writes them again from memory first
	// (Rewrites counts those tries); with SyncNever they may be lost
	// (logged, event=wal_fsync_failed), and the log stays failed until
	// reopened (ErrUnsyncedLost).
	FsyncFailures, Rewrites uint64
	// DiskFull / Failed: appends are refused now because of the device;
	// LastError says why.
	DiskFull, Failed bool
	LastError        string
	Removed          uint64 // segments deleted by Remove
	// With Preallocate: segments begun from a prepared spare, begun
	// without one (not ready in time), and spares that failed.
	Preallocated, PreallocMissed, PreallocFailed uint64
	// PreallocRecycled: spares made from a removed segment instead of zeros.
	PreallocRecycled uint64
}
