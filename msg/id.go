package msg

import (
	"errors"
	"strconv"
	"sync/atomic"
	"time"
)

// Message ids.
//
// An ID is a 64-bit value, written as 16 lower-case hex digits (fixed width,
// so ids of one node sort by issue order), or, for peers that want digits
// only, as its decimal value (at most 20 digits):
//
//	bits 63..23  ms   41 bits  a millisecond since 2025-01-01T00:00:00Z (lasts until 2094)
//	bits 22..12  seq  11 bits  ids issued within that millisecond slot (2048)
//	bits 11..0   node 12 bits  node_id from the config, 0..4095
//
// ms and seq come from one atomic counter n: the k-th id of a generator
// (k = 0, 1, ...) has ms = base + k/2048 and seq = k%2048, where base is the
// first millisecond after the generator was created. So ms is not the issue
// time: it is the start time plus the slots used so far, and it moves ahead
// of the start time only as fast as ids are issued.
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

const hexDigits = "0123456789abcdef"

// AppendHex appends id as 16 lower-case hex digits. It does not allocate if
// dst has room.
func (id ID) AppendHex(dst []byte) []byte {
	var b [HexLen]byte
	for i := HexLen - 1; i >= 0; i-- {
		b[i] = hexDigits[id&0xf]
		id >>= 4
	}
	return append(dst, b[:]...)
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
// one atomic add and one atomic load, except that once per 2048 ids (at
// most once per millisecond in practice) a caller reads the clock. It blocks
// only beyond 2.048M ids/s sustained (see ID). Create it with NewIDGen.
type IDGen struct {
	n       atomic.Uint64 // ids issued
	allowed atomic.Uint64 // slots below this index are known to have arrived
	node    uint64
	base    uint64 // ms since idEpochMs of slot 0
	clk     idClock
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
	return newIDGen(node, realClock{start: time.Now()})
}

func newIDGen(node int, clk idClock) (*IDGen, error) {
	if node < 0 || node > MaxNodeID {
		return nil, errors.New("msg: node id out of range 0..4095")
	}
	now := clk.wallMs() - idEpochMs
	if now < 0 || now >= 1<<msBits-1 {
		return nil, errors.New("msg: system clock is outside 2025..2094; message ids need a set clock")
	}
	g := &IDGen{node: uint64(node), base: uint64(now) + 1, clk: clk}
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

// Next returns a fresh ID.
func (g *IDGen) Next() ID {
	k := g.n.Add(1) - 1
	slot := k >> seqBits
	if slot >= g.allowed.Load() {
		g.await(slot)
	}
	return ID((g.base+slot)<<(seqBits+nodeBits) | (k&seqMask)<<nodeBits | g.node)
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

// Append appends a fresh ID in hex (16 bytes) to dst. It does not allocate
// if dst has room.
func (g *IDGen) Append(dst []byte) []byte { return g.Next().AppendHex(dst) }

// AppendDecimal appends a fresh ID in decimal (at most 20 bytes). Use one
// form per deployment: a peer matches receipts to submit_sm_resp by text.
func (g *IDGen) AppendDecimal(dst []byte) []byte { return g.Next().AppendDecimal(dst) }
