// Package webhook delivers HTTP callbacks: receipts to the dlr-url a
// message was submitted with over HTTP (Jasmin's parameters, receipts.go)
// and MO to the URL an [[mo_route]] names (mo.go).
//
// A callback is a Request. Enqueue keeps it in storage.Holds as a
// storage.HeldCallback item before anything is sent (so with a durable
// store it survives a restart), leased by this service alone for as long
// as it is in memory, and hands it to its target: the scheme, host and
// port of its URL. Each target sends with at most Options.MaxPerTarget
// requests at once, each within Options.Timeout, on goroutines of its
// own, so a slow or hung endpoint holds up only its own callbacks; it
// keeps at most Options.MaxPendingPerTarget waiting, and the service
// Options.MaxPending in all (memory is bounded by those and the body
// sizes).
//
// Outcome of one attempt (send.go): a 2xx answer is success (when the
// request names an AckBody, such as Jasmin's "ACK/Jasmin", the response
// body, trimmed of surrounding white space, must also equal it); a 4xx
// other than 408 and 429 is permanent (counted, logged, kept as a
// storage dead letter); anything else (a 5xx, a 3xx, a 408 or 429, a
// timeout, a refused connection, a 2xx without the acknowledgement) is
// retried after a doubling backoff from RetryMin to RetryMax, until
// HoldLifetime after the request was made, when it goes to the dead
// letters as expired. Success and both failures acknowledge the held item.
//
// Signing (sign.go): when the request's SecretRef resolves to a secret
// (Options.Secrets, read at each attempt so a rotated secret applies to
// what is pending), the request carries X-Smppd-Signature.
//
// Addresses (Options.Guard): a receipt callback's URL is the customer's,
// so its connection is refused when the address it resolves to is one the
// guard denies (checked at dial time, after resolution: DNS rebinding
// cannot get around it); the callback is then a permanent failure. An MO
// route's URL, checked at load, goes through the same check when it
// connects (its name may resolve elsewhere since): one rule for both.
//
// Delivery is at least once: an item in flight when the process stops is
// sent again after the restart.
package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/logthrottle"
	"github.com/smppd/smppd/internal/netguard"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Queue is the held-item queue (storage.Held.SystemID) of every pending
// callback: a name no system_id can be (accounts allows no control
// characters), so the delivery side never leases these items. A cluster
// node holds its callbacks under QueueOf(its node id) instead.
const Queue = "\x00webhook"

// QueueOf is the held-item queue of a cluster node's callbacks: each node
// takes up only its own at start, so a callback another live node is
// still retrying (its lease is that node's alone) is never sent twice;
// TakeOver moves a departed node's to the taker. 0 is Queue (one node).
func QueueOf(node int) string {
	if node <= 0 {
		return Queue
	}
	return Queue + "." + strconv.Itoa(node)
}

// Kind is what a callback reports.
type Kind uint8

// Callback kinds.
const (
	KindReceipt Kind = 1 // a receipt to a message's dlr-url
	KindMO      Kind = 2 // an MO to an [[mo_route]]'s url
)

// String returns "receipt" or "mo" (the metrics' label).
func (k Kind) String() string {
	if k == KindMO {
		return "mo"
	}
	return "receipt"
}

// Request is one HTTP callback. The service copies what it keeps.
type Request struct {
	Kind   Kind
	Method uint8  // storage.CallbackPOST or storage.CallbackGET
	URL    string // absolute http:// or https:// URL
	// AckBody, when set, is the body a 2xx answer must carry (trimmed of
	// surrounding white space) to count as success: "ACK/Jasmin" for
	// Jasmin's clients.
	AckBody string
	// SecretRef names the secret that signs the request (UserSecret,
	// RouteSecret), looked up through Options.Secrets at each attempt; ""
	// or a ref that resolves to nothing sends it unsigned.
	SecretRef string
	SystemID  string // receipts: the message's owner; "" for MO
	ID        msg.ID // receipts: the message id; 0 for MO
	// Params are the parameters, application/x-www-form-urlencoded with
	// the keys sorted (url.Values.Encode): POST sends them as the body,
	// GET in the query.
	Params []byte
}

// UserSecret is the SecretRef of a user's callback_secret.
func UserSecret(systemID string) string { return "user:" + systemID }

// RouteSecret is the SecretRef of an [[mo_route]]'s secret.
func RouteSecret(route string) string { return "route:" + route }

// Secrets resolves a SecretRef to its secret; nil or empty = unsigned.
// Called at each attempt, from the target's goroutines: safe for
// concurrent use.
type Secrets interface {
	Secret(ref string) []byte
}

// SecretsFunc adapts a function to Secrets.
type SecretsFunc func(ref string) []byte

// Secret calls f.
func (f SecretsFunc) Secret(ref string) []byte { return f(ref) }

// Observer takes one latency sample in seconds (a prometheus.Histogram).
type Observer = interface {
	Observe(seconds float64)
}

// Options configure a Service. Zero values take the defaults in brackets.
type Options struct {
	// Holds keeps the pending callbacks (storage.HeldCallback items under
	// QueueOf(Node)); DeadLetters the ones that failed for good. Both
	// required.
	Holds       storage.Holds
	DeadLetters storage.DeadLetters
	// Node is this cluster node's id (0: not in a cluster): the queue its
	// callbacks are held under (QueueOf).
	Node int
	// Callbacks and UpstreamIDs are read by the receipt hooks
	// (receipts.go): a message's dlr-url, and the upstream's id of it
	// (id_smsc). Callbacks is required for them; UpstreamIDs may be nil.
	Callbacks   storage.Callbacks
	UpstreamIDs storage.UpstreamIDs
	// Secrets resolves SecretRefs; nil = every request unsigned.
	Secrets Secrets
	// MORoutes gives an [[mo_route]]'s url, method and ack_body by name
	// (mo.go); nil = PushMO refuses every MO.
	MORoutes MORoutes
	// ConnectorName names a connector by its routing table id (the
	// receipts' connector parameter); nil = its number.
	ConnectorName func(id int) string
	// Timeout bounds one attempt, connection to the end of the body [10s].
	Timeout time.Duration
	// MaxPerTarget bounds the requests in flight to one target (scheme,
	// host and port) [8]; MaxPendingPerTarget the callbacks one target may
	// have waiting [10000]; MaxPending the callbacks of all targets
	// together [100000]. A callback beyond either is refused (counted,
	// logged, kept as a dead letter).
	MaxPerTarget        int
	MaxPendingPerTarget int
	MaxPending          int
	// HoldLifetime is how long a callback is retried, from its creation
	// [48h]; RetryMin and RetryMax bound the doubling backoff [5s, 5m].
	HoldLifetime       time.Duration
	RetryMin, RetryMax time.Duration
	// ReceiptAckBody is the body a receipt callback's 2xx answer must
	// carry ("ACK/Jasmin" for Jasmin's clients); "" = any 2xx.
	ReceiptAckBody string
	// ReceiptZone is the zone of the receipts' subdate and donedate [UTC].
	ReceiptZone *time.Location
	// Latency, when set, observes each attempt's seconds.
	Latency Observer
	// Guard refuses the addresses callbacks may not connect to, receipts
	// and MO alike ([webhook] deny_networks, allow_networks); nil = any
	// address.
	Guard *netguard.Guard
	// Client sends every request (then Guard is its business); nil builds
	// one from the settings above (keep-alive, MaxPerTarget connections
	// per host, no redirects) dialling through Guard.
	Client *http.Client
	Logger zerolog.Logger
	// Now is the clock (tests); nil = time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultTimeout             = 10 * time.Second
	DefaultMaxPerTarget        = 8
	DefaultMaxPendingPerTarget = 10000
	DefaultMaxPending          = 100000
	DefaultHoldLifetime        = 48 * time.Hour
	DefaultRetryMin            = 5 * time.Second
	DefaultRetryMax            = 5 * time.Minute
)

// Errors of New, Enqueue and PushMO.
var (
	ErrNoStorage    = errors.New("webhook: Options.Holds and Options.DeadLetters are required")
	ErrBadURL       = errors.New("webhook: URL is not an absolute http:// or https:// URL")
	ErrFull         = errors.New("webhook: too many callbacks pending (max_pending)")
	ErrTargetFull   = errors.New("webhook: too many callbacks pending for the target (max_pending_per_target)")
	ErrStopped      = errors.New("webhook: service stopped")
	ErrUnknownRoute = errors.New("webhook: no [[mo_route]] of that name names a url")
	errAlreadyStart = errors.New("webhook: Start called twice")
	errTooLong      = errors.New("webhook: request too long to keep")
	errBadHeldBody  = errors.New("webhook: held item does not decode")
)

// Service sends callbacks. Create it with New, Start it (which takes up
// what a previous run left pending), Enqueue; Stop it at shutdown.
type Service struct {
	opts   Options
	queue  string       // QueueOf(opts.Node)
	client *http.Client // receipts and MO, through Guard
	log    zerolog.Logger
	now    func() time.Time
	zone   *time.Location
	// cbCount is Options.Callbacks when it counts what it keeps, else nil.
	cbCount callbackCounter

	mu       sync.Mutex
	targets  map[string]*target
	pending  int // callbacks in memory (every one is leased from Holds)
	stopping bool
	// adopting are departed nodes' queues TakeOver named, until when the
	// scheduler keeps taking them up (takeover.go).
	adopting map[string]int64

	sched scheduler
	wg    sync.WaitGroup // target senders
	ctx   context.Context
	stop  context.CancelFunc

	stats counters
	warn  warnings
}

// warnings gate the log lines that a flood could repeat.
type warnings struct {
	refused, permanent, expired, store, retry logthrottle.Gate
}

// New checks opts and builds a Service; it starts nothing.
func New(opts Options) (*Service, error) {
	if opts.Holds == nil || opts.DeadLetters == nil {
		return nil, ErrNoStorage
	}
	setDefault(&opts.Timeout, DefaultTimeout)
	setDefault(&opts.HoldLifetime, DefaultHoldLifetime)
	setDefault(&opts.RetryMin, DefaultRetryMin)
	setDefault(&opts.RetryMax, DefaultRetryMax)
	opts.RetryMax = max(opts.RetryMax, opts.RetryMin)
	if opts.MaxPerTarget <= 0 {
		opts.MaxPerTarget = DefaultMaxPerTarget
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.MaxPendingPerTarget <= 0 {
		opts.MaxPendingPerTarget = DefaultMaxPendingPerTarget
	}
	opts.MaxPendingPerTarget = min(opts.MaxPendingPerTarget, opts.MaxPending)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{
		opts:    opts,
		queue:   QueueOf(opts.Node),
		client:  opts.Client,
		log:     opts.Logger.With().Str("component", "webhook").Logger(),
		now:     opts.Now,
		zone:    opts.ReceiptZone,
		targets: map[string]*target{},
	}
	if s.zone == nil {
		s.zone = time.UTC
	}
	s.cbCount, _ = opts.Callbacks.(callbackCounter)
	if s.client == nil {
		s.client = newClient(opts.Timeout, opts.MaxPerTarget, opts.Guard)
	}
	logthrottle.Set(10*time.Second, 5, &s.warn.refused, &s.warn.permanent, &s.warn.expired, &s.warn.store, &s.warn.retry)
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.sched.init()
	return s, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// newClient is a default client: keep-alive connections, at most
// perTarget of them per host (the target's limit), no redirects (a 3xx
// is an answer to retry, not a place to go). With a guard every
// connection's address is checked as it is dialled, and no proxy is used
// (the guard would check the proxy's address, not the receiver's).
func newClient(timeout time.Duration, perTarget int, guard *netguard.Guard) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if guard != nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: guard.Control}
		tr.DialContext = d.DialContext
		tr.Proxy = nil
	}
	tr.MaxConnsPerHost = perTarget
	tr.MaxIdleConnsPerHost = perTarget
	tr.MaxIdleConns = 1024
	tr.ResponseHeaderTimeout = timeout
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Start takes up the callbacks a previous run left in Holds (leasing up
// to MaxPending of them; more are leased as room frees) and starts the
// retry goroutine. Call it before the receipts and MO that may enqueue,
// and before the delivery side's first sweep, so no pending callback
// expires unseen.
func (s *Service) Start() error {
	if !s.sched.started.CompareAndSwap(false, true) {
		return errAlreadyStart
	}
	s.sched.more.Store(true)
	s.takeHeld(s.now())
	if n := s.stats.restored.Load(); n > 0 {
		s.log.Info().Str("event", "webhook_restored").Uint64("callbacks", n).Bool("more_held", s.sched.more.Load()).
			Msg("HTTP callbacks left pending by the previous run taken up")
	}
	go s.sched.run(s)
	return nil
}

// Stop stops taking callbacks and retrying, and waits for the requests in
// flight as long as ctx allows (then cancels them). What is pending stays
// held: with a durable store it is sent after the next Start.
func (s *Service) Stop(ctx context.Context) {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.sched.stop(ctx)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.stop()
		<-done
	}
	s.stop()
}

// Pending is the number of callbacks in memory: waiting, in flight or
// waiting for a retry.
func (s *Service) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}
