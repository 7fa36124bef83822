package msg

import (
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Message ids.
//
// An ID is a 64-bit value, written as 16 lower-case hex digits (fixed width,
// so ids of one node sort by their counter value below: by issue order
// within a scheduler P's run of ids, not exactly across Ps; idrun.go), or,
// for peers that want digits only, as its decimal value (at most 20 digits):
//
//	bits 63..23  ms   41 bits  a millisecond since 2025-01-01T00:00:00Z (lasts until 2094)
//	bits 22..12  seq  11 bits  ids issued within that millisecond slot (2048)
//	bits 11..0   node 12 bits  node_id from the config, 0..4095
//
// ms and seq come from one atomic counter n, taken in runs (idrun.go): the
// id of counter value k (k = 0, 1, ...) has ms = base + k/2048 and seq =
// k%2048, where base is the first millisecond after the generator was
// created. So ms is not the issue time: it is the start time plus the
// slots used so far, and it moves ahead of the start time only as fast as
// ids are issued.
//
// Why ids never repeat:
//   - Within a generator: n only grows; (ms, seq) is a bijection of n.
//   - Across nodes: the node bits differ. Two processes must not share a
//     node_id at the same time (that is the operator's one duty).
//   - Across restarts of one node: a slot ms is never used before the wall
//     clock reaches ms (the gate below), so every id a process issued has
//     ms <= the wall-clock millisecond of its issue. A new process takes
//     base = (its start millisecond) + 1, which is after every issue time of
//     the old one, hence beyond every ms it used.
//
// The gate, and the failure mode it prevents: at more than 2048 ids per
// millisecond (2.048 million per second) averaged since start, the counter
// would run into slots whose millisecond has not come yet; a crash and a
// restart within that lead would reuse them. Instead, a caller that reaches
// a future slot waits (sleeps) until the clock gets there, so a node issues
// at most 2.048M ids/s sustained; such a wait is at most a millisecond or
// two. Unused slots accumulate while the rate is lower, so a burst can draw
// on all of them at full speed. The gate follows the monotonic clock only:
// ids are issued on event loops, and a gate on the wall clock would stall
// every loop for as long as the wall clock was stepped back (an hour, after
// a bad NTP step), while the monotonic clock never steps. The price: after
// a backward wall step while running, slots run ahead of the wall clock,
// so a restart before the wall clock catches up can reuse ids; so can a
// wall clock stepped backwards between two runs by more than the restart
// took (NTP correcting a bad RTC at boot, say), exactly as with any
// time-based id scheme. Keep clocks synchronised before starting smppd.
// With a durable store the generator closes that gap: NewIDGenAbove starts
// beyond the high-water mark an earlier run persisted, and KeepFloor has
// the next block of ids persisted before any of them is issued.
type ID uint64

const (
	nodeBits = 12
	seqBits  = 11
	msBits   = 64 - seqBits - nodeBits
	// MaxNodeID is the largest node id.
	MaxNodeID = 1<<nodeBits - 1
	seqMask   = 1<<seqBits - 1
	// idEpochMs is 2025-01-01T00:00:00Z in Unix milliseconds.
	idEpochMs = 1735689600000
	// HexLen is the length of an ID in hex.
	HexLen = 16
)

// Node returns the node id part.
func (id ID) Node() int { return int(id & MaxNodeID) }

// Slot returns the millisecond slot of id. It is no later than the time the
// id was issued (often earlier: see the ID doc).
func (id ID) Slot() time.Time {
	return time.UnixMilli(int64(id>>(seqBits+nodeBits)) + idEpochMs).UTC()
}

// AppendHex appends id as 16 lower-case hex digits. It does not allocate if
// dst has room.
func (id ID) AppendHex(dst []byte) []byte {
	// Two 8-octet stores of digits computed in registers: the digits
	// stored one octet at a time (a table lookup and a store each) were
	// 16 dependent steps, and the copies that read them back with wide
	// loads waited for 16 stores to drain.
	n := len(dst)
	dst = slices.Grow(dst, HexLen)[:n+HexLen]
	binary.BigEndian.PutUint64(dst[n:], hexWord(uint32(id>>32)))
	binary.BigEndian.PutUint64(dst[n+8:], hexWord(uint32(id)))
	return dst
}

// hexWord returns x's eight hex digits (lower case), the most significant
// in the top octet.
func hexWord(x uint32) uint64 {
	v := uint64(x)
	// Spread the nibbles one per octet: halves, then octets, then nibbles.
	v = (v | v<<16) & 0x0000ffff0000ffff
	v = (v | v<<8) & 0x00ff00ff00ff00ff
	v = (v | v<<4) & 0x0f0f0f0f0f0f0f0f
	// 1 in each octet whose nibble is 10 or more (adding 6 carries into
	// bit 4), which moves from after '9' to 'a'.
	letters := (v + 0x0606060606060606) >> 4 & 0x0101010101010101
	return v + 0x3030303030303030 + letters*('a'-'0'-10)
}

// AppendDecimal appends id in decimal (1..20 digits, no padding).
func (id ID) AppendDecimal(dst []byte) []byte { return strconv.AppendUint(dst, uint64(id), 10) }

// String returns the hex form.
func (id ID) String() string { return string(id.AppendHex(nil)) }

// ErrBadID is returned by ParseID and ParseDecimalID for text that is not an id.
var ErrBadID = errors.New("msg: not a message id")

// ParseID parses the 16-digit hex form (either case). It does not allocate.
func ParseID(b []byte) (ID, error) {
	if len(b) != HexLen {
		return 0, ErrBadID
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, ErrBadID
		}
		v = v<<4 | uint64(c)
	}
	return ID(v), nil
}

// ParseDecimalID parses the decimal form. It does not allocate.
func ParseDecimalID(b []byte) (ID, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, ErrBadID
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, ErrBadID
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, ErrBadID
		}
		v = v*10 + d
	}
	return ID(v), nil
}

// IDGen issues IDs. It is safe for concurrent use and lock-free: an id costs
// two atomic loads, and once per IDRun ids an atomic add (idrun.go), except
// that once per 2048 ids (at most once per millisecond in practice) a caller
// reads the clock. It blocks only beyond 2.048M ids/s sustained (see ID).
// Create it with NewIDGen.
type IDGen struct {
	n       atomic.Uint64 // ids issued or reserved in runs
	allowed atomic.Uint64 // slots below this index are known to have arrived
	node    uint64
	base    uint64 // ms since idEpochMs of slot 0
	clk     idClock
	runs    []pRun // one per P at creation (idrun.go)
	stale   uint64 // staleAfter(len(runs))

	// kept: slots below it are covered by a persisted floor (KeepFloor);
	// without a keeper it stays at its maximum, so Next never looks.
	kept  atomic.Uint64
	keepM sync.Mutex // serialises keep calls
	block uint64
	keep  func(floor uint64)
}

// idClock is the time source; tests inject a fake.
type idClock interface {
	wallMs() int64         // Unix milliseconds
	monoMs() int64         // milliseconds since the clock was created, monotonic
	sleep(d time.Duration) // wait about d
}

type realClock struct{ start time.Time }

func (c realClock) wallMs() int64         { return time.Now().UnixMilli() }
func (c realClock) monoMs() int64         { return int64(time.Since(c.start) / time.Millisecond) }
func (c realClock) sleep(d time.Duration) { time.Sleep(d) }

// NewIDGen returns a generator for node (0..MaxNodeID). It waits for the
// next millisecond to begin (at most 1 ms) so that its first slot is after
// every id an earlier process on this node issued.
func NewIDGen(node int) (*IDGen, error) {
	return newIDGen(node, 0, realClock{start: time.Now()})
}

// NewIDGenAbove is NewIDGen for a node whose earlier runs persisted floor
// (a raw ID value, Floor of a KeepFloor): its first slot is after floor's
// millisecond even when the wall clock now reads earlier (stepped back
// between runs), so no id of an earlier run is issued again. floor 0 is
// NewIDGen.
func NewIDGenAbove(node int, floor uint64) (*IDGen, error) {
	return newIDGen(node, floor, realClock{start: time.Now()})
}

func newIDGen(node int, floor uint64, clk idClock) (*IDGen, error) {
	if node < 0 || node > MaxNodeID {
		return nil, errors.New("msg: node id out of range 0..4095")
	}
	now := clk.wallMs() - idEpochMs
	if now < 0 || now >= 1<<msBits-1 {
		return nil, errors.New("msg: system clock is outside 2025..2094; message ids need a set clock")
	}
	base := uint64(now) + 1
	if f := floor >> (seqBits + nodeBits); f >= base {
		if f >= 1<<msBits-2 {
			return nil, errors.New("msg: the persisted message-id floor is at the end of the id space")
		}
		base = f + 1
	}
	g := &IDGen{node: uint64(node), base: base, clk: clk, runs: newRuns()}
	g.stale = staleAfter(len(g.runs))
	g.kept.Store(^uint64(0))
	// base's millisecond must have begun: the gate needs slot 0 available.
	for g.limit() == 0 {
		clk.sleep(200 * time.Microsecond)
	}
	return g, nil
}

// limit returns how many slots have arrived: slot b may be used once the
// monotonic clock, counted from the generator's creation, reaches
// millisecond base+b (never the wall clock: see ID).
func (g *IDGen) limit() uint64 {
	start := g.base - 1 // the millisecond the generator was created in
	reached := int64(start) + g.clk.monoMs()
	if reached < int64(g.base) {
		return 0
	}
	return uint64(reached) - g.base + 1
}

// Next returns a fresh ID: the next of this P's run (idrun.go), or the first
// of a new run.
func (g *IDGen) Next() ID {
	k, ok := g.fromRun()
	if !ok {
		k = g.newRun()
	}
	return g.id(k)
}

// NextInOrder returns a fresh ID taken straight from the counter, never
// from a P's run: the ids one caller gets this way, one after another,
// increase (and so do those of callers ordered by happens-before). For
// the paths off the event loops (the HTTP API), whose users list their
// messages newest first by id; it costs the atomic add per id that runs
// save the loops.
func (g *IDGen) NextInOrder() ID { return g.id(g.reserve(1)) }

// reserve takes n consecutive counter values and returns the first, once
// the slots of all of them have arrived and are under the kept floor.
func (g *IDGen) reserve(n uint64) uint64 {
	k := g.n.Add(n) - n
	last := (k + n - 1) >> seqBits
	if last >= g.allowed.Load() {
		g.await(last)
	}
	if last+g.block/2 >= g.kept.Load() {
		g.keepAhead(last)
	}
	return k
}

// id is the ID of counter value k.
func (g *IDGen) id(k uint64) ID {
	return ID((g.base+k>>seqBits)<<(seqBits+nodeBits) | (k&seqMask)<<nodeBits | g.node)
}

// await blocks until slot has arrived and publishes the new limit.
func (g *IDGen) await(slot uint64) {
	for {
		lim := g.limit()
		for cur := g.allowed.Load(); lim > cur && !g.allowed.CompareAndSwap(cur, lim); cur = g.allowed.Load() {
		}
		if slot < lim {
			return
		}
		g.clk.sleep(time.Duration(slot-lim+1) * time.Millisecond)
	}
}

// KeepFloor makes g persist its high-water mark ahead of use: keep is
// called with a raw ID value above every id issued so far and the next
// block slots (block*2048 ids), before any of them is issued, and again
// when half the block is used. Start the next run with NewIDGenAbove(node,
// the last value kept). keep runs on the goroutine issuing an id (an
// event loop): it must not block, only hand the value to its store; it is
// called once at KeepFloor and then about once per block/2 slots. Call it
// before the first Next.
func (g *IDGen) KeepFloor(block int, keep func(floor uint64)) {
	g.block, g.keep = uint64(max(block, 2)), keep
	g.kept.Store(0)
	g.keepAhead(g.n.Load() >> seqBits)
}

// keepAhead persists a floor beyond slot. Only the id that needs it waits
// for the lock: ids in the half block before the floor go on while another
// caller keeps the next one.
func (g *IDGen) keepAhead(slot uint64) {
	if slot < g.kept.Load() {
		if !g.keepM.TryLock() {
			return
		}
	} else {
		g.keepM.Lock()
	}
	defer g.keepM.Unlock()
	if slot+g.block/2 < g.kept.Load() {
		return
	}
	next := slot + g.block
	g.keep(g.Floor(next))
	g.kept.Store(next)
}

// Floor is the raw value of slot's first id: above every id of the
// earlier slots.
func (g *IDGen) Floor(slot uint64) uint64 {
	return (g.base+slot)<<(seqBits+nodeBits) | g.node
}

// Append appends a fresh ID in hex (16 bytes) to dst. It does not allocate
// if dst has room.
func (g *IDGen) Append(dst []byte) []byte { return g.Next().AppendHex(dst) }

// AppendDecimal appends a fresh ID in decimal (at most 20 bytes). Use one
// form per deployment: a peer matches receipts to submit_sm_resp by text.
func (g *IDGen) AppendDecimal(dst []byte) []byte { return g.Next().AppendDecimal(dst) }
