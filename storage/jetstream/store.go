// Package jetstream is the cluster's storage.Store: every write goes to a
// local index (a storage/disk store in a scratch directory, rebuilt at
// each open) and, as a journal entry, to the cluster's JetStream journal
// (cluster.JournalStream) in batches published asynchronously; every node
// consumes the whole journal into its index, so every read is local. The
// Committer is the journal's: Committed advances when JetStream
// acknowledges a batch (stored on a majority of the replicas), which is
// when the deferred ESME_ROK of the submits in it is sent. docs/CLUSTER.md
// says what that guarantees.
package jetstream

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk"
)

// Options configure Open.
type Options struct {
	// JS is the node's JetStream context (cluster.Node.JetStream); the
	// journal stream must exist (cluster.Join creates it).
	JS natsjs.JetStream
	// Stream and Subject name the journal (cluster.JournalStream and
	// cluster.JournalSubject(Node)).
	Stream, Subject string
	// Node is this node's id: its Recover and id floor are its own.
	Node int
	// Dir is the local index's directory: emptied at Open.
	Dir string
	// MaxPending bounds the journal bytes appended and not yet
	// acknowledged (default 64 MiB): past it new submits are refused.
	MaxPending int64
	// ReplayTimeout bounds Open's catch-up with the journal (default 5m).
	ReplayTimeout time.Duration
	// OnHeld is called after a held item from another node is applied to
	// the index (the delivery side releases it if its user is bound
	// here); never blocks.
	OnHeld func(systemID string)
	// ClaimHeld makes each lease of a held item claim it in ClaimsBucket
	// first (claims.go: one node delivers it at a time), at one batched
	// KV round trip per Lease. Off, leases are this node's alone: for a
	// store no other node leases from (tests of one store).
	ClaimHeld bool
	// MaxHeld and HeldShare bound this node's own held items (Hold
	// refuses past them, ErrHeldFull); other nodes' items are applied
	// whatever their number: each node's are bounded by its own MaxHeld.
	MaxHeld   int
	HeldShare storage.HeldLimit
	// The index's: see disk.Options.
	TTL            time.Duration
	MaxDeadLetters int
	Now            func() int64
	Logger         zerolog.Logger
}

// Store is the JetStream store; safe for concurrent use.
type Store struct {
	o     Options
	idx   *disk.Store
	j     *journal
	lg    zerolog.Logger
	holds holds
	led   ledger
	dead  deadView
	cbs   callbacks
	apply applier
	// bodies keeps the message bodies of records put by a replayed or
	// another node's journal entry until their acceptance or final state:
	// Recover hands them out (this node's at start, a dead node's to the
	// node that takes its messages over). This node's own live puts need
	// none: the journal has them for the next start.
	bodies struct {
		mu sync.Mutex
		m  map[msg.ID][]byte
	}

	bufs        sync.Pool // *[]byte entry scratch
	close       sync.Once
	compactions atomic.Uint64 // journal compactions this node made (compact.go)
	owners      owners        // the other nodes Recover found work of (owners.go)
	claims      claims        // held items' cluster-wide leases (claims.go)
	spill       spilled       // messages on a shared connector queue (spilled.go)
}

// Open empties o.Dir, opens the index there, replays the journal into it
// (the newest base, then the batches after it; bounded by ReplayTimeout),
// then follows the other nodes' writes and starts the journal's publisher.
func Open(o Options) (*Store, error) {
	if o.MaxPending <= 0 {
		o.MaxPending = 64 << 20
	}
	if o.ReplayTimeout <= 0 {
		o.ReplayTimeout = 5 * time.Minute
	}
	s := &Store{o: o, lg: o.Logger.With().Str("component", "store").Logger()}
	s.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	s.led.s, s.dead.s, s.cbs.s = s, s, s
	ctx, cancel := context.WithTimeout(context.Background(), o.ReplayTimeout)
	defer cancel()
	t0 := time.Now()
	for attempt := 1; ; attempt++ {
		if err := s.openIndex(); err != nil {
			return nil, err
		}
		err := s.apply.start(ctx, s)
		if err == nil {
			break
		}
		_ = s.idx.Close()
		if !errors.Is(err, errRebased) || attempt == 3 {
			return nil, err
		}
		s.lg.Warn().Str("event", "journal_rebased").Int("attempt", attempt).
			Msg("store: the journal was compacted during the replay; replaying again from the new base")
	}
	if err := s.claims.open(ctx, s, o.ClaimHeld); err != nil {
		s.apply.stop()
		_ = s.idx.Close()
		return nil, fmt.Errorf("jetstream: held-item claims bucket %s: %w", ClaimsBucket, err)
	}
	s.j = newJournal(o.JS, o.Subject, o.Node, o.MaxPending, s.lg)
	st := s.idx.Stats()
	s.lg.Info().Str("event", "store_opened").Str("stream", o.Stream).Dur("recovery", time.Since(t0)).
		Uint64("batches", s.apply.batches.Load()).Uint64("entries", s.apply.entries.Load()).Int("records", st.Records).
		Int("held", st.Held).Msg("store: JetStream journal replayed")
	return s, nil
}

// indexOptions are an index's. It keeps no log (NoLog): it is cleared and
// rebuilt from the journal at each open, so a log of it would only be
// written and compacted, never read. It has no held-item limit: every
// item the journal brings was admitted by its producer's Hold (max_held
// and the user's share of that node's own items), so an index holds at
// most the sum of the nodes' max_held, and a replica never drops one.
func (s *Store) indexOptions(dir string) disk.Options {
	return disk.Options{Dir: dir, NoLog: true, TTL: s.o.TTL, MaxHeld: math.MaxInt,
		MaxDeadLetters: s.o.MaxDeadLetters, Now: s.o.Now, Logger: zerolog.Nop()}
}

// openIndex removes the directory an index of an earlier build logged to
// and opens the index, with the maps that go with it, for a replay.
func (s *Store) openIndex() error {
	dir := filepath.Join(s.o.Dir, "index")
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("jetstream: clear the index: %w", err)
	}
	idx, err := disk.Open(s.indexOptions(dir))
	if err != nil {
		return fmt.Errorf("jetstream: index: %w", err)
	}
	s.idx = idx
	s.holds.init(s)
	s.bodies.m = make(map[msg.ID][]byte)
	s.spill.reset()
	s.apply.batches.Store(0)
	s.apply.entries.Store(0)
	s.apply.applied.Store(0)
	return nil
}

// Applied is the stream sequence up to which this node's index holds the
// journal: a compaction's cut may not pass any live node's.
func (s *Store) Applied() uint64 { return s.apply.applied.Load() }

// buf and put lend an entry scratch buffer.
func (s *Store) buf() *[]byte  { return s.bufs.Get().(*[]byte) }
func (s *Store) put(b *[]byte) { *b = (*b)[:0]; s.bufs.Put(b) }

// log appends one entry encoded in *b and returns the buffer.
func (s *Store) log(kind byte, b *[]byte, urgent bool) error {
	_, err := s.logAt(kind, b, urgent)
	return err
}

// logAt is log, returning the entry's journal position (Committed passes
// it once the entry is acknowledged).
func (s *Store) logAt(kind byte, b *[]byte, urgent bool) (uint64, error) {
	pos, err := s.j.append(kind, *b, urgent)
	s.put(b)
	return pos, err
}

// Put implements storage.Messages.
func (s *Store) Put(r *storage.Record) error { return s.putRecord(r, nil, false) }

// PutMessage implements storage.Messages.
func (s *Store) PutMessage(r *storage.Record, m []byte) error { return s.putRecord(r, m, true) }

func (s *Store) putRecord(r *storage.Record, m []byte, body bool) error {
	if s.j.backlogged() {
		s.j.refused.Add(1)
		return ErrBacklog
	}
	rec := *r
	if rec.Submitted == 0 {
		rec.Submitted = s.now()
	}
	// The record alone: the index never hands a body out (rebuilt from
	// the journal at each open, Recover's bodies are s.bodies), so one
	// there would only be written to its log.
	if err := s.idx.Put(&rec); err != nil {
		return err
	}
	b := s.buf()
	*b = appendRecord(*b, &rec)
	var flags byte
	if body {
		flags |= putBody
	}
	if rec.Rewritten {
		flags |= putUp
	}
	*b = append(*b, flags)
	if body {
		*b = appendBytes(*b, m)
	}
	if rec.Rewritten {
		*b = appendUpAddrs(*b, &rec)
	}
	return s.log(kPut, b, false)
}

func (s *Store) now() int64 {
	if s.o.Now != nil {
		return s.o.Now()
	}
	return time.Now().UnixNano()
}

// Get implements storage.Messages.
func (s *Store) Get(id msg.ID, out *storage.Record) error { return s.idx.Get(id, out) }

// SetState implements storage.Messages.
func (s *Store) SetState(id msg.ID, st msg.State, errCode uint16, done int64) error {
	if err := s.idx.SetState(id, st, errCode, done); err != nil {
		return err
	}
	if st.Final() {
		s.spill.drop(id)
	}
	return s.logState(id, st, errCode, done)
}

// Finish implements storage.Messages.
func (s *Store) Finish(id msg.ID, st msg.State, errCode uint16, done int64, out *storage.Record) error {
	if err := s.idx.Finish(id, st, errCode, done, out); err != nil {
		return err
	}
	s.spill.drop(id)
	return s.logState(id, st, errCode, done)
}

func (s *Store) logState(id msg.ID, st msg.State, errCode uint16, done int64) error {
	b := s.buf()
	*b = appendU64(*b, uint64(id))
	*b = append(*b, byte(st))
	*b = appendU16(*b, errCode)
	*b = appendU64(*b, uint64(done))
	return s.log(kState, b, true)
}

// SetAccepted implements storage.Messages.
func (s *Store) SetAccepted(id msg.ID, final msg.State, errCode uint16, at int64) error {
	if err := s.idx.SetAccepted(id, final, errCode, at); err != nil {
		return err
	}
	s.spill.drop(id)
	b := s.buf()
	*b = appendU64(*b, uint64(id))
	*b = append(*b, byte(final))
	*b = appendU16(*b, errCode)
	*b = appendU64(*b, uint64(at))
	return s.log(kAccepted, b, true)
}

// SetReplaced implements storage.Messages.
func (s *Store) SetReplaced(id msg.ID, r *storage.Record) error {
	if err := s.idx.SetReplaced(id, r); err != nil {
		return err
	}
	b := s.buf()
	*b = appendU64(*b, uint64(id))
	*b = appendRecord(*b, r)
	return s.log(kReplaced, b, true)
}

// Delete implements storage.Messages.
func (s *Store) Delete(id msg.ID) error {
	if err := s.idx.Delete(id); err != nil {
		return err
	}
	s.spill.drop(id)
	b := s.buf()
	*b = appendU64(*b, uint64(id))
	return s.log(kDelete, b, true)
}

// Find implements storage.Messages.
func (s *Store) Find(q *storage.Query, dst []storage.Record) (int, error) { return s.idx.Find(q, dst) }

// Len implements storage.Messages.
func (s *Store) Len() int { return s.idx.Len() }

// PutUpstream implements storage.UpstreamIDs.
func (s *Store) PutUpstream(connector int, upstreamID []byte, id msg.ID) error {
	if err := s.idx.PutUpstream(connector, upstreamID, id); err != nil {
		return err
	}
	b := s.buf()
	*b = appendU32(*b, uint32(connector))
	*b = appendU64(*b, uint64(id))
	*b = appendBytes(*b, upstreamID)
	return s.log(kUpstream, b, true)
}

// Upstream implements storage.UpstreamIDs.
func (s *Store) Upstream(connector int, upstreamID []byte) (msg.ID, bool) {
	return s.idx.Upstream(connector, upstreamID)
}

// PutUpstreamOf implements storage.UpstreamIDs.
func (s *Store) PutUpstreamOf(id msg.ID, upstreamID []byte) error {
	if err := s.idx.PutUpstreamOf(id, upstreamID); err != nil {
		return err
	}
	b := s.buf()
	*b = appendU64(*b, uint64(id))
	*b = appendBytes(*b, upstreamID)
	return s.log(kUpstreamOf, b, true)
}

// UpstreamOf implements storage.UpstreamIDs.
func (s *Store) UpstreamOf(id msg.ID, dst []byte) ([]byte, bool) { return s.idx.UpstreamOf(id, dst) }

// Sweep implements storage.Sweeper: the index's lifetimes, the same on
// every node.
func (s *Store) Sweep(now int64) int { return s.idx.Sweep(now) }

// Holds implements storage.Store.
func (s *Store) Holds() storage.Holds { return &s.holds }

// Recover implements storage.Store: this node's own non-final records
// (another node's are that node's to send). The same walk notes the
// other nodes whose work it passed (Owners).
func (s *Store) Recover(fn func(r *storage.Record, m []byte) error) error {
	var others []int
	err := s.recoverNode(s.o.Node, fn, func(r *storage.Record, m []byte) {
		if n := r.ID.Node(); (m != nil || r.State.Final()) && !slices.Contains(others, n) {
			others = append(others, n)
		}
	})
	s.owners.note(others)
	return err
}

// RecoverNode is Recover for node's records: a surviving node takes over
// a departed node's unsent messages with it (cluster.WatchDeparted).
func (s *Store) RecoverNode(node int, fn func(r *storage.Record, m []byte) error) error {
	return s.recoverNode(node, fn, nil)
}

// recoverNode hands node's records to fn, and the others' to other (if
// not nil), each with the body this node keeps for it. A message on a
// shared connector queue is the queue's to send: fn does not see it.
func (s *Store) recoverNode(node int, fn func(r *storage.Record, m []byte) error, other func(r *storage.Record, m []byte)) error {
	return s.idx.Recover(func(r *storage.Record, m []byte) error {
		if r.ID.Node() != node && other == nil {
			return nil
		}
		if r.ID.Node() == node && s.spill.has(r.ID) {
			return nil
		}
		if m == nil {
			s.bodies.mu.Lock()
			m = s.bodies.m[r.ID]
			s.bodies.mu.Unlock()
		}
		if r.ID.Node() != node {
			other(r, m)
			return nil
		}
		return fn(r, m)
	})
}

// Committer implements storage.Store: the journal's acknowledgements.
func (s *Store) Committer() storage.Committer { return s.j }

// Ledger implements storage.Store.
func (s *Store) Ledger() storage.Ledger { return &s.led }

// DeadLetters implements storage.Store.
func (s *Store) DeadLetters() storage.DeadLetters { return &s.dead }

// Callbacks implements storage.Store.
func (s *Store) Callbacks() storage.Callbacks { return &s.cbs }

// IDFloor implements storage.Store.
func (s *Store) IDFloor() uint64 { return s.idx.IDFloor() }

// SetIDFloor implements storage.Store.
func (s *Store) SetIDFloor(v uint64) error {
	if v <= s.idx.IDFloor() {
		return nil
	}
	if err := s.idx.SetIDFloor(v); err != nil {
		return err
	}
	b := s.buf()
	*b = appendU64(*b, v)
	return s.log(kFloor, b, true)
}

// Stats implements storage.Store: the index's, the journal's figures
// in the fields that say how writes are made durable.
func (s *Store) Stats() storage.Stats {
	st := s.idx.Stats()
	s.holds.mu.Lock()
	st.HeldRefused, st.HeldShareRefused = s.holds.refused, s.holds.shareRefused
	s.holds.mu.Unlock()
	st.BytesUsed, st.Segments, st.CompactBacklog, st.Compactions, st.Compacted = 0, 0, 0, 0, 0
	st.Fsyncs = s.j.batches.Load()
	if n := s.j.batches.Load(); n > 0 {
		st.GroupCommitBatch = float64(s.j.entries.Load()) / float64(n)
	}
	st.WriteErrors += s.j.refused.Load()
	st.DiskFull = s.j.backlogged()
	return st
}

// JournalStats are the journal's counters: batches published (JetStream
// operations), entries appended, batches published again, entries refused
// (backlog), and the remote batches and entries applied.
type JournalStats struct {
	Batches, Entries, Retries, Refused uint64
	Applied, AppliedEntries            uint64
	Pending                            uint64 // bytes appended and not yet acknowledged
	Compactions                        uint64 // journal compactions this node made
	// RawBytes and SentBytes: the batches' bytes before compression
	// (compress.go), and the bytes published (retries included).
	RawBytes, SentBytes uint64
	// ClaimsWon and ClaimsLost count held-item leases whose claim this
	// node won, and those another node held (or not acknowledged in time).
	ClaimsWon, ClaimsLost uint64
	// ClaimsUnkeyed counts leases of items without a cluster key, delivered
	// without a claim (each may be delivered twice); always 0 unless a defect.
	ClaimsUnkeyed uint64
	// ClaimBatches counts leases whose claims went as one atomic batch;
	// ClaimBatchesRefused, those whose batch was refused (one of the items
	// claimed elsewhere, or batches off) and claimed one by one.
	ClaimBatches, ClaimBatchesRefused uint64
	// ClaimsLapsed counts this node's claims that lapsed while it delivered
	// their item (event=held_claim_lost); HeldRetaken, leases of items whose
	// earlier deliverer (producer or claim winner) went silent past its
	// lease (event=held_retaken). Each is a possible duplicate delivery.
	ClaimsLapsed, HeldRetaken uint64
	// HeldUnmarked counts held items delivered before the journal took
	// their delivery marker (event=held_tried_unwritten).
	HeldUnmarked uint64
	// FinalTwice counts final states another node recorded for messages
	// already final here: each such message has a CDR line on two nodes
	// (event=cdr_possible_duplicate); every node counts it.
	FinalTwice uint64
	// HeldOwn are the held items this node admitted (what max_held
	// bounds); HeldOthers, the other nodes' items its index holds.
	HeldOwn, HeldOthers uint64
}

// Journal returns the journal's counters.
func (s *Store) Journal() JournalStats {
	s.holds.mu.Lock()
	own, others := len(s.holds.own), len(s.holds.remote)
	s.holds.mu.Unlock()
	return JournalStats{Batches: s.j.batches.Load(), Entries: s.j.entries.Load(), Retries: s.j.retries.Load(),
		Refused: s.j.refused.Load(), Applied: s.apply.batches.Load(), AppliedEntries: s.apply.entries.Load(),
		Pending: s.j.Written() - s.j.Committed(), Compactions: s.compactions.Load(),
		ClaimsWon: s.claims.won.Load(), ClaimsLost: s.claims.lostN.Load(), ClaimsUnkeyed: s.claims.unkeyed.Load(),
		ClaimBatches: s.claims.batches.Load(), ClaimBatchesRefused: s.claims.unbatched.Load(),
		ClaimsLapsed: s.claims.lapsedN.Load(), HeldRetaken: s.holds.retaken.Load(),
		HeldUnmarked: s.holds.unmarked.Load(), FinalTwice: s.apply.finalTwice.Load(),
		RawBytes: s.j.raw.Load(), SentBytes: s.j.sent.Load(), HeldOwn: uint64(own), HeldOthers: uint64(others)}
}

// Close implements storage.Store: it waits (up to 10 s) for the journal's
// acknowledgements, stops following the journal and closes the index.
func (s *Store) Close() error {
	err := errors.New("jetstream: store already closed")
	s.close.Do(func() {
		err = s.j.close(10 * time.Second)
		s.claims.close()
		s.apply.stop()
		if cerr := s.idx.Close(); err == nil {
			err = cerr
		}
	})
	return err
}

// keepBody keeps a copy of id's body (a replayed or remote put).
func (s *Store) keepBody(id msg.ID, m []byte) {
	s.bodies.mu.Lock()
	s.bodies.m[id] = append([]byte(nil), m...)
	s.bodies.mu.Unlock()
}

// dropBody forgets id's body (accepted upstream, final or deleted).
func (s *Store) dropBody(id msg.ID) {
	s.bodies.mu.Lock()
	delete(s.bodies.m, id)
	s.bodies.mu.Unlock()
	s.spill.drop(id)
}
