package disk

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
	"github.com/smppd/smppd/storage/memory"
)

// The model test drives the disk store with random operations and, at
// random moments, copies its directory while the log's goroutine may be
// writing (what a kill -9 leaves on disk: whole segments, the last one
// possibly torn), opens the copy and compares it with the memory store
// (the oracle) fed the same operations up to what the copy holds. Every
// entry committed before the copy began must be there. Forced compactions
// run in between, so copies see segments removed and objects re-appended.

// Universes the operations draw from: small, so they collide.
const (
	mIDs   = 48
	mConns = 3
	mKeys  = 12
)

var mUsers = []string{"alice", "bob", "carol", "dave"}

// mOp is one operation; item names a held item (its keys differ per store).
type mOp struct {
	kind     int
	rec      storage.Record
	body     []byte
	id       msg.ID
	st       msg.State
	code     uint16
	at       int64
	conn     int
	key      string
	item     int
	held     storage.Held
	attempts int
	led      storage.LedgerEntry
	dead     storage.DeadLetter
	floor    uint64
}

const (
	opPut = iota
	opPutMessage
	opSetState
	opFinish
	opAccepted
	opReplaced
	opDelete
	opUpstream
	opUpstreamOf
	opHold
	opLease
	opRelease
	opAck
	opLedger
	opDead
	opFloor
	nOps
)

// mHarness keeps the operations applied and the position after each.
type mHarness struct {
	t     *testing.T
	rng   *rand.Rand
	clk   atomic.Int64
	ops   []mOp
	pos   []uint64 // the log's Appended after ops[i] (lazy entries included)
	items int      // held items made so far
	// prealloc: segments begun from spares, compaction's removed ones
	// recycled into them (wal's Preallocate).
	prealloc bool
}

// opts are the model's store options in dir.
func (m *mHarness) opts(dir string) Options {
	o := modelOpts(dir, m.now)
	o.Preallocate = m.prealloc
	return o
}

func (m *mHarness) now() int64 { return m.clk.Load() }

// next draws an operation.
func (m *mHarness) next() mOp {
	r := m.rng
	id := msg.ID(r.IntN(mIDs)<<12 | 7)
	o := mOp{kind: r.IntN(nOps), id: id, at: m.now()}
	switch o.kind {
	case opPut, opPutMessage:
		rec := storage.Record{ID: id, SystemID: mUsers[r.IntN(len(mUsers))], State: msg.StateEnroute,
			RegisteredDelivery: byte(r.IntN(2)), DataCoding: byte(r.IntN(9)), Connector: int32(r.IntN(3)),
			Submitted: m.now(), Parts: uint8(1 + r.IntN(3)), Expires: m.now() + int64(time.Minute),
			Charge: int64(r.IntN(4)) * 100, ChargeParts: uint16(r.IntN(3))}
		rec.SetAddrs(fmt.Appendf(nil, "src%d", r.IntN(100)), fmt.Appendf(nil, "dst%d", r.IntN(100)),
			fmt.Appendf(nil, "text %d", r.IntN(1000)))
		o.rec = rec
		if o.kind == opPutMessage {
			o.body = bytes.Repeat([]byte{byte(r.IntN(256))}, 1+r.IntN(300))
		}
	case opSetState, opFinish:
		o.st, o.code = msg.State(1+r.IntN(8)), uint16(r.IntN(100))
	case opAccepted:
		if r.IntN(2) == 0 {
			o.st, o.code, o.at = msg.StateDelivered, 0, m.now()+int64(r.IntN(3))*int64(time.Second)
		}
	case opReplaced:
		o.rec = storage.Record{RegisteredDelivery: 1, Parts: uint8(r.IntN(5)), Submitted: m.now()}
		o.rec.SetAddrs(nil, nil, fmt.Appendf(nil, "replaced %d", r.IntN(1000)))
	case opUpstream, opUpstreamOf:
		o.conn, o.key = r.IntN(mConns), fmt.Sprintf("UP-%d", r.IntN(mKeys))
	case opHold:
		m.items++
		o.item = m.items
		o.held = storage.Held{SystemID: mUsers[r.IntN(len(mUsers))], Kind: storage.HeldKind(1 + r.IntN(2)),
			ID: msg.ID(o.item), Body: fmt.Appendf(nil, "held %d", o.item), Expires: m.now() + int64(time.Hour),
			Attempts: r.IntN(3)}
	case opLease:
		o.key = mUsers[r.IntN(len(mUsers))]
	case opRelease, opAck:
		if m.items > 0 {
			o.item = 1 + r.IntN(m.items)
		}
		o.attempts = r.IntN(9)
	case opLedger:
		o.led = storage.LedgerEntry{SystemID: mUsers[r.IntN(len(mUsers))], Kind: storage.LedgerKind(1 + r.IntN(4)),
			Amount: int64(r.IntN(1000)), ID: id}
	case opDead:
		o.dead = storage.DeadLetter{Kind: storage.HeldMO, Connector: int32(r.IntN(3)), SystemID: mUsers[r.IntN(len(mUsers))],
			ID: id, Reason: "no route", Body: fmt.Appendf(nil, "dead %d", r.IntN(1000)), At: m.now()}
	case opFloor:
		o.floor = uint64(r.IntN(1 << 20))
	}
	return o
}

// apply applies o to s; keys maps items to s's keys. Leases are skipped
// when leases is false (an oracle rebuilding what a restart keeps).
func apply(s storage.Store, o *mOp, keys map[int]storage.HeldKey, leases bool) error {
	var out storage.Record
	switch o.kind {
	case opPut:
		r := o.rec
		return s.Put(&r)
	case opPutMessage:
		r := o.rec
		return s.PutMessage(&r, o.body)
	case opSetState:
		return s.SetState(o.id, o.st, o.code, o.at)
	case opFinish:
		return s.Finish(o.id, o.st, o.code, o.at, &out)
	case opAccepted:
		return s.SetAccepted(o.id, o.st, o.code, o.at)
	case opReplaced:
		r := o.rec
		return s.SetReplaced(o.id, &r)
	case opDelete:
		return s.Delete(o.id)
	case opUpstream:
		return s.PutUpstream(o.conn, []byte(o.key), o.id)
	case opUpstreamOf:
		return s.PutUpstreamOf(o.id, []byte(o.key))
	case opHold:
		h := o.held
		k, err := s.Holds().Hold(&h)
		if err == nil {
			keys[o.item] = k
		}
		return err
	case opLease:
		if !leases {
			return nil
		}
		dst := make([]storage.Held, 2)
		_, err := s.Holds().Lease(o.key, o.at+int64(time.Hour), dst)
		return err
	case opRelease:
		k, ok := keys[o.item]
		if !ok {
			return storage.ErrNotFound
		}
		return s.Holds().Release(k, o.attempts)
	case opAck:
		k, ok := keys[o.item]
		if !ok {
			return storage.ErrNotFound
		}
		err := s.Holds().Ack(k)
		if err == nil {
			delete(keys, o.item)
		}
		return err
	case opLedger:
		return s.Ledger().Append(&o.led)
	case opDead:
		d := o.dead
		return s.DeadLetters().Add(&d)
	case opFloor:
		return s.SetIDFloor(o.floor)
	}
	return nil
}

// snapshot renders everything a store keeps that survives a restart.
func snapshot(t *testing.T, s storage.Store) string {
	var b strings.Builder
	for i := range mIDs {
		id := msg.ID(i<<12 | 7)
		var r storage.Record
		if err := s.Get(id, &r); err == nil {
			// Octets past the lengths are no part of a record.
			clear(r.Source[r.SourceLen:])
			clear(r.Dest[r.DestLen:])
			clear(r.Text[r.TextLen:])
			fmt.Fprintf(&b, "rec %+v\n", r)
		}
		if up, ok := s.UpstreamOf(id, nil); ok {
			fmt.Fprintf(&b, "rev %v %s\n", id, up)
		}
	}
	for c := range mConns {
		for k := range mKeys {
			if id, ok := s.Upstream(c, fmt.Appendf(nil, "UP-%d", k)); ok {
				fmt.Fprintf(&b, "up %d %d %v\n", c, k, id)
			}
		}
	}
	var bal []string
	if err := s.Ledger().Balances(func(u string, v int64, set bool) {
		bal = append(bal, fmt.Sprintf("bal %s %d %v", u, v, set))
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(bal)
	b.WriteString(strings.Join(bal, "\n"))
	if err := s.DeadLetters().List(0, func(d *storage.DeadLetter) {
		fmt.Fprintf(&b, "\ndead %v %d %s %v %s %q %d", d.Kind, d.Connector, d.SystemID, d.ID, d.Reason, d.Body, d.At)
	}); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "\nfloor %d\n", s.IDFloor())
	dst := make([]storage.Held, 1024)
	for _, u := range mUsers {
		n, err := s.Holds().Lease(u, 1, dst)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range dst[:n] {
			fmt.Fprintf(&b, "held %s %v %v %q %d %d\n", h.SystemID, h.Kind, h.ID, h.Body, h.Expires, h.Attempts)
			if err := s.Holds().Release(h.Key, h.Attempts); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.String()
}

// copyDir copies the segment files of dir to a new directory, in order,
// while the log may be writing: what a process kill leaves. With tear,
// the copy of the last segment, when it holds committed, is cut at a
// random length past it: an entry torn where nothing committed can be.
func copyDir(t *testing.T, dir string, committed wal.Pos, tear *rand.Rand) string {
	dst := t.TempDir()
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var last string
	var lastb []byte
	for _, n := range names {
		if filepath.Ext(n.Name()) != ".wal" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // compaction removed it meanwhile
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, n.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
		last, lastb = n.Name(), b
	}
	if tear != nil && last == fmt.Sprintf("%010d.wal", committed.Segment()) && int64(len(lastb)) > committed.Offset() {
		cut := committed.Offset() + tear.Int64N(int64(len(lastb))-committed.Offset())
		if err := os.Truncate(filepath.Join(dst, last), cut); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// modelOpts are the store options of the model test: small segments so
// rotation and compaction happen often, no compaction goroutine.
func modelOpts(dir string, now func() int64) Options {
	return Options{Dir: dir, Sync: wal.SyncAlways, SegmentSize: 8 << 10, TTL: time.Hour, MaxHeld: 1 << 16,
		MaxDeadLetters: 8, Now: now, CompactEvery: -1}
}

func TestModelCrashCopies(t *testing.T) {
	seeds, n := 6, 3000
	if testing.Short() {
		seeds, n = 2, 1500
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, uint64(seed), n, false) })
	}
}

// The same with segments prepared ahead and compacted ones recycled: the
// crash copies then end in the stale entries of a segment's previous life.
func TestModelCrashCopiesRecycled(t *testing.T) {
	seeds, n := 4, 3000
	if testing.Short() {
		seeds, n = 2, 1500
	}
	recycled := uint64(0)
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { recycled += runModel(t, uint64(100+seed), n, true) })
	}
	if recycled == 0 {
		t.Fatal("no segment was recycled: the test did not test it")
	}
}

// runModel runs n random operations from seed with crash copies checked
// against the oracle; it returns the spares made from recycled segments.
func runModel(t *testing.T, seed uint64, n int, prealloc bool) uint64 {
	m := &mHarness{t: t, rng: rand.New(rand.NewPCG(seed, 0x5eed)), prealloc: prealloc}
	m.clk.Store(int64(1_760_000_000) * int64(time.Second))
	dir := t.TempDir()
	s, err := Open(m.opts(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := map[int]storage.HeldKey{}
	crashes, compactions := 0, 0
	for i := range n {
		m.clk.Add(int64(time.Millisecond))
		o := m.next()
		err := apply(s, &o, keys, true)
		if err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrFinal) {
			t.Fatalf("op %d (%d): %v", i, o.kind, err)
		}
		m.ops = append(m.ops, o)
		m.pos = append(m.pos, s.log.Appended())
		switch r := m.rng.IntN(1000); {
		case r < 8:
			m.crash(t, s)
			crashes++
		case r < 12:
			if _, err := s.Compact(true); err != nil {
				t.Fatalf("Compact: %v", err)
			}
			compactions++
		}
	}
	m.crash(t, s)
	recycled := s.log.Stats().PreallocRecycled
	t.Logf("seed %d: %d ops, %d crash copies, %d compactions, %d segments left, %d recycled", seed, n, crashes+1, compactions,
		len(s.log.Segments()), recycled)
	return recycled
}

// crash copies s's directory as a kill would leave it, opens the copy and
// compares it with the oracle at the copy's position.
func (m *mHarness) crash(t *testing.T, s *Store) {
	t.Helper()
	committed := s.log.Committed()
	var tear *rand.Rand
	if m.rng.IntN(3) == 0 {
		tear = m.rng
	}
	dir := copyDir(t, s.o.Dir, wal.Pos(committed), tear)
	c, err := Open(m.opts(dir))
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer c.Close()
	w := c.log.Appended()
	if w < committed {
		t.Fatalf("the copy ends at %x, before %x committed when it began", w, committed)
	}
	oracle := memory.New(memory.Options{MaxRecords: 1 << 16, MaxUpstream: 1 << 16, MaxHeld: 1 << 16,
		MaxDeadLetters: 8, TTL: time.Hour, Now: m.now})
	okeys := map[int]storage.HeldKey{}
	k := 0
	for ; k < len(m.ops) && m.pos[k] <= w; k++ {
		_ = apply(oracle, &m.ops[k], okeys, false)
	}
	got, want := snapshot(t, c), snapshot(t, oracle)
	if got != want {
		t.Fatalf("after %d of %d ops (copy at %x, committed %x):\n%s", k, len(m.ops), w, committed, diffLines(want, got))
	}
	m.checkRecover(t, c, k)
}

// checkRecover holds Recover to the operations up to k: every record not
// final, with the body of its latest PutMessage until it was accepted.
func (m *mHarness) checkRecover(t *testing.T, c *Store, k int) {
	t.Helper()
	type shadow struct {
		body  []byte
		final bool
	}
	want := map[msg.ID]*shadow{}
	for _, o := range m.ops[:k] {
		sh := want[o.id]
		switch o.kind {
		case opPut, opPutMessage:
			want[o.id] = &shadow{body: o.body}
		case opSetState, opFinish:
			if sh != nil && !sh.final {
				sh.final = o.st.Final()
				if sh.final {
					sh.body = nil
				}
			}
		case opAccepted:
			if sh != nil {
				sh.body = nil
			}
		case opDelete:
			delete(want, o.id)
		}
	}
	seen := 0
	err := c.Recover(func(r *storage.Record, b []byte) error {
		sh := want[r.ID]
		if sh == nil || sh.final {
			return fmt.Errorf("recovered %v, which is final or gone", r.ID)
		}
		if !bytes.Equal(b, sh.body) {
			return fmt.Errorf("recovered %v with %d bytes, want %d", r.ID, len(b), len(sh.body))
		}
		seen++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pending := 0
	for _, sh := range want {
		if !sh.final {
			pending++
		}
	}
	if seen != pending {
		t.Fatalf("Recover gave %d records, want %d", seen, pending)
	}
}

// diffLines shows the lines only one side has, or where the two first
// differ when both have the same lines.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i, w[i], g[i])
			break
		}
	}
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}
