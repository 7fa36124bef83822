package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// applier follows the journal into the index: at Open everything up to
// the stream's last sequence (every node's entries, this node's earlier
// runs included), then only the other nodes' batches (this node's own are
// in the index already).
type applier struct {
	s       *Store
	cc      natsjs.ConsumeContext
	last    uint64        // the stream's last sequence at Open
	applied atomic.Uint64 // the stream sequence of the last journal batch applied (or skipped as this node's own)
	batches atomic.Uint64
	entries atomic.Uint64
	bad     atomic.Uint64 // entries that did not decode or apply
	unz     []byte        // a compressed batch's entries (batch runs on one goroutine at a time)
	// live: the batch being applied came after the start's replay; twice,
	// its final states for messages already final here (finalTwice).
	live  bool
	twice []msg.ID
	// finalTwice counts final states another node recorded, applied live
	// for a message already final here: two nodes recorded it, each
	// wrote a CDR line (event=cdr_possible_duplicate).
	finalTwice atomic.Uint64
	// stamp and pending: the last batch handled (applied or skipped as
	// this node's own), its store time (Unix ns, JetStream's clock) and
	// the journal batches stored after it not yet handed to this node
	// then (behind).
	stamp, pending atomic.Int64
}

// lagLimit is how far behind the journal this node's applier may be
// before a held item it leases afresh counts as a possible duplicate: an
// ack written before another node's claim on the item expired is about
// claimTTL/2 old by then (the claim is refreshed every claimTTL/4, so its
// last write is at most claimTTL/2 before the ack was written, plus the
// refresh's own delay under load; claims.refresh), and that node's
// delivery marker older still. Half of that is the margin for the delay.
const lagLimit = claimTTL / 4

// behind reports whether the journal held batches this node had not
// applied that were stored more than lagLimit before now: an item's ack,
// or a delivery marker, may be among them (holds.retake).
func (a *applier) behind(now time.Time) bool {
	return a.pending.Load() > 0 && now.UnixNano()-a.stamp.Load() > int64(lagLimit)
}

// start applies the newest base (compact.go), replays the batches after
// its cut up to the last sequence (waiting, bounded by ctx), then leaves the
// consumer following. errRebased: a compaction purged batches meanwhile.
func (a *applier) start(ctx context.Context, s *Store) error {
	a.s = s
	// Each call gets a short deadline of its own, retried: a request made
	// while the stream elects a leader may get no answer at all.
	var st natsjs.Stream
	var b base
	err := retry(ctx, func(c context.Context) error {
		var err error
		if st, err = s.o.JS.Stream(c, s.o.Stream); err != nil {
			return err
		}
		info, err := st.Info(c)
		if err != nil {
			return err
		}
		a.last = info.State.LastSeq
		b, err = lastBase(c, st)
		return err
	})
	if err != nil {
		return fmt.Errorf("jetstream: follow the journal stream %s: %w", s.o.Stream, err)
	}
	if b.found {
		if err := eachBase(ctx, st, b, func(p []byte) { a.batch(0, p) }); err != nil {
			return fmt.Errorf("jetstream: journal base %s: %w", b.gen, err)
		}
		a.applied.Store(b.cut)
	}
	var cons natsjs.Consumer
	var pending uint64
	err = retry(ctx, func(c context.Context) error {
		var err error
		cons, err = st.OrderedConsumer(c, natsjs.OrderedConsumerConfig{FilterSubjects: []string{JournalFilter},
			DeliverPolicy: natsjs.DeliverByStartSequencePolicy, OptStartSeq: b.cut + 1})
		if err != nil {
			return err
		}
		info, err := cons.Info(c)
		if err == nil {
			pending = info.NumPending
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("jetstream: follow the journal stream %s: %w", s.o.Stream, err)
	}
	caught := make(chan struct{})
	var once atomic.Bool
	if pending == 0 {
		once.Store(true)
		close(caught)
	}
	a.cc, err = cons.Consume(func(m natsjs.Msg) {
		md, err := m.Metadata()
		if err != nil {
			return
		}
		seq := md.Sequence.Stream
		node, _ := strconv.Atoi(m.Headers().Get(hdrNode))
		if seq <= a.last || node != s.o.Node {
			a.live = seq > a.last
			a.batch(node, m.Data())
			a.live = false
		}
		a.applied.Store(seq)
		a.stamp.Store(md.Timestamp.UnixNano())
		a.pending.Store(int64(md.NumPending))
		if (seq >= a.last || md.NumPending == 0) && once.CompareAndSwap(false, true) {
			close(caught)
		}
	})
	if err != nil {
		return fmt.Errorf("jetstream: follow the journal: %w", err)
	}
	select {
	case <-caught:
	case <-ctx.Done():
		a.cc.Stop()
		return fmt.Errorf("jetstream: journal replay (%d batches applied of %d) did not finish: %w", a.batches.Load(), a.last, ctx.Err())
	}
	if f := replayCaughtUp; f != nil {
		f()
	}
	// A compaction may have purged batches this replay had not reached
	// yet (it started before this node reported what it applied).
	if now, err := lastBase(ctx, st); err == nil && now.found && now.gen != b.gen {
		a.cc.Stop()
		return errRebased
	}
	return nil
}

// replayCaughtUp, set by tests only, runs when a start's replay has caught
// up, before it looks for a newer base: a compaction made there overtakes
// the start every time.
var replayCaughtUp func()

func (a *applier) stop() {
	if a.cc != nil {
		a.cc.Stop()
	}
}

// batch applies one journal batch from node.
func (a *applier) batch(node int, p []byte) {
	a.batches.Add(1)
	p, err := unwrap(&a.unz, p)
	if err != nil {
		a.bad.Add(1)
		a.s.lg.Warn().Err(err).Int("from", node).Str("event", "journal_apply_failed").Msg("store: a journal batch did not apply")
		return
	}
	for len(p) >= 5 {
		n := int(uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24)
		if n < 1 || len(p) < 4+n {
			a.bad.Add(1)
			return
		}
		e := p[4 : 4+n]
		p = p[4+n:]
		if e[0] == kFrom { // a base's attribution (compact.go)
			d := reader{p: e[1:]}
			if v := int(d.u32()); d.err == nil {
				node = v
			}
			continue
		}
		a.entries.Add(1)
		if err := a.entry(node, e[0], e[1:]); err != nil && !benign(err) {
			a.bad.Add(1)
			a.s.lg.Warn().Err(err).Int("from", node).Int("kind", int(e[0])).Str("event", "journal_apply_failed").
				Msg("store: a journal entry did not apply")
		}
	}
	a.noteTwice(node)
}

// noteTwice counts and logs the batch's final states for messages already
// final here. A node journals a final state only when it recorded it
// itself (its index refuses a second one, storage.ErrFinal), and then
// writes its CDR line; so this one's node and the node whose final came
// first (this node, or one applied earlier) both wrote one. Every node
// applying it counts it: read the counter on one node, not summed.
func (a *applier) noteTwice(node int) {
	if len(a.twice) == 0 {
		return
	}
	a.finalTwice.Add(uint64(len(a.twice)))
	a.s.lg.Warn().Str("event", "cdr_possible_duplicate").Int("from", node).Int("messages", len(a.twice)).
		Array("ids", idList(a.twice)).
		Msg("store: another node recorded final states of messages already final here; each has a CDR line on both nodes")
	a.twice = a.twice[:0]
}

// benign errors are the ones a replica may see for an entry its origin
// made: a record already final or gone, an item already acked.
func benign(err error) bool {
	return errors.Is(err, storage.ErrFinal) || errors.Is(err, storage.ErrNotFound)
}

// entry applies one entry to the index (no journal write).
func (a *applier) entry(node int, kind byte, p []byte) error {
	s := a.s
	d := reader{p: p}
	var err error
	switch kind {
	case kPut:
		var r storage.Record
		d.record(&r)
		flags := d.u8()
		var body []byte
		if flags&putBody != 0 {
			body = d.bytes()
		}
		if flags&putUp != 0 {
			d.upAddrs(&r)
		}
		// The body goes to s.bodies only, as on the writing node (putRecord).
		if d.err == nil {
			if err = s.idx.Put(&r); err == nil && flags&putBody != 0 && len(body) > 0 {
				s.keepBody(r.ID, body)
			}
		}
	case kState:
		id, st, code, done := msg.ID(d.u64()), msg.State(d.u8()), d.u16(), int64(d.u64())
		if d.err == nil {
			err = s.idx.SetState(id, st, code, done)
			if st.Final() {
				s.dropBody(id)
				if a.live && errors.Is(err, storage.ErrFinal) {
					a.twice = append(a.twice, id)
				}
			}
		}
	case kAccepted:
		id, st, code, at := msg.ID(d.u64()), msg.State(d.u8()), d.u16(), int64(d.u64())
		if d.err == nil {
			err = s.idx.SetAccepted(id, st, code, at)
			s.dropBody(id)
		}
	case kReplaced:
		id := msg.ID(d.u64())
		var r storage.Record
		d.record(&r)
		if d.err == nil {
			err = s.idx.SetReplaced(id, &r)
		}
	case kDelete:
		id := msg.ID(d.u64())
		if d.err == nil {
			err = s.idx.Delete(id)
			s.dropBody(id)
		}
	case kUpstream:
		conn, id, up := int(int32(d.u32())), msg.ID(d.u64()), d.bytes()
		if d.err == nil {
			err = s.idx.PutUpstream(conn, up, id)
		}
	case kUpstreamOf:
		id, up := msg.ID(d.u64()), d.bytes()
		if d.err == nil {
			err = s.idx.PutUpstreamOf(id, up)
		}
	case kHold:
		var h storage.Held
		g, leased := d.held(&h)
		if d.err == nil {
			err = a.hold(g, &h, leased)
		}
	case kRelease:
		g, attempts := d.u64(), int(d.u32())
		if d.err == nil {
			err = a.release(g, attempts)
		}
	case kAck:
		g := d.u64()
		if d.err == nil {
			if key, ok := a.local(g); ok {
				_, err = s.holds.drop(key)
			}
		}
	case kLedger:
		e := storage.LedgerEntry{SystemID: d.str(), Kind: storage.LedgerKind(d.u8()), Amount: int64(d.u64()), ID: msg.ID(d.u64())}
		if d.err == nil {
			err = s.idx.Ledger().Append(&e)
		}
	case kDead:
		var dl storage.DeadLetter
		d.dead(&dl)
		if d.err == nil {
			err = s.idx.DeadLetters().Add(&dl)
		}
	case kCallback:
		var c storage.Callback
		d.callback(&c)
		if d.err == nil {
			err = s.idx.Callbacks().PutCallback(&c)
		}
	case kCallbackDel:
		id := msg.ID(d.u64())
		if d.err == nil {
			err = s.idx.Callbacks().DeleteCallback(id)
		}
	case kSpill:
		id := msg.ID(d.u64())
		// A node may have sent it already (its acceptance applied first):
		// then there is nothing to mark.
		if _, sendable := s.idx.Sendable(id); d.err == nil && sendable {
			s.spill.add(id)
		}
	case kTried:
		g := d.u64()
		if key, ok := a.local(g); ok && d.err == nil {
			hs := &s.holds
			hs.mu.Lock()
			if _, mapped := hs.toG[key]; mapped {
				hs.tried[key] = node
			}
			hs.mu.Unlock()
		}
	case kFloor:
		v := d.u64()
		if d.err == nil && node == s.o.Node {
			err = s.idx.SetIDFloor(v)
		}
	default:
		return fmt.Errorf("unknown journal entry kind %d", kind)
	}
	if d.err != nil {
		return d.err
	}
	return err
}

// hold applies a held item under its cluster key g. Another node's item
// its producer is delivering (leased) is held leased here for up to
// producerLease, so this node does not send it too; else OnHeld is told.
// The index takes it whatever the held-item limit: its producer admitted
// it (holds.admit), and an item refused here would never be offered here.
func (a *applier) hold(g uint64, h *storage.Held, leased bool) error {
	hs := &a.s.holds
	remote := g>>nodeShift != uint64(a.s.o.Node)
	if remote && leased {
		h.LeaseUntil = a.s.now() + int64(producerLease)
	}
	hs.mu.Lock()
	if _, dup := hs.toL[g]; dup {
		hs.mu.Unlock()
		return nil
	}
	key, err := a.s.idx.Holds().Hold(h)
	if err == nil {
		hs.toG[key], hs.toL[g] = g, key
		if !remote {
			hs.adopt(key, h.SystemID) // admitted by its earlier run
			if g > hs.next {
				hs.next = g // this node's earlier run: keep its keys unique
			}
		}
		if remote {
			hs.remote[key] = h.SystemID
			if leased {
				hs.lapse[key] = h.LeaseUntil
			}
		}
	}
	hs.mu.Unlock()
	if err == nil && remote && !leased && a.s.o.OnHeld != nil {
		a.s.o.OnHeld(h.SystemID)
	}
	return err
}

// release applies a node's release of item g: it is offered again. An
// item this node holds leased stays so (it acks or releases it itself).
func (a *applier) release(g uint64, attempts int) error {
	hs := &a.s.holds
	hs.mu.Lock()
	key, ok := hs.toL[g]
	_, mine := hs.mine[key]
	user, offer := hs.remote[key]
	delete(hs.lapse, key)
	delete(hs.lapsed, key) // the producer gave it up: not a retake
	delete(hs.tried, key)  // so did the node that marked it tried
	hs.mu.Unlock()
	if !ok || mine {
		return nil
	}
	// An item whose claim this node lost is offered too, its own included:
	// its delivery wanted it.
	if u, lost := a.s.claims.unlose(key); lost {
		user, offer = u, true
	}
	if err := a.s.idx.Holds().Release(key, attempts); err != nil {
		return err
	}
	if offer && a.s.o.OnHeld != nil {
		a.s.o.OnHeld(user)
	}
	return nil
}

func (a *applier) local(g uint64) (storage.HeldKey, bool) {
	hs := &a.s.holds
	hs.mu.Lock()
	defer hs.mu.Unlock()
	k, ok := hs.toL[g]
	return k, ok
}

// retry calls fn with a 3 s deadline of its own until it succeeds or ctx
// ends, returning the last error.
func retry(ctx context.Context, fn func(context.Context) error) error {
	for {
		c, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := fn(c)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}
