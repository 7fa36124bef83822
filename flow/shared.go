package flow

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// A cluster node's connectors share their queues (docs/CLUSTER.md "Shared
// connector queues", ADR 0006): a node sends through its own ring while
// its connector is up and below the high-water mark; when it cannot (down,
// halted, no bind share, ring past the mark) and another live node has that
// connector up, an accepted message, durable and answered already, is
// spilled to the connector's shared queue instead, and every node whose
// connector is up with room pulls from it. A pulled message is sent as a
// take-over sends another node's (redrive's steps: the charge boxed again
// from its record, the live index, expiry, the same id), and its queue
// entry is settled once the connector reports it (Accepted or Failed):
// acknowledged then, given back when this node stopped holding it.

// SharedQueues are the cluster's shared connector queues (*cluster.Queues
// with cmd/smppd's glue); Options.Shared. Spill and UpElsewhere never
// block.
type SharedQueues interface {
	// Spill puts item (copied during the call) on connector c's queue;
	// false when it cannot take it now (the message stays here).
	Spill(c int, item []byte) bool
	// UpElsewhere reports whether another live node has connector c up.
	UpElsewhere(c int) bool
}

// PullToken settles one item taken from a shared queue (*cluster.Batch):
// Done once, redo when this node did not finish it.
type PullToken interface {
	Done(redo bool)
}

// sendableStore is the cluster store's check before a pulled message goes
// upstream (storage/jetstream Store.Sendable).
type sendableStore interface {
	Sendable(id msg.ID) (found, sendable bool)
}

// Defaults of the shared queues.
const (
	// DefaultSpillHighWater is Options.SpillHighWater: the percentage of
	// a connector's queue past which this node spills.
	DefaultSpillHighWater = 80
	// spillCheck is how often the hub looks at its connectors to decide
	// which spill (a snapshot the per-message paths read).
	spillCheck = 100 * time.Millisecond
	// spillLogEvery throttles the spill start/stop lines per connector.
	spillLogEvery = 10 * time.Second
	// spillHold is how long a node goes on spilling after it last saw
	// another node with the connector up (three heartbeats).
	spillHold = 3 * time.Second
	// pullApplyWait is how long a pulled message waits for its record to
	// be applied here before its batch is given back.
	pullApplyWait = 2 * time.Second
)

// Why a connector spills (the spill_start line's reason).
const (
	spillNone = iota
	spillDown
	spillHalted
	spillHighWater
)

var spillReasons = [...]string{"", "down", "halted", "high_water"}

// shared is the hub's side of the shared queues.
type shared struct {
	q  SharedQueues
	hw int // percent
	// on[c]: connector c spills now (a snapshot every spillCheck).
	on   atomic.Pointer[[]bool]
	bufs sync.Pool // *[]byte item scratch

	pulls pullTable

	// Per connector, touched by the checker only: the reason in force,
	// when another node last had it up, the last line's time and the
	// transitions not logged since.
	why     []int
	upSeen  []time.Time
	logged  []time.Time
	quiet   []int
	spilled []uint64 // at the last start line, for the stop line's count

	grace time.Duration // Options.SpillHeldAfter
	held  heldState     // handback.go

	counts struct {
		spilled, pulled, skipped, dup, notYet atomic.Uint64
		heldSpilled, heldReturned             atomic.Uint64 // handback.go
	}
	// lagging: until this time (Unix ns) a pulled message whose record is
	// not applied here does not wait for it (one waited in vain: the rest
	// of its batch goes back at once, not after 2 s each).
	lagging atomic.Int64

	quit chan struct{}
	done chan struct{}
}

// pullTable maps the pulled messages this node holds to their tokens.
type pullTable struct {
	mu sync.Mutex
	m  map[msg.ID]PullToken
	n  atomic.Int64 // len(m): Accepted and Failed skip the lock at 0
}

func (p *pullTable) put(id msg.ID, t PullToken) {
	p.mu.Lock()
	if p.m == nil {
		p.m = map[msg.ID]PullToken{}
	}
	p.m[id] = t
	p.n.Store(int64(len(p.m)))
	p.mu.Unlock()
}

func (p *pullTable) take(id msg.ID) PullToken {
	if p.n.Load() == 0 {
		return nil
	}
	p.mu.Lock()
	t := p.m[id]
	if t != nil {
		delete(p.m, id)
		p.n.Store(int64(len(p.m)))
	}
	p.mu.Unlock()
	return t
}

func (p *pullTable) has(id msg.ID) bool {
	if p.n.Load() == 0 {
		return false
	}
	p.mu.Lock()
	_, ok := p.m[id]
	p.mu.Unlock()
	return ok
}

// SharedStats are the hub's shared-queue counters: messages it spilled,
// pulled and sent, pulled and found done already (or already here), and
// pulled from a redelivered batch while still unsent (possible duplicates:
// the node that took the batch first may have sent them). HeldSpilled: of
// Spilled, messages its down connector held unsent (handback.go);
// HeldReturned: pulled ones it held, given back to their queue.
type SharedStats struct {
	Spilled, Pulled, Skipped, PossibleDuplicates, NotYetApplied uint64
	HeldSpilled, HeldReturned                                   uint64
}

// SharedStats returns the shared-queue counters (zero outside a cluster).
func (h *Hub) SharedStats() SharedStats {
	s := h.shared
	if s == nil {
		return SharedStats{}
	}
	c := &s.counts
	return SharedStats{Spilled: c.spilled.Load(), Pulled: c.pulled.Load(), Skipped: c.skipped.Load(),
		PossibleDuplicates: c.dup.Load(), NotYetApplied: c.notYet.Load(),
		HeldSpilled: c.heldSpilled.Load(), HeldReturned: c.heldReturned.Load()}
}

// initShared sets up the shared queues when opts.Shared is set.
func (h *Hub) initShared(o *Options) {
	if o.Shared == nil {
		return
	}
	hw := o.SpillHighWater
	if hw <= 0 || hw > 100 {
		hw = DefaultSpillHighWater
	}
	s := &shared{q: o.Shared, hw: hw, grace: o.SpillHeldAfter, quit: make(chan struct{}), done: make(chan struct{})}
	s.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	h.shared = s
}

// spilling reports whether connector c spills now. Hot path: one nil
// check outside a cluster.
func (h *Hub) spilling(c int) bool {
	s := h.shared
	if s == nil {
		return false
	}
	p := s.on.Load()
	return p != nil && c >= 0 && c < len(*p) && (*p)[c]
}

// Spilling reports whether this node puts connector c's accepted messages
// on its shared queue now (it cannot take them, another node can).
func (h *Hub) Spilling(c int) bool { return h.spilling(c) }

// CanPull reports whether this node's connector c may take messages from
// its shared queue now: running, up, not halted, below the high-water
// mark (cluster.QueuesOptions.Ready).
func (h *Hub) CanPull(c int) bool {
	cs := h.cs()
	if !cs.live(c) || h.spilling(c) {
		return false
	}
	cn := cs.conns[c]
	if r, ok := cn.(*connector.Restartable); ok && r.Halted() {
		return false
	}
	return cn.Up() && !cn.QueueFull() && h.spillReason(cn) == spillNone
}

// spillReason is why connector cn cannot take more here now.
func (h *Hub) spillReason(cn connector.Connector) int {
	if r, ok := cn.(*connector.Restartable); ok && r.Halted() {
		return spillHalted
	}
	if !cn.Up() {
		return spillDown
	}
	if cn.QueueFull() {
		return spillHighWater
	}
	if c, ok := cn.(interface{ Cap() int }); ok {
		if n := c.Cap(); n > 0 && cn.Stats().Queued*100 >= n*h.shared.hw {
			return spillHighWater
		}
	}
	return spillNone
}

// runShared refreshes the spill snapshot every spillCheck until Stop.
func (h *Hub) runShared() {
	s := h.shared
	defer close(s.done)
	t := time.NewTicker(spillCheck)
	defer t.Stop()
	for {
		h.checkSpill()
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
	}
}

// checkSpill decides which connectors spill: those that cannot take more
// here while another live node has them up. It logs each start and stop,
// at most one line per connector per spillLogEvery.
func (h *Hub) checkSpill() {
	s := h.shared
	cs := h.cs()
	n := len(cs.conns)
	for len(s.why) < n {
		s.why, s.logged, s.quiet, s.spilled = append(s.why, spillNone), append(s.logged, time.Time{}),
			append(s.quiet, 0), append(s.spilled, 0)
		s.upSeen = append(s.upSeen, time.Time{})
	}
	on := make([]bool, n)
	now := time.Now()
	for c := range n {
		why := spillNone
		if cs.live(c) {
			if why = h.spillReason(cs.conns[c]); why != spillNone {
				if s.q.UpElsewhere(c) {
					s.upSeen[c] = now
				}
				// Nowhere to go: it waits here as before. A heartbeat read
				// late or missed (a loaded node) does not end a spill: what
				// a down connector took meanwhile would wait in its driver.
				if now.Sub(s.upSeen[c]) > spillHold {
					why = spillNone
				}
			}
		}
		on[c] = why != spillNone
		if cs.live(c) {
			h.checkHeld(cs, c, why, now)
		}
		if why == s.why[c] {
			continue
		}
		was := s.why[c]
		s.why[c] = why
		if now.Sub(s.logged[c]) < spillLogEvery {
			s.quiet[c]++
			continue
		}
		s.logged[c] = now
		total := s.counts.spilled.Load()
		if why != spillNone {
			h.log.Warn().Str("event", "spill_start").Str("connector", cs.conns[c].Name()).Str("reason", spillReasons[why]).
				Int("unlogged_changes", s.quiet[c]).
				Msg("connector cannot take more on this node: accepted messages go to its shared queue for another node to send")
		} else {
			h.log.Info().Str("event", "spill_stop").Str("connector", cs.conns[c].Name()).Str("was", spillReasons[was]).
				Uint64("spilled_since_start", total-s.spilled[c]).Int("unlogged_changes", s.quiet[c]).
				Msg("connector takes messages on this node again: no more spilling")
		}
		s.spilled[c] = total
		s.quiet[c] = 0
	}
	s.on.Store(&on)
}

// spillOff puts m, accepted, durable and answered, on its connector's
// shared queue and lets it go here (released unless the connector that
// reported it releases it: release false); false when it cannot (a
// submit_multi destination, whose held copy keeps its body; a message not
// due yet, which waits in its ring as before; a message this node pulled
// from the queue; a cancelled one; the queue's bound reached). Messages
// already in the connector when it went down come here through takeBack
// once it has been down for Options.SpillHeldAfter (handback.go), or
// through Failed when it stops (halt, shutdown).
func (h *Hub) spillOff(m *msg.Message, release bool) bool {
	s := h.shared
	// A message cancel_sm reached meanwhile goes to its connector, which
	// reports it DELETED.
	if m.Command == uint32(codec.SubmitMultiID) || m.Schedule > h.now().UnixNano() || s.pulls.has(m.ID) ||
		m.Phase() == msg.PhaseCancelled {
		return false
	}
	bp := s.bufs.Get().(*[]byte)
	b := binary.BigEndian.AppendUint64((*bp)[:0], uint64(m.ID))
	b, _ = m.AppendBinary(b)
	ok := s.q.Spill(m.Connector, b)
	*bp = b[:0]
	s.bufs.Put(bp)
	if !ok {
		return false
	}
	// The record and body stay in the store, marked as the queue's once
	// it has stored them (cmd/smppd's Stored hook): nothing here sends it.
	h.live.remove(m)
	h.dropCharge(m)
	if release {
		m.Release()
	}
	s.counts.spilled.Add(1)
	return true
}

// SpilledID is the message id of a shared-queue item (for the store's
// mark once the queue stored it); false when item is too short.
func SpilledID(item []byte) (msg.ID, bool) {
	if len(item) < 8 {
		return 0, false
	}
	return msg.ID(binary.BigEndian.Uint64(item)), true
}

// Pulled takes one item of connector c's shared queue (a view valid
// during the call; cluster.QueuesOptions.Pulled) and sends it as a
// take-over does: skipped when its record is done already (accepted,
// final) or it is in this node's live index, its charge boxed again from
// the record so a refusal refunds it, failed EXPIRED past its validity,
// else queued on this node's connector c with the same id. t is settled
// when the connector reports it. redelivered: the batch was taken before
// (a possible duplicate when still unsent).
func (h *Hub) Pulled(c int, item []byte, t PullToken, redelivered bool) {
	s := h.shared
	id, ok := SpilledID(item)
	st, isSendable := h.msgs.(sendableStore)
	if !ok || s == nil || !isSendable {
		t.Done(false) // unreadable, or no store to check it against: dropped
		return
	}
	found, sendable := st.Sendable(id)
	// The queue may hand it over before this node applied its record (the
	// spill follows the journal's acknowledgement, this node's consumer a
	// moment later): it waits here for it, on the puller's goroutine.
	if !found && time.Now().UnixNano() >= s.lagging.Load() {
		for wait := time.Duration(0); !found && wait < pullApplyWait; wait += 5 * time.Millisecond {
			time.Sleep(5 * time.Millisecond)
			found, sendable = st.Sendable(id)
		}
		if !found {
			s.lagging.Store(time.Now().Add(time.Second).UnixNano())
		}
	}
	switch {
	case !found:
		// Still not applied (this node's consumer behind): the batch
		// comes again shortly.
		s.counts.notYet.Add(1)
		t.Done(true)
		return
	case !sendable || h.live.with(id, func(*msg.Message) {}) || s.pulls.has(id):
		s.counts.skipped.Add(1)
		t.Done(false)
		return
	}
	var rec storage.Record
	if err := h.msgs.Get(id, &rec); err != nil {
		t.Done(true)
		return
	}
	m := msg.NewMessage()
	if err := m.UnmarshalBinary(item[8:]); err != nil || m.ID != id {
		m.Release()
		h.noteStore(err, "pull", id)
		t.Done(false)
		return
	}
	s.counts.pulled.Add(1)
	if redelivered {
		s.counts.dup.Add(1)
	}
	h.keepCharge(m, h.accounts.Recharged(m.SystemID, rec.Charge, int64(rec.ChargeParts)))
	h.live.add(m)
	s.pulls.put(id, t)
	if m.Expires != 0 && m.Expires <= h.now().UnixNano() {
		h.Failed(m, 0, msg.StateExpired)
		m.Release()
		return
	}
	cs := h.cs()
	if cs.live(c) {
		m.Connector, m.Failover, m.Route = c, nil, cs.conns[c].Name()
		if cs.conns[c].Submit(m) {
			return
		}
	} else if !h.reroute(m, &rec) {
		h.Failed(m, uint32(RefuseNoRoute.status()), msg.StateUndeliverable)
		m.Release()
		return
	}
	h.later.add(m, h.now().UnixNano(), false)
}

// pullSettled settles the queue entry of a pulled message once its
// connector reported it (Accepted, Failed), or gives it back (redo) when
// this node let it go unsent.
func (h *Hub) pullSettled(id msg.ID, redo bool) {
	if s := h.shared; s != nil {
		if t := s.pulls.take(id); t != nil {
			t.Done(redo)
		}
	}
}

// startShared and stopShared run the spill checker with the hub.
func (h *Hub) startShared() {
	if s := h.shared; s != nil {
		h.checkSpill()
		go h.runShared()
	}
}

func (h *Hub) stopShared() {
	if s := h.shared; s != nil {
		select {
		case <-s.quit:
			return
		default:
		}
		close(s.quit)
		<-s.done
	}
}
