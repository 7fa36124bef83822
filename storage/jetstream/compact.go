package jetstream

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk"
)

// Journal compaction (docs/CLUSTER.md, "Journal compaction"). The journal
// stream holds, besides the nodes' batches on JournalFilter, a base: the
// state every entry up to a stream sequence (its cut) left, written as
// journal entries on BaseData and closed by a marker on BaseDone. A start
// applies the newest complete base, then the batches after its cut, which
// gives the index a replay of the whole journal would. Compact writes a
// new base from the previous one and the batches up to a cut every live
// node has applied, then purges what it replaces: the journal holds the
// live state plus the batches since the last compaction, not history.
//
// The base keeps, in journal order, every entry of what is still alive at
// the cut (a record with its states and upstream ids, a held item not
// acknowledged, a callback, the newest dead letters), drops the rest
// (deleted, final and swept records, acknowledged items, deleted
// callbacks), and ends with one ledger entry per account and the newest id
// floor per node (kFrom names the node the entries after it came from).
const (
	// JournalFilter matches every node's journal subject.
	JournalFilter = "smppd.journal.*"
	// BaseData and BaseDone are the base's subjects: its chunks, and the
	// marker that closes one (headers hdrBase*).
	BaseData = "smppd.base.data"
	BaseDone = "smppd.base.done"
)

// Headers of a base's chunks and marker.
const (
	hdrBaseGen    = "Smppd-Base-Gen"    // the base's unique name (chunks and marker)
	hdrBaseCut    = "Smppd-Base-Cut"    // marker: the last stream sequence it holds
	hdrBaseFirst  = "Smppd-Base-First"  // marker: its first chunk's sequence
	hdrBaseChunks = "Smppd-Base-Chunks" // marker: how many chunks
)

// baseChunk bounds a chunk, well under the servers' 4 MiB max_payload.
const baseChunk = 1 << 20

// base is a complete base, as its marker describes it.
type base struct {
	gen        string
	cut, first uint64
	chunks     int
	markerSeq  uint64
	found      bool
}

// errRebased: a compaction purged entries during a start's replay; the
// start replays again from the new base.
var errRebased = errors.New("jetstream: the journal was compacted during the replay")

// lastBase reads the newest complete base's marker (found false: none).
func lastBase(ctx context.Context, st natsjs.Stream) (base, error) {
	m, err := st.GetLastMsgForSubject(ctx, BaseDone)
	if errors.Is(err, natsjs.ErrMsgNotFound) {
		return base{}, nil
	}
	if err != nil {
		return base{}, err
	}
	b := base{gen: m.Header.Get(hdrBaseGen), markerSeq: m.Sequence, found: true}
	var e1, e2, e3 error
	b.cut, e1 = strconv.ParseUint(m.Header.Get(hdrBaseCut), 10, 64)
	b.first, e2 = strconv.ParseUint(m.Header.Get(hdrBaseFirst), 10, 64)
	b.chunks, e3 = strconv.Atoi(m.Header.Get(hdrBaseChunks))
	if err := errors.Join(e1, e2, e3); err != nil || b.gen == "" {
		return base{}, fmt.Errorf("jetstream: base marker at %d unreadable: %v", m.Sequence, err)
	}
	return b, nil
}

// eachBase calls fn with every chunk of b, in order, no chunk twice.
func eachBase(ctx context.Context, st natsjs.Stream, b base, fn func(p []byte)) error {
	if b.chunks == 0 {
		return nil
	}
	next, got := b.first, 0
	take := func(m natsjs.Msg) (bool, error) {
		md, err := m.Metadata()
		if err != nil {
			return false, err
		}
		if md.Sequence.Stream > b.markerSeq {
			return false, fmt.Errorf("jetstream: base %s: %d of %d chunks before its marker", b.gen, got, b.chunks)
		}
		next = md.Sequence.Stream + 1
		if m.Headers().Get(hdrBaseGen) == b.gen {
			fn(m.Data())
			got++
		}
		return got == b.chunks, nil // what follows is a later base's, written by a compaction running now
	}
	for {
		var cons natsjs.Consumer
		err := retry(ctx, func(c context.Context) error {
			var err error
			cons, err = st.OrderedConsumer(c, natsjs.OrderedConsumerConfig{FilterSubjects: []string{BaseData},
				DeliverPolicy: natsjs.DeliverByStartSequencePolicy, OptStartSeq: next})
			return err
		})
		if err == nil {
			err = fetchAll(ctx, cons, 64, take)
		}
		if !errors.Is(err, errFetchStuck) {
			if err != nil {
				return fmt.Errorf("jetstream: base %s: %d of %d chunks read: %w", b.gen, got, b.chunks, err)
			}
			return nil
		}
	}
}

// eachJournal calls fn with every journal batch of a stream sequence in
// (from, to], in order, then returns.
func eachJournal(ctx context.Context, st natsjs.Stream, from, to uint64, fn func(node int, p []byte)) error {
	if to <= from {
		return nil
	}
	next := from + 1
	take := func(m natsjs.Msg) (bool, error) {
		md, err := m.Metadata()
		if err != nil {
			return false, err
		}
		if md.Sequence.Stream > to {
			return true, nil
		}
		node, _ := strconv.Atoi(m.Headers().Get(hdrNode))
		fn(node, m.Data())
		next = md.Sequence.Stream + 1
		return md.Sequence.Stream == to || md.NumPending == 0, nil
	}
	for {
		var cons natsjs.Consumer
		var pending uint64
		err := retry(ctx, func(c context.Context) error {
			var err error
			cons, err = st.OrderedConsumer(c, natsjs.OrderedConsumerConfig{FilterSubjects: []string{JournalFilter},
				DeliverPolicy: natsjs.DeliverByStartSequencePolicy, OptStartSeq: next})
			if err != nil {
				return err
			}
			info, err := cons.Info(c)
			if err == nil {
				pending = info.NumPending
			}
			return err
		})
		if err == nil && pending == 0 {
			return nil
		}
		if err == nil {
			err = fetchAll(ctx, cons, 256, take)
		}
		if !errors.Is(err, errFetchStuck) {
			if err != nil {
				return fmt.Errorf("jetstream: journal (%d, %d], at %d: %w", from, to, next, err)
			}
			return nil
		}
	}
}

// errFetchStuck: fetchAll's fetches kept failing; the caller makes a new
// consumer from where it got to.
var errFetchStuck = errors.New("jetstream: fetches keep failing")

// fetchTries bounds the failed fetches in a row on one consumer.
const fetchTries = 20

// fetchAll fetches batches of up to n messages from cons and hands each to
// take, in order, until take says done. A fetch nobody answers is made
// again after a pause: a new consumer's pull subscription may not have
// reached this server over the routes yet, or its stream is electing a
// leader (a node just started, or a peer left).
func fetchAll(ctx context.Context, cons natsjs.Consumer, n int, take func(natsjs.Msg) (done bool, err error)) error {
	fails := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := cons.Fetch(n, natsjs.FetchMaxWait(time.Second))
		if err == nil {
			for m := range batch.Messages() {
				if done, err := take(m); done || err != nil {
					return err
				}
			}
			if err = batch.Error(); err == nil || errors.Is(err, nats.ErrTimeout) {
				fails = 0
				continue
			}
		}
		if fails++; fails >= fetchTries {
			return fmt.Errorf("%w: %w", errFetchStuck, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// eachEntry splits a batch into its entries; kFrom changes node for the
// entries after it.
func eachEntry(node int, p []byte, fn func(node int, kind byte, e []byte)) {
	var unz []byte
	p, err := unwrap(&unz, p)
	if err != nil {
		return
	}
	for len(p) >= 5 {
		n := int(uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24)
		if n < 1 || len(p) < 4+n {
			return
		}
		e := p[4 : 4+n]
		p = p[4+n:]
		if e[0] == kFrom {
			d := reader{p: e[1:]}
			if v := int(d.u32()); d.err == nil {
				node = v
			}
			continue
		}
		fn(node, e[0], e[1:])
	}
}

// scratch is an index outside any journal, for a compaction's pass over
// the journal: the same applier as Open's.
type scratch struct {
	s   *Store
	dir string
}

func (s *Store) newScratch(name string) (*scratch, error) {
	dir := filepath.Join(s.o.Dir, name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	idx, err := disk.Open(s.indexOptions(dir))
	if err != nil {
		return nil, err
	}
	o := s.o
	o.Node, o.OnHeld = -1, nil // floors are kept apart; no delivery
	sc := &scratch{s: &Store{o: o, idx: idx, lg: s.lg}, dir: dir}
	sc.s.holds.init(sc.s)
	sc.s.bodies.m = make(map[msg.ID][]byte)
	sc.s.apply.s = sc.s
	return sc, nil
}

func (sc *scratch) close() {
	_ = sc.s.idx.Close()
	_ = os.RemoveAll(sc.dir)
}

// CompactStats says what a compaction did.
type CompactStats struct {
	Gen                 string
	Cut                 uint64 // the last stream sequence the new base holds
	Read, Kept, Dropped uint64 // entries
	Chunks              int
	Bytes               int
	Took                time.Duration
}

// Compact writes a new base holding the journal up to cut (a stream
// sequence every live node has applied: cluster.Node.RunCompaction takes
// the smallest they report) and purges the batches and the older base it
// replaces. A cut at or below the newest base's does nothing. One node
// compacts at a time (the lowest live one).
func (s *Store) Compact(ctx context.Context, cut uint64) (CompactStats, error) {
	t0 := time.Now()
	var cs CompactStats
	st, err := s.o.JS.Stream(ctx, s.o.Stream)
	if err != nil {
		return cs, fmt.Errorf("jetstream: compaction: stream %s: %w", s.o.Stream, err)
	}
	prev, err := lastBase(ctx, st)
	if err != nil {
		return cs, fmt.Errorf("jetstream: compaction: the last base: %w", err)
	}
	if cut <= prev.cut {
		return cs, nil
	}
	// Pass 1: the state at cut.
	full, err := s.newScratch("compact-full")
	if err != nil {
		return cs, err
	}
	defer full.close()
	floors := map[int]uint64{}
	var deads uint64
	pass := func(fn func(node int, kind byte, e []byte)) error {
		if prev.found {
			if err := eachBase(ctx, st, prev, func(p []byte) { eachEntry(0, p, fn) }); err != nil {
				return fmt.Errorf("jetstream: compaction: read base %s: %w", prev.gen, err)
			}
		}
		if err := eachJournal(ctx, st, prev.cut, cut, func(node int, p []byte) { eachEntry(node, p, fn) }); err != nil {
			return fmt.Errorf("jetstream: compaction: read the journal (%d, %d]: %w", prev.cut, cut, err)
		}
		return nil
	}
	err = pass(func(node int, kind byte, e []byte) {
		cs.Read++
		switch kind {
		case kFloor:
			d := reader{p: e}
			if v := d.u64(); d.err == nil && v > floors[node] {
				floors[node] = v
			}
			return
		case kDead:
			deads++
		}
		_ = full.s.apply.entry(node, kind, e)
	})
	if err != nil {
		return cs, err
	}
	full.s.idx.Sweep(s.now())
	skipDead := deads - min(deads, uint64(full.s.idx.DeadLetters().Len()))

	// Pass 2: what is alive at cut, in order, to the new base; applied to
	// a second scratch index for the balance changes it makes itself.
	kept, err := s.newScratch("compact-kept")
	if err != nil {
		return cs, err
	}
	defer kept.close()
	cs.Gen = strconv.Itoa(s.o.Node) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	w := &baseWriter{ctx: ctx, js: s.o.JS, gen: cs.Gen, node: -1}
	err = pass(func(node int, kind byte, e []byte) {
		if w.err != nil {
			return
		}
		if kind == kDead {
			if skipDead > 0 {
				skipDead--
				cs.Dropped++
				return
			}
		} else if !full.alive(kind, e) {
			cs.Dropped++
			return
		}
		cs.Kept++
		_ = kept.s.apply.entry(node, kind, e)
		w.add(node, kind, e)
	})
	if err == nil && w.err != nil {
		err = fmt.Errorf("jetstream: compaction: write base %s: %w", cs.Gen, w.err)
	}
	if err != nil {
		return cs, err
	}
	// The balances: what the journal up to cut gives, less what the kept
	// entries (records' charges) will apply again on a replay.
	again := map[string]int64{}
	_ = kept.s.idx.Ledger().Balances(func(id string, v int64, _ bool) { again[id] = v })
	b := make([]byte, 0, 64)
	_ = full.s.idx.Ledger().Balances(func(id string, v int64, set bool) {
		e := storage.LedgerEntry{SystemID: id, Kind: storage.LedgerSet, Amount: v}
		if !set {
			switch d := v - again[id]; {
			case d == 0:
				return
			case d > 0:
				e.Kind, e.Amount = storage.LedgerTopUp, d
			default:
				e.Kind, e.Amount = storage.LedgerCharge, -d
			}
		}
		if e.Amount < 0 { // a set to a negative balance: keep its exact value
			e.Kind, e.Amount = storage.LedgerSet, 0
			w.add(-1, kLedger, appendLedgerEntry(b[:0], &e))
			e.Kind, e.Amount = storage.LedgerCharge, -v
		}
		w.add(-1, kLedger, appendLedgerEntry(b[:0], &e))
	})
	for node, v := range floors {
		w.add(node, kFloor, appendU64(b[:0], v))
	}
	if err := w.finish(cut); err != nil {
		return cs, fmt.Errorf("jetstream: compaction: finish base %s: %w", cs.Gen, err)
	}
	cs.Cut, cs.Chunks, cs.Bytes = cut, w.chunks, w.bytes
	// The new base is complete and acknowledged: drop what it replaces.
	if err := st.Purge(ctx, natsjs.WithPurgeSubject(JournalFilter), natsjs.WithPurgeSequence(cut+1)); err != nil {
		return cs, fmt.Errorf("jetstream: purge the journal up to %d: %w", cut, err)
	}
	keepFrom := w.first // the new base's first chunk, or its marker when it has none
	if keepFrom == 0 {
		keepFrom = w.marker
	}
	if err := st.Purge(ctx, natsjs.WithPurgeSubject(BaseData), natsjs.WithPurgeSequence(keepFrom)); err != nil {
		return cs, fmt.Errorf("jetstream: purge the older base: %w", err)
	}
	if err := st.Purge(ctx, natsjs.WithPurgeSubject(BaseDone), natsjs.WithPurgeKeep(1)); err != nil {
		return cs, fmt.Errorf("jetstream: purge the older base's marker: %w", err)
	}
	cs.Took = time.Since(t0)
	s.compactions.Add(1)
	s.lg.Info().Str("event", "journal_compacted").Str("gen", cs.Gen).Uint64("cut", cut).Uint64("read", cs.Read).
		Uint64("kept", cs.Kept).Uint64("dropped", cs.Dropped).Int("chunks", cs.Chunks).Int("bytes", cs.Bytes).
		Dur("took", cs.Took).Msg("store: journal compacted into a new base")
	return cs, nil
}

// alive reports whether an entry concerns something this (scratch) index
// still holds: a record, an upstream id, a held item, a callback. Ledger
// entries and floors are written apart; deletions and acknowledgements
// of what is gone are not needed.
func (sc *scratch) alive(kind byte, e []byte) bool {
	d := reader{p: e}
	idx := sc.s.idx
	switch kind {
	case kPut, kState, kAccepted, kReplaced, kSpill:
		var r storage.Record
		return idx.Get(msg.ID(d.u64()), &r) == nil && d.err == nil
	case kUpstreamOf:
		id := msg.ID(d.u64())
		_, ok := idx.UpstreamOf(id, nil)
		return ok && d.err == nil
	case kUpstream:
		conn, id, up := int(int32(d.u32())), msg.ID(d.u64()), d.bytes()
		got, ok := idx.Upstream(conn, up)
		return ok && got == id && d.err == nil
	case kHold, kRelease, kTried:
		_, ok := sc.s.apply.local(d.u64())
		return ok && d.err == nil
	case kCallback:
		var c storage.Callback
		return idx.Callbacks().Callback(msg.ID(d.u64()), &c) == nil && d.err == nil
	}
	return false // kDelete, kAck, kCallbackDel, kLedger, kFloor, unknown
}

// baseWriter publishes a base's entries in chunks, each acknowledged
// before the next, then its marker.
type baseWriter struct {
	ctx    context.Context
	js     natsjs.JetStream
	gen    string
	buf    []byte
	node   int    // the node the entries in buf are attributed to (kFrom)
	first  uint64 // the first chunk's stream sequence
	marker uint64 // the marker's
	chunks int
	bytes  int
	err    error
}

func (w *baseWriter) add(node int, kind byte, e []byte) {
	if w.err != nil {
		return
	}
	if len(w.buf)+9+len(e) > baseChunk && len(w.buf) > 0 {
		w.flush()
		w.node = -1
	}
	if node != w.node {
		w.buf = appendU32(w.buf, 5)
		w.buf = append(w.buf, kFrom)
		w.buf = appendU32(w.buf, uint32(node))
		w.node = node
	}
	w.buf = appendU32(w.buf, uint32(1+len(e)))
	w.buf = append(w.buf, kind)
	w.buf = append(w.buf, e...)
}

func (w *baseWriter) flush() {
	if w.err != nil || len(w.buf) == 0 {
		return
	}
	m := nats.NewMsg(BaseData)
	m.Data = w.buf
	m.Header.Set(hdrBaseGen, w.gen)
	ack, err := w.js.PublishMsg(w.ctx, m)
	if err != nil {
		w.err = fmt.Errorf("jetstream: base chunk %d: %w", w.chunks, err)
		return
	}
	if w.first == 0 {
		w.first = ack.Sequence
	}
	w.chunks++
	w.bytes += len(w.buf)
	w.buf = make([]byte, 0, len(w.buf))
}

// finish publishes the last chunk and the marker.
func (w *baseWriter) finish(cut uint64) error {
	w.flush()
	if w.err != nil {
		return w.err
	}
	m := nats.NewMsg(BaseDone)
	m.Header.Set(hdrBaseGen, w.gen)
	m.Header.Set(hdrBaseCut, strconv.FormatUint(cut, 10))
	m.Header.Set(hdrBaseFirst, strconv.FormatUint(w.first, 10))
	m.Header.Set(hdrBaseChunks, strconv.Itoa(w.chunks))
	ack, err := w.js.PublishMsg(w.ctx, m)
	if err != nil {
		return fmt.Errorf("jetstream: base marker: %w", err)
	}
	w.marker = ack.Sequence
	return nil
}

// appendLedgerEntry encodes e as kLedger's payload (apply.go decodes it).
func appendLedgerEntry(b []byte, e *storage.LedgerEntry) []byte {
	b = appendStr(b, e.SystemID)
	b = append(b, byte(e.Kind))
	b = appendU64(b, uint64(e.Amount))
	return appendU64(b, uint64(e.ID))
}
