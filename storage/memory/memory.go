// Package memory is the in-memory storage.Store: a *Store keeps message
// records, upstream ids both ways and held items (Store.Holds). One Store
// holds everything a node keeps about messages; nothing survives a
// restart. No method fails but for the reasons every store shares
// (storage.ErrNotFound, ErrHeldFull, ErrBadUpstreamID), and none blocks
// longer than a shard's lock.
//
// Records live in 64 shards chosen by their id's run (recKey), upstream ids
// in 64 chosen by hash, each a table (table.go): a mutex over a ring of
// fixed-size entries in insertion order plus an open-addressing index. A shard's arrays are made on its first
// insert, at 1,024 entries or the shard's whole share of the limit when
// that is smaller (the demo's 50,000 records: 782 per shard, so no doubling
// leaves garbage behind at a peak), and double up to that share, so an
// idle server stays small and, once a shard has reached its working size,
// Put, Get, SetState, PutUpstream and Upstream allocate nothing. A full
// shard evicts its oldest entry (by insertion, not by id). Entries older
// than Options.TTL are never returned and are reclaimed by Sweep, which the
// owner calls periodically; the store runs no goroutines.
//
// Memory per entry once a shard is at its limit (amd64; the index is 2 to 4
// words per entry, by how the shard's limit rounds up to a power of two):
//
//	record:      136 B slot (no pointers: its system_id and route are
//	             numbers, names.go) + 16-32 B index:
//	             158 B measured at MaxRecords 100,000 (189 B with the two
//	             strings in a ring the GC scanned)
//	upstream id:  96 B slot (no pointers) + 16-32 B index:
//	             121 B measured at MaxUpstream 100,000, 113 B at 1,000,000
//
// so 100,000 of each take about 28 MB and the defaults (1,000,000 of each)
// about 270 MB. The upstream map costs nothing until a connector uses it.
// The reverse map (our id -> upstream id, for cancel_sm and replace_sm
// sent upstream) has the same entry size and a limit of its own equal to
// MaxUpstream; it is filled only for connectors that forward those.
package memory

import (
	"hash/maphash"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/storage"
)

// Defaults applied by New to zero (or negative) Options fields.
const (
	DefaultMaxRecords  = 1_000_000
	DefaultMaxUpstream = 1_000_000
	DefaultMaxHeld     = 100_000
	DefaultTTL         = 72 * time.Hour
	// DefaultMaxDeadLetters bounds the dead-letter list: the newest are
	// kept, for the operator to look at.
	DefaultMaxDeadLetters = 10_000
)

// maxShardBits gives the shard count for large limits; smaller limits use fewer
// shards so that each keeps at least minShardCap entries and the total
// never exceeds the limit.
const (
	maxShardBits = 6 // 64 shards
	minShardCap  = 16
	// firstRing is a shard's ring size on its first insert (at most its
	// share): big enough that small limits never double, whose old arrays
	// would be garbage at the peak.
	firstRing = 1024
)

// Options configures a Store. Zero values take the defaults.
type Options struct {
	// MaxRecords bounds the message records held (default 1,000,000).
	// Each shard holds its share; a full shard evicts its oldest record.
	MaxRecords int
	// MaxUpstream bounds the upstream id entries (default 1,000,000),
	// evicted the same way; the reverse entries have the same bound.
	MaxUpstream int
	// MaxHeld bounds the held MO and receipts across all users (default
	// 100,000); Hold beyond it returns storage.ErrHeldFull.
	MaxHeld int
	// HeldShare is each user's share of MaxHeld (nil: none); Hold beyond
	// it returns storage.ErrHeldFull too.
	HeldShare storage.HeldLimit
	// MaxDeadLetters bounds the dead-letter list (default 10,000): the
	// oldest letter goes when a new one comes to a full list.
	MaxDeadLetters int
	// TTL is how long records (by Record.Submitted) and upstream ids (by
	// the time of PutUpstream) are kept (default 72h).
	TTL time.Duration
	// Now returns the current time in Unix nanoseconds. It must be safe for
	// concurrent use; the owner should use the same clock for the now it
	// passes to Sweep. Default: the now of the latest Sweep (the TTL is
	// hours, so a time a sweep period old is precise enough, and it spares
	// a clock read per Get, Put and SetState), the wall clock before any.
	Now func() int64
}

// Store is the in-memory message store. Create it with New; it is safe
// for concurrent use.
type Store struct {
	recs       []recTable
	rewrites   []upSlab    // the records' rewritten addresses, one per recs table, under its mu
	recNames   []nameCache // one per recs table, under its mu
	names      names       // the records' system_ids and route names (names.go)
	ups        []upTable
	revs       []upTable    // our id -> upstream id (reverse.go), sized like ups
	recBits    uint         // log2(len(recs))
	runBits    uint         // log2 of the ids a record table takes in a row (recKey)
	upBits     uint         // log2(len(ups)) = log2(len(revs))
	seed       uint64       // mixed into record id hashes
	upSeed     maphash.Seed // upstream ids are chosen by peers: keyed hash
	ttl        int64
	now        func() int64
	clock      func() int64 // precise: Options.Now, or the wall clock
	coarse     atomic.Int64 // the latest Sweep's now, for the default clock
	upRejected atomic.Uint64
	lateFinal  atomic.Uint64
	idFloor    atomic.Uint64
	holds      Holds
	ledger     ledger
	dead       deadLetters
	cbs        callbacks
}

// New returns an empty Store configured by opts (defaults for zero
// fields). It allocates only the shard headers; entry arrays come with use.
func New(opts Options) *Store { return newStore(opts, maxShardBits) }

// newStore is New with at most 1<<maxBits shards (tests use one shard to
// see global eviction order and multi-step growth).
func newStore(opts Options, maxBits uint) *Store {
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = DefaultMaxRecords
	}
	if opts.MaxUpstream <= 0 {
		opts.MaxUpstream = DefaultMaxUpstream
	}
	if opts.MaxHeld <= 0 {
		opts.MaxHeld = DefaultMaxHeld
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	s := &Store{
		seed:   rand.Uint64(),
		upSeed: maphash.MakeSeed(),
		ttl:    int64(opts.TTL),
		now:    opts.Now,
	}
	s.clock = s.now
	if s.now == nil {
		s.now = s.sweptNow
		s.clock = func() int64 { return time.Now().UnixNano() }
	}
	var caps []int
	caps, s.recBits = shardCaps(opts.MaxRecords, maxBits)
	s.runBits = recRunBits(caps[len(caps)-1])
	s.recs = make([]recTable, len(caps))
	s.rewrites = make([]upSlab, len(caps))
	s.recNames = make([]nameCache, len(caps))
	for i := range s.recs {
		s.recs[i].max, s.recs[i].tagOf = caps[i], s.recTag
		rw := &s.rewrites[i]
		s.recs[i].onDrop = func(e *entry) { rw.release(&e.up) }
	}
	caps, s.upBits = shardCaps(opts.MaxUpstream, maxBits)
	s.ups = make([]upTable, len(caps))
	s.revs = make([]upTable, len(caps))
	for i := range s.ups {
		s.ups[i].max, s.ups[i].tagOf = caps[i], upTag
		s.revs[i].max, s.revs[i].tagOf = caps[i], upTag
	}
	s.holds.init(opts.MaxHeld)
	s.holds.share = opts.HeldShare
	s.ledger.init()
	s.dead.init(opts.MaxDeadLetters, s.clock)
	s.cbs.init(opts.MaxRecords, s.ttl, s.now, s.seed)
	return s
}

// shardCaps splits limit over a power-of-two number of shards (at most
// 1<<maxBits, each with at least minShardCap unless limit is smaller) so the
// capacities sum to limit exactly.
func shardCaps(limit int, maxBits uint) ([]int, uint) {
	bits := maxBits
	for bits > 0 && limit < minShardCap<<bits {
		bits--
	}
	n := 1 << bits
	caps := make([]int, n)
	for i := range caps {
		caps[i] = limit / n
		if i < limit%n {
			caps[i]++
		}
	}
	return caps, bits
}

// Holds implements storage.Store: the store's held items.
func (s *Store) Holds() storage.Holds { return &s.holds }

// Close implements storage.Store. Memory has nothing to flush or unlock:
// the garbage collector takes the store once it is unreachable.
func (s *Store) Close() error { return nil }

// expired reports whether an entry stamped at (Unix ns) is older than the
// TTL at now.
func (s *Store) expired(at, now int64) bool { return now-at > s.ttl }

// sweptNow is the default clock (see Options.Now).
func (s *Store) sweptNow() int64 {
	if c := s.coarse.Load(); c != 0 {
		return c
	}
	return time.Now().UnixNano()
}

// Stats implements storage.Store. It takes every shard's lock in turn:
// call it for metrics, not per message.
func (s *Store) Stats() storage.Stats {
	var st storage.Stats
	st.Records, st.Evicted, st.Expired = tableStats(s.recs)
	st.Upstream, st.UpstreamEvicted, st.UpstreamExpired = tableStats(s.ups)
	var evicted, expired uint64
	st.Reverse, evicted, expired = tableStats(s.revs)
	st.UpstreamEvicted += evicted
	st.UpstreamExpired += expired
	st.UpstreamRejected = s.upRejected.Load()
	hst := s.holds.Stats()
	st.Held, st.HeldUsers, st.HeldRefused, st.HeldShareRefused = hst.Held, hst.HeldUsers, hst.HeldRefused, hst.HeldShareRefused
	st.RecordsByState = recordsByState(s.recs)
	st.LateFinal = s.lateFinal.Load()
	st.DeadLetters, st.DeadLettersAdded, st.DeadLettersDropped = s.dead.stats()
	st.Callbacks = int(s.cbs.count.Load())
	return st
}

// Sweep implements storage.Sweeper: it reclaims records and upstream ids
// older than the TTL at now (Unix ns) and returns how many. It walks each
// shard from its oldest entry and stops at the first one still live, so an
// entry inserted behind a younger one waits for it (it is already
// invisible to Get and Upstream). A shard left empty gives its arrays
// back. Callbacks past their lifetime go a share per call. Held items
// expire through Holds.Expire, not here.
func (s *Store) Sweep(now int64) int {
	s.coarse.Store(now)
	n := 0
	for i := range s.recs {
		n += s.recs[i].sweep(now, s.ttl)
	}
	for i := range s.ups {
		n += s.ups[i].sweep(now, s.ttl)
		n += s.revs[i].sweep(now, s.ttl)
	}
	n += s.cbs.sweepAll(now)
	return n
}

// mix64 is the MurmurHash3 64-bit finalizer: our ids carry the node in their
// low bits and time in their high bits, so they need mixing before their
// bits pick a shard and a home position.
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
