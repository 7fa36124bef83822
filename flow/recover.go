package flow

import (
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

// Recoverer is a store that hands its non-final records back at start
// (storage.Store's Recover).
type Recoverer interface {
	Recover(fn func(r *storage.Record, m []byte) error) error
}

// Recover re-drives what a durable store kept of the previous run: every
// message whose fate upstream is unknown goes back to its connector with
// the same id (Redrive), and the receipts of outcomes decided at
// acceptance (the simulator's) are sent at their time. Call it after Start
// (the connectors run) and before the engine takes traffic. It logs what
// it did and how long it took; an error is the store's.
func (h *Hub) Recover(st Recoverer) error {
	t0 := time.Now()
	err := st.Recover(h.redrive)
	h.recoverDests(h.now().UnixNano())
	took := time.Since(t0)
	h.stats.redriveTime.Store(int64(took))
	c := &h.stats
	h.log.Info().Str("event", "redrive").Uint64("redriven", c.redriven.Load()).
		Uint64("possible_duplicates", c.redrivenDup.Load()).Uint64("awaiting_receipt", c.waiting.Load()).
		Dur("took", took).Err(err).Msg("messages of the previous run sent again; those an upstream accepted wait for their receipts")
	return err
}

// routeAgain is reroute for a submit_multi destination: its held copy,
// not the record, keeps its body, and the record names the first
// destination's connector, so nothing is stored.
func (h *Hub) routeAgain(m *msg.Message) bool {
	t := h.router.Load()
	if id, ok := t.ConnectorID(m.Route); ok && h.cs().live(id) {
		m.Connector, m.Failover = id, nil
		return true
	}
	return h.routeNew(t, m)
}

// routeNew routes m again as a new submit would and sets m.Connector and
// m.Route (no failover: see later.hand); false when no connector takes it.
func (h *Hub) routeNew(t *routing.Table, m *msg.Message) bool {
	mt := routing.MT{User: m.SystemID, Group: m.Group, Source: m.Source, Dest: m.Dest, Content: m.Body(),
		DataCoding: m.DataCoding, Now: h.now()}
	d, ok := t.RouteMT(&mt, &h.up)
	s := h.cs()
	if !ok || !s.live(d.Connector) {
		return false
	}
	m.Connector, m.Failover, m.Route = d.Connector, nil, s.conns[d.Connector].Name()
	return true
}

// redrive takes one non-final record and, when its message's fate upstream
// is unknown, its binary form (valid during the call only).
func (h *Hub) redrive(r *storage.Record, body []byte) error {
	now := h.now().UnixNano()
	if body == nil {
		if r.State.Final() {
			// Decided at acceptance (the simulator's outcome), not yet
			// recorded: its receipt goes at its time, from the store. Due
			// already, the previous run (or a departed node, its state not
			// yet applied here) may have sent it.
			if r.Done <= now {
				h.stats.redrivenDup.Add(1)
			}
			h.later.addReceipt(&msg.Receipt{ID: r.ID, Connector: int(r.Connector), State: r.State,
				Err: r.Err, Done: r.Done, At: r.Done}, r.Done)
			return nil
		}
		h.stats.waiting.Add(1) // the upstream has it: its receipt will come
		return nil
	}
	m := msg.NewMessage()
	if err := m.UnmarshalBinary(body); err != nil {
		m.Release()
		h.noteStore(err, "recover", r.ID)
		return nil // one unreadable message must not stop the others
	}
	h.keepCharge(m, h.accounts.Recharged(m.SystemID, r.Charge, int64(r.ChargeParts)))
	if m.Command != uint32(codec.SubmitMultiID) {
		h.live.add(m)
	}
	if m.Expires != 0 && m.Expires <= now {
		h.Failed(m, 0, msg.StateExpired)
		m.Release()
		return nil
	}
	if !h.reroute(m, r) {
		h.Failed(m, uint32(RefuseNoRoute.status()), msg.StateUndeliverable)
		m.Release()
		return nil
	}
	h.stats.redriven.Add(1)
	if m.Schedule <= now {
		h.stats.redrivenDup.Add(1) // its time had come: the previous run may have sent it
	}
	h.later.add(m, max(m.Schedule, now), false)
	return nil
}

// reroute finds m's connector by the name it was stored with (connector
// ids may differ after a restart with another connector list), else routes
// it again as a new submit would. It sets m.Connector (no failover: see
// later.hand) and reports false when no connector takes it.
func (h *Hub) reroute(m *msg.Message, r *storage.Record) bool {
	t := h.router.Load()
	if id, ok := t.ConnectorID(m.Route); ok && h.cs().live(id) {
		m.Connector, m.Failover = id, nil
		return true
	}
	if !h.routeNew(t, m) {
		return false
	}
	// The record names the connector cancel_sm and replace_sm go to, the
	// body the route a next start finds.
	r.Connector = int32(m.Connector)
	b, _ := m.AppendBinary(nil)
	h.noteStore(h.msgs.PutMessage(r, b), "put", m.ID)
	return true
}
