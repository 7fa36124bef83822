package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// connSet is the connectors by routing id and what the per-message path
// reads of each. It is never changed in place: adding or removing a
// connector at run time (AddConnector, RemoveConnector) publishes a new
// one, so readers take one atomic load and never lock.
type connSet struct {
	conns []connector.Connector
	// forwards[i]: connector i takes cancel_sm or replace_sm upstream, so
	// its upstream ids are kept.
	forwards []bool
	// helped[i]: the loops may help connector i's worker (Caps.Helped);
	// fed[i] marks that a message went in quietly since its last Help.
	// Shared by every set, so a flag set through an older one is seen.
	helped []bool
	fed    []*fedFlag
	// removed[i]: connector i was removed (or its id is vacant): what it
	// gives back is routed again (moveOff), nothing new goes to it.
	removed []bool
	// accept and receipt are the latency observers (nil: not sampled).
	accept, receipt []Observer
}

// cs is the connector set in force.
func (h *Hub) cs() *connSet { return h.set.Load() }

// has reports whether id names a connector of s.
func (s *connSet) has(id int) bool { return id >= 0 && id < len(s.conns) }

// live reports whether id names a connector that was not removed.
func (s *connSet) live(id int) bool { return s.has(id) && !s.removed[id] }

// newConnSet describes conns; a Vacant entry reads as removed.
func (h *Hub) newConnSet(conns []connector.Connector, accept, receipt []Observer) *connSet {
	n := len(conns)
	s := &connSet{conns: conns, forwards: make([]bool, n), helped: make([]bool, n), fed: make([]*fedFlag, n),
		removed: make([]bool, n), accept: make([]Observer, n), receipt: make([]Observer, n)}
	copy(s.accept, accept)
	copy(s.receipt, receipt)
	for i, c := range conns {
		s.fed[i] = new(fedFlag)
		s.describe(i, c, h.upIDs != nil)
	}
	return s
}

func (s *connSet) describe(i int, c connector.Connector, ids bool) {
	caps := c.Caps()
	_, vacant := c.(Vacant)
	s.conns[i], s.helped[i], s.removed[i] = c, caps.Helped, vacant
	s.forwards[i] = ids && (caps.Cancel || caps.Replace)
}

// clone copies s with room for n connectors (fed flags shared).
func (s *connSet) clone(n int) *connSet {
	grow := func(b []bool) []bool { return append(append(make([]bool, 0, n), b...), make([]bool, n-len(b))...) }
	obs := func(o []Observer) []Observer {
		return append(append(make([]Observer, 0, n), o...), make([]Observer, n-len(o))...)
	}
	c := &connSet{
		conns:    append(append(make([]connector.Connector, 0, n), s.conns...), make([]connector.Connector, n-len(s.conns))...),
		forwards: grow(s.forwards), helped: grow(s.helped), removed: grow(s.removed),
		fed:    append(append(make([]*fedFlag, 0, n), s.fed...), make([]*fedFlag, n-len(s.fed))...),
		accept: obs(s.accept), receipt: obs(s.receipt),
	}
	for i := len(s.conns); i < n; i++ {
		c.fed[i] = new(fedFlag)
		c.conns[i], c.removed[i] = Vacant(""), true
	}
	return c
}

// Vacant stands for a routing id no running connector has: one removed
// in this run or an earlier one (ids are never given to another name, so
// stored records keep naming what they named). It takes nothing and is
// never up.
type Vacant string

// Name implements connector.Connector.
func (v Vacant) Name() string { return string(v) }

// Caps implements connector.Connector.
func (Vacant) Caps() connector.Caps { return connector.Caps{} }

// Start implements connector.Connector.
func (Vacant) Start(connector.Sink) error { return nil }

// Submit implements connector.Connector: always refused.
func (Vacant) Submit(*msg.Message) bool { return false }

// SubmitQuiet implements connector.Connector: always refused.
func (Vacant) SubmitQuiet(*msg.Message) bool { return false }

// Help implements connector.Connector.
func (Vacant) Help() {}

// QueueFull implements connector.Connector.
func (Vacant) QueueFull() bool { return false }

// Up implements connector.Connector.
func (Vacant) Up() bool { return false }

// CancelUpstream implements connector.Connector.
func (Vacant) CancelUpstream(msg.ID, *codec.CancelSM, connector.UpstreamDone) bool { return false }

// ReplaceUpstream implements connector.Connector.
func (Vacant) ReplaceUpstream(msg.ID, *codec.ReplaceSM, connector.UpstreamDone) bool { return false }

// Stop implements connector.Connector.
func (Vacant) Stop(context.Context) error { return nil }

// Stats implements connector.Connector.
func (Vacant) Stats() connector.Stats { return connector.Stats{} }

// Errors of AddConnector and RemoveConnector.
var (
	ErrConnectorID     = errors.New("flow: connector id taken by a running connector")
	ErrNotStartedYet   = errors.New("flow: hub not started")
	ErrConnectorVacant = errors.New("flow: no running connector has that id")
)

// AddConnector starts c, unstarted, under routing id (a new id, or the
// vacant id of a connector of the same name removed earlier) and makes it
// available to routing tables that name it: install such a table after
// this returns. accept and receipt observe its latencies (nil: not
// sampled).
func (h *Hub) AddConnector(id int, c connector.Connector, accept, receipt Observer) error {
	if h.run.Load() != hubStarted {
		return ErrNotStartedYet
	}
	if id < 0 {
		return fmt.Errorf("flow: connector id %d", id)
	}
	h.setMu.Lock()
	defer h.setMu.Unlock()
	old := h.cs()
	if old.live(id) {
		return fmt.Errorf("%w: %d is %q", ErrConnectorID, id, old.conns[id].Name())
	}
	if err := c.Start(h); err != nil {
		return fmt.Errorf("flow: start connector %q: %w", c.Name(), err)
	}
	s := old.clone(max(id+1, len(old.conns)))
	s.describe(id, c, h.upIDs != nil)
	s.accept[id], s.receipt[id] = accept, receipt
	h.set.Store(s)
	h.log.Info().Str("event", "connector_added").Str("connector", c.Name()).Int("id", id).Msg("connector added and started")
	return nil
}

// RemoveConnector takes connector id out of service: install a routing
// table without it first. Its queue is taken back at once and routed
// again by the routing table in force, as what it still holds once it has
// stopped (it hands upstream what is in flight within ctx); a message no
// route takes any more fails as undeliverable (refunded, its receipt sent
// when asked). Messages its upstream already accepted keep waiting for
// their receipts, which come only if a connector of the same name returns
// (it gets the same id). drained is false when ctx cut the hand-over short,
// or when the connector had no upstream bind (what it held was given back
// at once).
func (h *Hub) RemoveConnector(ctx context.Context, id int) (drained bool, err error) {
	h.setMu.Lock()
	old := h.cs()
	if !old.live(id) {
		h.setMu.Unlock()
		return false, ErrConnectorVacant
	}
	c := old.conns[id]
	s := old.clone(len(old.conns))
	s.removed[id] = true
	h.set.Store(s) // before the queue comes back: moveOff sees it removed
	h.setMu.Unlock()
	moved0 := h.stats.movedOff.Load()
	if p, ok := c.(interface{ PurgeQueued() (int, error) }); ok {
		_, _ = p.PurgeQueued() // not built on a Runtime: Stop hands it all back
	}
	if !c.Up() {
		// No upstream bind: nothing it holds can get an answer, so it is
		// all given back now rather than after ctx.
		cut, cancel := context.WithCancel(ctx)
		cancel()
		ctx = cut
	}
	err = c.Stop(ctx)
	h.setMu.Lock()
	if cur := h.cs(); cur.conns[id] == c && cur.removed[id] { // not added back meanwhile
		s = cur.clone(len(cur.conns))
		s.conns[id], s.forwards[id], s.helped[id] = Vacant(c.Name()), false, false
		s.accept[id], s.receipt[id] = nil, nil
		h.set.Store(s)
	}
	h.setMu.Unlock()
	drained = err == nil
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return false, fmt.Errorf("flow: stop connector %q: %w", c.Name(), err)
	}
	h.log.Warn().Str("event", "connector_removed").Str("connector", c.Name()).Int("id", id).Bool("drained", drained).
		Uint64("rerouted", h.stats.movedOff.Load()-moved0).
		Msg("connector removed: its queue was routed again by the routes in force")
	return drained, nil
}

// moveOff routes again a message a removed connector gave back (m is the
// connector's, released after the call): a copy takes m's place (charge,
// live index, held destination) and goes to its new connector, whose id
// its record then names, or waits in the hub while that one's queue is
// full. false: no route takes it.
func (h *Hub) moveOff(m *msg.Message) bool {
	b, err := m.AppendBinary(nil)
	if err != nil {
		return false
	}
	n := msg.NewMessage()
	if err := n.UnmarshalBinary(b); err != nil {
		n.Release()
		return false
	}
	if !h.routeNew(h.router.Load(), n) {
		n.Release()
		return false
	}
	n.Owner, m.Owner = m.Owner, nil
	if n.Command != uint32(codec.SubmitMultiID) {
		h.live.remove(m)
		h.live.add(n)
		h.rename(n)
	} else if h.holdsDests(m) {
		mc := &h.multi
		mc.mu.Lock()
		if k, ok := mc.keys[m]; ok {
			delete(mc.keys, m)
			mc.keys[n] = k
		}
		mc.mu.Unlock()
	}
	h.stats.movedOff.Add(1)
	if s := h.cs(); !s.live(n.Connector) || !s.conns[n.Connector].Submit(n) {
		h.later.add(n, h.now().UnixNano(), false)
	}
	return true
}

// routeLater routes again a message waiting in the hub (later.go) for a
// removed connector; false: no route takes it, and it failed as
// undeliverable (released).
func (h *Hub) routeLater(m *msg.Message) bool {
	if !h.routeNew(h.router.Load(), m) {
		h.Failed(m, uint32(RefuseNoRoute.status()), msg.StateUndeliverable)
		m.Release()
		return false
	}
	h.stats.movedOff.Add(1)
	if m.Command != uint32(codec.SubmitMultiID) {
		h.rename(m)
	}
	return true
}

// rename writes m's new connector into its record (cancel_sm and
// replace_sm go where it says) and, with a durable store, its body (the
// route a next start finds). The charge is unchanged: nothing more is
// charged.
func (h *Hub) rename(m *msg.Message) {
	var rec storage.Record
	if err := h.msgs.Get(m.ID, &rec); err != nil {
		h.noteStore(err, "get", m.ID)
		return
	}
	rec.Connector = int32(m.Connector)
	if !h.opts.Durable {
		h.noteStore(h.msgs.Put(&rec), "put", m.ID)
		return
	}
	b, _ := m.AppendBinary(nil)
	h.noteStore(h.msgs.PutMessage(&rec, b), "put", m.ID)
}

// Redescribe reads connector id's Caps again: its entry was rebuilt
// with other settings (connector.Restartable.Rebuild), which may forward
// cancel_sm and replace_sm, or take the loops' help, differently.
func (h *Hub) Redescribe(id int) {
	h.setMu.Lock()
	defer h.setMu.Unlock()
	old := h.cs()
	if !old.live(id) {
		return
	}
	s := old.clone(len(old.conns))
	s.describe(id, old.conns[id], h.upIDs != nil)
	h.set.Store(s)
}

// ConnectorAt is the running connector with routing id, nil when none.
func (h *Hub) ConnectorAt(id int) connector.Connector {
	s := h.cs()
	if !s.live(id) {
		return nil
	}
	return s.conns[id]
}
