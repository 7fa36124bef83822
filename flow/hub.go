package flow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

// Deliveries takes what goes back to the ESMEs (the MO and receipt
// direction, *delivery.Service): the receipts and MO the connectors report,
// which the hub hands on as they come (an error: not kept, see
// connector.Sink), and the receipt of an MT that ended here, which
// FailedReceipt sends when the record's registered_delivery asks for that
// outcome. Calls come from connector goroutines.
type Deliveries interface {
	Receipt(r *msg.Receipt) error
	MO(mo *msg.Inbound) error
	FailedReceipt(rec *storage.Record, state msg.State, code uint16, done int64)
}

// Options configure a Hub. Zero durations take the defaults in brackets.
type Options struct {
	// Router holds the routing table; required. Connector ids of its
	// tables index Connectors, so build the tables with
	// routing.Config.Connectors set to the connectors' names in this order.
	Router *routing.Router
	// Routes counts accepted and refused MT per route for the metrics;
	// nil = not counted.
	Routes RouteCounter
	// Connectors are the upstreams, index = routing table connector id.
	Connectors []connector.Connector
	// Messages keeps the state of accepted messages; required.
	Messages storage.Messages
	// Deliveries takes receipts and MO back to the ESMEs; required.
	Deliveries Deliveries
	// Answers is told each MT's upstream answer (answers.go); nil = none.
	Answers Answers
	// UpstreamIDs keeps the upstream's id of each message accepted by a
	// connector whose Caps declare Cancel or Replace, which it needs to
	// name it upstream. nil = Messages when it is one too (as
	// storage/memory is); without either, cancel_sm and replace_sm reach
	// only messages still queued here.
	UpstreamIDs storage.UpstreamIDs
	// Accounts are the users the engine binds through Authenticator;
	// required.
	Accounts *accounts.Store
	// Admission applies user limits; nil = the native statuses.
	Admission *accounts.Admission
	// IDs issues message ids; required.
	IDs *msg.IDGen
	// Finals is told of each accepted MT message's final state (the CDR
	// stream; finals.go); nil = none.
	Finals Finals
	// Backlog, when set, is raised while Finals is too far behind to take
	// the final states of more messages (cdr.Stream.Backlog): MT is then
	// refused ESME_RTHROTTLED (cdr_backlog) before anything is accepted
	// (backlog.go). One load per request; nil = never.
	Backlog *atomic.Bool
	// Policy is the traffic policy (docs/POLICY.md; policy.go): the one
	// in force runs on every MT before routing and on every MO before its
	// route, and its [[limit]] buckets after the user's own checks
	// (routelimits.go); nil = none.
	Policy Policy
	// LogPrivacy masks the middle digits of numbers in log lines
	// ([smpp-server] log_privacy; msg.MaskAddr).
	LogPrivacy bool
	// LogGate makes the gate of each kind of the hub's repeated log lines
	// (a full queue, a store, upstream or internal failure, an unkept
	// receipt) for period and burst: cmd/smppd gives a logthrottle.Gate.
	// nil: every such line is written (tests).
	LogGate func(period time.Duration, burst int) LogGate

	// Committer tells when the store's writes are durable (the store's
	// Committer): a submit whose record is not on disk yet is answered
	// later (engine Deferred, then Respond from the commit; see acks.go).
	// nil, or a store that is not durable, answers at once.
	Committer storage.Committer
	// MaxDeferred bounds the answers waiting for a commit; past it a submit
	// is refused ESME_RMSGQFUL (storage_error) [DefaultMaxDeferred]. Size it
	// to the sessions times max_in_flight.
	MaxDeferred int
	// Durable: Messages keeps accepted messages across restarts (a disk
	// store). A message a connector still holds when it stops then stays
	// pending in the store, to be sent again at the next start (Recover),
	// instead of failing; a message scheduled beyond ScheduleHorizon waits
	// in the hub, not in its connector's queue; Redrive applies.
	Durable bool
	// Holds, with Durable, keeps each destination of a submit_multi from
	// before its record is written until its connector settles it, so a
	// restart sends again every destination not yet accepted (multi.go);
	// nil: the record's body keeps one destination only.
	Holds storage.Holds
	// ScheduleHorizon: with Durable, a message whose
	// schedule_delivery_time is further away than this waits in the hub
	// (memory: its Message; disk: its body) until then, so far-future
	// messages cannot fill a connector's queue [DefaultScheduleHorizon].
	ScheduleHorizon time.Duration
	// MaxScheduled bounds the messages waiting for their schedule in the
	// hub; past it a far-future submit is refused ESME_RMSGQFUL
	// (queue_full) [DefaultMaxScheduled].
	MaxScheduled int
	// Shared are the cluster's shared connector queues (shared.go): a
	// message this node's connector cannot take goes there when another
	// node has that connector up, and this node sends what the others put
	// there. nil (a single node): none, and no cost.
	Shared SharedQueues
	// SpillHighWater is the percentage of a connector's queue past which
	// this node spills to the shared queue [DefaultSpillHighWater].
	SpillHighWater int
	// SpillHeldAfter is how long a connector must have been down here,
	// spilling, before the messages it already held go to the shared
	// queue too (handback.go); 0: they wait here for its upstream.
	SpillHeldAfter time.Duration

	// DefaultValidity applies when validity_period is empty [48h].
	DefaultValidity time.Duration
	// Zone is the zone of query_sm's final_date: the receipts' zone, so
	// both show the same time [UTC].
	Zone *time.Location
	// AcceptLatency and ReceiptLatency, indexed like Connectors (nil or
	// short = not sampled), observe the seconds from a message's arrival
	// to its upstream acceptance and to its final receipt (counters.go).
	AcceptLatency, ReceiptLatency []Observer

	Logger zerolog.Logger
	// Now is the clock (tests); nil = time.Now.
	Now func() time.Time
}

// DefaultValidity applies when Options.DefaultValidity is zero.
const DefaultValidity = 48 * time.Hour

// Errors of New and Start.
var (
	ErrNoRouter     = errors.New("flow: Options.Router is required")
	ErrNoStorage    = errors.New("flow: Options.Messages is required")
	ErrNoDeliveries = errors.New("flow: Options.Deliveries is required")
	ErrNoAccounts   = errors.New("flow: Options.Accounts is required")
	ErrNoIDs        = errors.New("flow: Options.IDs is required")
	ErrStopped      = errors.New("flow: hub stopped")
	errAlreadyStart = errors.New("flow: Start called twice")
)

// States of Hub.run.
const (
	hubNew int32 = iota
	hubStarted
	hubNeverRan // stopped before Start
)

// Hub is the message hub. Create it with New, Attach the engine, Start it.
type Hub struct {
	opts   Options
	router *routing.Router
	// set is the connectors by routing id (connset.go); setMu serialises
	// its replacement.
	set   atomic.Pointer[connSet]
	setMu sync.Mutex
	up    connState
	msgs  storage.Messages
	upIDs storage.UpstreamIDs
	// live finds messages still queued here (live.go).
	live liveIndex
	// dl takes receipts and MO to the ESMEs.
	dl Deliveries
	// run is hubNew until Start (hubStarted) or a Stop that came first
	// (hubNeverRan: nothing to wait for); stopped is set by Stop.
	run     atomic.Int32
	stopped atomic.Bool
	// accounts binds the sessions (Authenticator); adm applies their limits.
	accounts *accounts.Store
	adm      *accounts.Admission
	// wallClock: opts.Now is time.Now, so a request's engine-read time can
	// stand in for a clock read (tests inject a clock and keep theirs).
	wallClock bool
	ids       *msg.IDGen
	now       func() time.Time
	log       zerolog.Logger
	zone      *time.Location

	aff      affinity
	routesOn routeAccepted // opts.Routes when it hands out a route's count, else nil
	scratch  sync.Pool     // *submitScratch
	charges  sync.Pool     // *chargeBox
	encs     sync.Pool     // *encoder
	moPol    sync.Pool     // *msg.Envelope for MO (policy.go)

	stats counters
	warn  warnings

	// acks answers submits once the store committed them (acks.go).
	acks acks
	// later holds far-future scheduled and re-driven messages until they
	// are due or a connector has room (later.go).
	later later
	// unkept holds state writes the store refused, for Sweep (unkept.go).
	unkept unkeptStates
	// multi maps submit_multi destinations to their held copies (multi.go).
	multi multiCopies

	ustats userTable // per-user counters (counters.go)

	// shared is the cluster's shared connector queues (shared.go); nil on
	// a single node.
	shared *shared
}

// connState answers routing's "is connector id up" from the connectors.
type connState struct{ h *Hub }

func (c *connState) Up(id int) bool {
	s := c.h.cs()
	return s.has(id) && (s.conns[id].Up() || c.h.spilling(id))
}

// New checks opts and builds a Hub. It does not start anything.
func New(opts Options) (*Hub, error) {
	if opts.Router == nil {
		return nil, ErrNoRouter
	}
	if opts.Messages == nil {
		return nil, ErrNoStorage
	}
	if opts.Deliveries == nil {
		return nil, ErrNoDeliveries
	}
	if opts.Accounts == nil {
		return nil, ErrNoAccounts
	}
	if opts.IDs == nil {
		return nil, ErrNoIDs
	}
	if t := opts.Router.Load(); t != nil {
		for id, name := range t.ConnectorNames() {
			if id >= len(opts.Connectors) {
				return nil, fmt.Errorf("flow: routing uses connector %q (id %d) but only %d connectors are given", name, id, len(opts.Connectors))
			}
			if got := opts.Connectors[id].Name(); name != "" && got != name {
				return nil, fmt.Errorf("flow: routing connector id %d is %q but Connectors[%d] is %q", id, name, id, got)
			}
		}
	}
	if opts.DefaultValidity <= 0 {
		opts.DefaultValidity = DefaultValidity
	}
	wallClock := opts.Now == nil
	if wallClock {
		opts.Now = time.Now
	}
	if opts.Admission == nil {
		opts.Admission = &accounts.Admission{}
	}
	h := &Hub{
		wallClock: wallClock,
		opts:      opts,
		router:    opts.Router,
		msgs:      opts.Messages,
		dl:        opts.Deliveries,
		accounts:  opts.Accounts,
		adm:       opts.Admission,
		ids:       opts.IDs,
		now:       opts.Now,
		log:       opts.Logger.With().Str("component", "flow").Logger(),
		zone:      opts.Zone,
	}
	h.warn.init(opts.LogGate)
	h.stats.init()
	if h.zone == nil {
		h.zone = time.UTC
	}
	if h.upIDs = opts.UpstreamIDs; h.upIDs == nil {
		h.upIDs, _ = opts.Messages.(storage.UpstreamIDs)
	}
	h.up.h = h
	h.set.Store(h.newConnSet(opts.Connectors, opts.AcceptLatency, opts.ReceiptLatency))
	if err := h.acks.init(h, opts.Committer, opts.MaxDeferred); err != nil {
		return nil, err
	}
	h.later.init(h, opts.ScheduleHorizon, opts.MaxScheduled)
	h.initShared(&h.opts)
	h.aff.init()
	h.routesOn, _ = opts.Routes.(routeAccepted)
	h.scratch.New = func() any { return new(submitScratch) }
	h.moPol.New = func() any { return new(msg.Envelope) }
	h.charges.New = func() any { return new(chargeBox) }
	h.encs.New = func() any { return new(encoder) }
	return h, nil
}

// CountDelivered counts a receipt (mo false) or MO an ESME acknowledged in
// its user's counters (UserStats): the delivery side's Delivered hook, on
// an event loop.
func (h *Hub) CountDelivered(systemID string, mo bool) {
	if c := h.ustats.get(systemID); mo {
		c.mo.Add(1)
	} else {
		c.receipts.Add(1)
	}
}

// Sweep drops old records (when the store is a storage.Sweeper) and
// shrinks the live index: the delivery side's Sweep hook, once a second on
// its goroutine.
func (h *Hub) Sweep(now int64) {
	h.retryStates()
	if s, ok := h.msgs.(storage.Sweeper); ok {
		s.Sweep(now)
	}
	h.live.shrink()
}

// Attach sets who answers deferred submits (*engine.Server; two-phase
// wiring: the engine takes the hub at New). Until then, and after
// Attach(nil), answers wait.
func (h *Hub) Attach(r Responder) { h.acks.attach(r) }

// Start starts every connector, reporting to the hub, and the hub's own
// goroutines (deferred answers, scheduled messages). On a connector's
// error the ones already started are stopped. Start the delivery side
// first: a connector may report at once.
func (h *Hub) Start() error {
	if !h.run.CompareAndSwap(hubNew, hubStarted) {
		if h.stopped.Load() || h.run.Load() == hubNeverRan {
			return ErrStopped
		}
		return errAlreadyStart
	}
	h.acks.start()
	h.later.start()
	h.startShared()
	conns := h.cs().conns
	for i, c := range conns {
		if err := c.Start(h); err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			for _, s := range conns[:i] {
				_ = s.Stop(ctx)
			}
			cancel()
			return fmt.Errorf("flow: start connector %q: %w", c.Name(), err)
		}
	}
	return nil
}

// Stop stops the connectors: each drains what it holds for as long as ctx
// allows and reports the rest as failed, which refunds them and sends the
// receipts asked for (with Durable they stay pending in the store
// instead). Then the hub's goroutines stop; messages waiting for their
// schedule stay in a durable store. Stop the engine before and the
// delivery side after it. Safe in every state: before Start (a start-up
// failure), after a Start that failed, and twice.
func (h *Hub) Stop(ctx context.Context) error {
	h.stopped.Store(true)
	// A Stop before Start claims the hub: the goroutines Start runs never
	// will, and waiting for them to end would block for good.
	neverRan := h.run.CompareAndSwap(hubNew, hubNeverRan) || h.run.Load() == hubNeverRan
	if !neverRan {
		h.acks.stop() // first: what it cannot hand over goes to later, which lets it go
		h.stopShared()
	}
	h.later.stop()
	var errs []error
	for _, c := range h.cs().conns {
		if err := c.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flow: stop connector %q: %w", c.Name(), err))
		}
	}
	h.retryStates() // the store may take them now; what is left is lost at exit
	if n := h.unkept.n.Load(); n > 0 {
		h.log.Error().Str("event", "unkept_at_stop").Int64("states", n).
			Msg("state writes the store could not take are lost at exit: those messages go again at the next start")
	}
	return errors.Join(errs...)
}

// Compile-time checks of the seams the hub implements.
var (
	_ engine.SubmitHandler = (*Hub)(nil)
	_ engine.ManageHandler = (*Hub)(nil)
	_ connector.Sink       = (*Hub)(nil)
)
