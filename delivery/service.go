package delivery

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Users tells whether a system_id names a configured user; MO for unknown
// users is refused (counted and logged as unroutable).
type Users interface {
	Known(systemID string) bool
}

// UsersFunc adapts a function to Users.
type UsersFunc func(systemID string) bool

// Known calls f.
func (f UsersFunc) Known(systemID string) bool { return f(systemID) }

// MORouter picks the user of an MO that names none: content is its
// short_message, or its message_payload when that is empty. A route that
// sends to a URL instead returns its name as push (systemID "").
type MORouter interface {
	RouteMO(in *msg.Inbound, content []byte, now time.Time) (systemID, push string, ok bool)
}

// Deliverer sends a deliver_sm to a bound receiver or transceiver of a user
// and reports the outcome later through engine.DeliverySink (the service's
// DeliveryDone). *engine.Server satisfies it. It must not block.
type Deliverer interface {
	Deliver(systemID string, d *engine.Delivery) error
}

// Observer takes one latency sample in seconds; prometheus.Histogram (or a
// pre-resolved HistogramVec child) satisfies it without allocating. It names
// an unnamed interface type, so the MT and the delivery sides' observer
// slices are one type (metrics hands the same histograms to both).
type Observer = interface {
	Observe(seconds float64)
}

// Settings are the delivery policy: what [delivery] configures. The MT hub's
// options embed them too, so both read one definition. Zero values take
// the defaults in brackets.
type Settings struct {
	// HoldLifetime is how long a receipt or MO may wait for delivery, held
	// or between retries, counted from its creation [48h].
	HoldLifetime time.Duration
	// RetryMin and RetryMax bound the deliver_sm retry backoff, which
	// doubles from RetryMin up to RetryMax [5s, 5m].
	RetryMin, RetryMax time.Duration
	// ReassembleMO joins concatenated MO (UDH or SAR) into one deliver_sm;
	// otherwise parts pass through one by one.
	ReassembleMO bool
	// ReassemblyTimeout is how long the first part of an MO waits for the
	// others before the incomplete message is dropped (counted, logged) [60s].
	ReassemblyTimeout time.Duration
	// ReceiptIDDecimal writes the id: of receipt texts in decimal for legacy
	// clients; receipted_message_id and submit_sm_resp stay hex.
	ReceiptIDDecimal bool
	// MaxWaiting bounds the receipts and MO waiting for room at busy ESMEs,
	// all users together; past it new ones go to Holds (and come back when
	// their user's queue has drained) [100000].
	MaxWaiting int
	// ReceiptZone is the zone of the receipt text's dates [UTC].
	ReceiptZone *time.Location
}

// Options configure a Service. Zero durations take the defaults in brackets.
type Options struct {
	// Messages holds the records receipts are reported against; required.
	Messages storage.Messages
	// Holds keeps receipts and MO for users with no receiver bound; required.
	Holds storage.Holds
	// Routes picks the user of an MO that names none; nil = such MO are
	// unroutable.
	Routes MORouter
	// Pushes takes receipt callbacks and MO routed to a URL (push.go);
	// nil = none (such MO are unroutable).
	Pushes Pushes
	// Users checks MO targets; nil accepts every system_id.
	Users Users
	// Finals is told of each final state a receipt records (the CDR
	// stream; finals.go); nil = none.
	Finals Finals
	// RouteCounts counts final receipts with state DELIVRD per MT route (the
	// metrics' route label; finals.go); nil = not counted.
	RouteCounts RouteCounter
	// LogPrivacy masks the middle digits of numbers in log lines
	// ([smpp-server] log_privacy; msg.MaskAddr).
	LogPrivacy bool
	// Durable: Holds keeps its items across restarts (a disk store). Every
	// receipt and MO is then held from its creation until its ESME
	// acknowledges it, refuses it for good or it expires (leased while it
	// is delivered from memory), so nothing a connector acknowledged to its
	// upstream lives only in memory (durable.go).
	Durable bool
	// DeadLetters keeps what a connector reported that no one can ever
	// take, an MO with no route or user and a receipt for an id not
	// stored, so its upstream is answered ESME_ROK and not asked to resend
	// it forever; nil: such items are dropped (counted, logged).
	DeadLetters storage.DeadLetters
	// RetryShare bounds each user's deliveries waiting in memory for a
	// retry (storage.HeldLimit, the same share as its held items): past
	// it, and past MaxWaiting for all users, an item waits in the hold
	// store instead and comes back at its retry time. nil: MaxWaiting only.
	RetryShare storage.HeldLimit
	// Backlog, when set, is told from the background goroutine when a
	// user's receipts and MO near what can be kept for it (on true:
	// waiting for room at its busy receivers past half of MaxWaiting, at
	// least its share, RetryShare, else a tenth of MaxWaiting; or held in
	// Holds, a storage.HeldCounts, past 90% of its share) and when they
	// are back to half of that (false), so MT asking a receipt can be
	// refused before it is acknowledged (room.go). It must not block.
	Backlog func(systemID string, on bool)

	// Settings are the delivery policy (the [delivery] keys).
	Settings
	// ReceiptLatency, indexed by connector id (nil or short = not sampled),
	// observes the seconds from a message's arrival to its final receipt.
	ReceiptLatency []Observer
	// Delivered, when set, is told of every receipt (mo false) and MO
	// acknowledged ESME_ROK, on an event loop; it must not block.
	Delivered func(systemID string, mo bool)
	// Sweep, when set, runs on the background goroutine once per sweep
	// (every second) with the time in Unix ns.
	Sweep func(now int64)

	Logger zerolog.Logger
	// Now is the clock (tests); nil = time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultHoldLifetime      = 48 * time.Hour
	DefaultRetryMin          = 5 * time.Second
	DefaultRetryMax          = 5 * time.Minute
	DefaultReassemblyTimeout = 60 * time.Second
	DefaultMaxWaiting        = 100000
)

// Errors of New, Start and InjectMO.
var (
	ErrNoStorage    = errors.New("delivery: Options.Messages and Options.Holds are required")
	ErrUnknownUser  = errors.New("delivery: MO target user unknown")
	ErrNoMORoute    = errors.New("delivery: no MO route matches")
	ErrBadMO        = errors.New("delivery: MO cannot be encoded as deliver_sm")
	errAlreadyStart = errors.New("delivery: Start called twice")
)

// Service takes receipts and MO from the connectors and delivers them to
// the engine: deliver_sm now, held until a receiver binds, waiting for room
// at a busy ESME, or retried after an error. Create it with New, Attach
// the engine, Start it.
type Service struct {
	opts  Options
	msgs  storage.Messages
	holds storage.Holds
	// recipes is holds when it keeps receipts in compact form; nil if not.
	recipes storage.RecipeHolds
	users   Users
	leased  atomic.Int64 // held items leased out to items now
	// wallClock: opts.Now is time.Now, so a connector's own clock reading
	// can stand in for one (tests inject a clock and keep theirs).
	wallClock bool
	now       func() time.Time
	log       zerolog.Logger
	zone      *time.Location

	out atomic.Pointer[delivererRef]

	encs  sync.Pool // *encoder
	items slab
	mo    moAssembler

	binds   bindQueue
	unkeptQ unkeptQueue // receipts waiting for the store (unkept.go)
	retries retryInbox
	waiting retryInbox // items refused for back-pressure, on their way to bg's queues
	bg      background

	receivers receiverCounts // receiver binds here, per user (receivers.go)

	stats counters
	warn  warnings
}

type delivererRef struct{ d Deliverer }

// New checks opts and builds a Service. It does not start anything.
func New(opts Options) (*Service, error) {
	if opts.Messages == nil || opts.Holds == nil {
		return nil, ErrNoStorage
	}
	setDefault(&opts.HoldLifetime, DefaultHoldLifetime)
	setDefault(&opts.RetryMin, DefaultRetryMin)
	setDefault(&opts.RetryMax, DefaultRetryMax)
	setDefault(&opts.ReassemblyTimeout, DefaultReassemblyTimeout)
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = opts.RetryMin
	}
	if opts.MaxWaiting <= 0 {
		opts.MaxWaiting = DefaultMaxWaiting
	}
	wallClock := opts.Now == nil
	if wallClock {
		opts.Now = time.Now
	}
	h := &Service{
		opts:      opts,
		msgs:      opts.Messages,
		holds:     opts.Holds,
		users:     opts.Users,
		wallClock: wallClock,
		now:       opts.Now,
		log:       opts.Logger.With().Str("component", "delivery").Logger(),
		zone:      opts.ReceiptZone,
	}
	if h.zone == nil {
		h.zone = time.UTC
	}
	h.warn.init()
	h.encs.New = func() any { return new(encoder) }
	h.mo.init(h)
	h.bg.init()
	h.bg.heldBy, _ = opts.Holds.(storage.HeldCounts)
	h.recipes, _ = opts.Holds.(storage.RecipeHolds)
	return h, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// Attach sets the engine side deliveries go to (two-phase wiring: the
// engine's Options take the service, the service then takes the engine).
// Until then, and after Attach(nil), receipts and MO are held.
func (h *Service) Attach(d Deliverer) {
	if d == nil {
		h.out.Store(nil)
		return
	}
	h.out.Store(&delivererRef{d: d})
}

func (h *Service) deliverer() Deliverer {
	if r := h.out.Load(); r != nil {
		return r.d
	}
	return nil
}

// Start starts the background goroutine (bind releases, retries, sweeps).
func (h *Service) Start() error {
	if !h.bg.started.CompareAndSwap(false, true) {
		return errAlreadyStart
	}
	if h.opts.Durable {
		h.recoverParts()
	}
	go h.bg.run(h)
	return nil
}

// Stop ends the background goroutine, waiting for it as long as ctx
// allows. Items still waiting for a retry stay in memory and are not
// delivered.
func (h *Service) Stop(ctx context.Context) {
	h.bg.stop(ctx)
	if h.bg.started.Load() && h.bg.exited() {
		h.retryUnkept() // the store may take them now; the rest is lost at exit
	}
	if n := h.Unkept(); n > 0 {
		h.log.Error().Str("event", "unkept_at_stop").Int("receipts", n).
			Msg("receipts the store could not keep are lost at exit (the simulator's are sent again at the next start)")
	}
}

// Step runs one round of the background work at now: for callers that
// drive the clock themselves, with the goroutine not started.
func (h *Service) Step(now time.Time) { h.step(now) }

// Undelivered is the number of receipts and MO not yet acknowledged by an
// ESME: held, waiting for room, waiting for a retry, or on their way (an
// item leased from the hold store counts once). After Stop, it is what
// the process loses at exit with a store that keeps nothing.
func (h *Service) Undelivered() int {
	return h.items.inUse() + h.holds.Len() - int(h.leased.Load())
}

// InFlight is the number of items out of the slab: being delivered,
// waiting for room or for a retry (held copies not leased excluded).
func (h *Service) InFlight() int { return h.items.inUse() }

// Leased is the number of held items leased out to deliveries now.
func (h *Service) Leased() int { return int(h.leased.Load()) }

// Compile-time checks of the seams the service implements.
var (
	_ engine.BindObserver = (*Service)(nil)
	_ engine.DeliverySink = (*Service)(nil)
	_ Deliverer           = (*engine.Server)(nil)
)
