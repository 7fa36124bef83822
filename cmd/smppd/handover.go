package main

import (
	"sync"
	"sync/atomic"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/flow"
)

// handover stands in for the hub and the delivery service on the engine's
// seams of a process that listens before it holds the data directory (an
// upgrade with [smpp-server] reuse_port and -lock-wait): binds are decided
// at once from the users file, while everything that needs the store
// waits until open.
//
//   - submit_sm, data_sm, submit_multi: held unread (SubmitResult.Wait,
//     the wait a full connector queue uses, up to queue_full_wait), then
//     answered ESME_RMSGQFUL; never acknowledged before the store is open;
//   - query_sm, cancel_sm, replace_sm: ESME_RTHROTTLED (their records are
//     in the store);
//   - binds of receivers and transceivers are counted, and reported to
//     the delivery service at open, so what is held for them is delivered
//     once recovered.
//
// After open every call goes straight through; the check is one atomic
// load on the event loop.
type handover struct {
	ready   atomic.Bool
	hub     hubSeams             // set by attach, before ready
	lender  engine.LoopTurnEnder // hub's, when it batches a loop's turn (flow/turn.go); set by attach
	dl      dlSeams              // set by attach: deliveries may end before ready
	latency atomic.Pointer[observer]

	mu    sync.Mutex
	bound map[boundKey]int // sessions bound while not ready, per user and bind type

	refused atomic.Uint64 // submits answered ESME_RMSGQFUL while not ready
}

type boundKey struct {
	systemID string
	t        engine.BindType
}

// hubSeams are the flow hub's engine seams; dlSeams the delivery
// service's.
type hubSeams interface {
	engine.SubmitHandler
	engine.TurnEnder
	engine.ManageHandler
}

type dlSeams interface {
	engine.BindObserver
	engine.DeliverySink
}

var (
	_ hubSeams = (*flow.Hub)(nil)
	_ dlSeams  = (*delivery.Service)(nil)
)

// observer boxes an engine.Observer for an atomic pointer.
type observer struct{ o engine.Observer }

var (
	_ engine.SubmitHandler = (*handover)(nil)
	_ engine.TurnEnder     = (*handover)(nil)
	_ engine.LoopTurnEnder = (*handover)(nil)
	_ engine.ManageHandler = (*handover)(nil)
	_ engine.BindObserver  = (*handover)(nil)
	_ engine.DeliverySink  = (*handover)(nil)
	_ engine.Observer      = (*handover)(nil)
)

func newHandover() *handover { return &handover{bound: make(map[boundKey]int)} }

// attach names the hub and the delivery service once they exist, before
// the delivery service starts (its deliveries report through DeliveryDone).
func (h *handover) attach(hub hubSeams, dl dlSeams, latency engine.Observer) {
	h.mu.Lock()
	h.hub, h.dl = hub, dl
	h.lender, _ = hub.(engine.LoopTurnEnder)
	h.mu.Unlock()
	h.latency.Store(&observer{latency})
}

// open hands the seams over once the store is recovered: the sessions
// bound meanwhile are reported to the delivery service, then opened is
// called with their number, then requests go to the hub (so what opened
// logs comes before any submit is acknowledged).
func (h *handover) open(opened func(binds int)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for k, c := range h.bound {
		for ; c > 0; c-- {
			h.dl.Bound(k.systemID, k.t)
			n++
		}
	}
	clear(h.bound)
	opened(n)
	// Under mu: a Bound or Unbound waiting for it sees ready and goes
	// straight through, after the counts above.
	h.ready.Store(true)
}

// HandleSubmit implements engine.SubmitHandler.
func (h *handover) HandleSubmit(req *engine.SubmitRequest, res *engine.SubmitResult) {
	if h.ready.Load() {
		h.hub.HandleSubmit(req, res)
		return
	}
	if req.MayWait { // counted in smppd_submit_queue_waits_total
		res.Wait = true
		return
	}
	h.refused.Add(1)
	res.Status = codec.StatusMsgQFul
}

// EndTurn implements engine.TurnEnder.
func (h *handover) EndTurn() {
	if h.ready.Load() {
		h.hub.EndTurn()
	}
}

// EndTurnOn implements engine.LoopTurnEnder, which the engine calls instead
// of EndTurn: a hub that gathers a loop's turn (flow/turn.go) hands it
// over then, and would never with EndTurn alone.
func (h *handover) EndTurnOn(l *engine.LoopLocal) {
	switch {
	case !h.ready.Load():
	case h.lender != nil:
		h.lender.EndTurnOn(l)
	default:
		h.hub.EndTurn()
	}
}

// HandleQuery implements engine.ManageHandler.
func (h *handover) HandleQuery(req *engine.ManageRequest, res *engine.QueryResult) {
	if h.ready.Load() {
		h.hub.HandleQuery(req, res)
		return
	}
	res.Status = codec.StatusThrottled
}

// HandleCancel implements engine.ManageHandler.
func (h *handover) HandleCancel(req *engine.ManageRequest) codec.Status {
	if h.ready.Load() {
		return h.hub.HandleCancel(req)
	}
	return codec.StatusThrottled
}

// HandleReplace implements engine.ManageHandler.
func (h *handover) HandleReplace(req *engine.ManageRequest) codec.Status {
	if h.ready.Load() {
		return h.hub.HandleReplace(req)
	}
	return codec.StatusThrottled
}

// Bound implements engine.BindObserver.
func (h *handover) Bound(systemID string, t engine.BindType) {
	if !h.ready.Load() && h.count(systemID, t, 1) {
		return
	}
	h.dl.Bound(systemID, t)
}

// Unbound implements engine.BindObserver.
func (h *handover) Unbound(systemID string, t engine.BindType) {
	if !h.ready.Load() && h.count(systemID, t, -1) {
		return
	}
	h.dl.Unbound(systemID, t)
}

// count adds d to the binds kept for open; false once open ran.
func (h *handover) count(systemID string, t engine.BindType, d int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ready.Load() {
		return false
	}
	k := boundKey{systemID, t}
	if c := h.bound[k] + d; c > 0 {
		h.bound[k] = c
	} else {
		delete(h.bound, k)
	}
	return true
}

// DeliveryDone implements engine.DeliverySink. Only the delivery service
// delivers, and only once attached.
func (h *handover) DeliveryDone(d *engine.Delivery, status codec.Status, err error) {
	h.dl.DeliveryDone(d, status, err)
}

// Observe implements engine.Observer (the submit latency histogram, once
// the metrics exist).
func (h *handover) Observe(seconds float64) {
	if o := h.latency.Load(); o != nil && o.o != nil {
		o.o.Observe(seconds)
	}
}
