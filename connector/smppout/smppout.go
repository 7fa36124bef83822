// Package smppout is the SMPP client connector: it binds to an upstream
// SMSC (transceivers, or transmitters plus receivers; optionally over TLS),
// submits the messages queued on it and reports the outcomes, receipts and
// MO through a connector.Sink.
//
// # Message path
//
// Submit pushes onto a lock-free ring (never blocks, allocates nothing). A
// dispatcher goroutine moves messages from the ring into jobs (a fixed
// pool: Queue + Binds*Window), keeps the ones that wait (no bind up, a
// retry backoff, a Schedule in the future) and expires them there, and
// hands ready jobs to the session workers, one per transmitting bind. A
// worker Claims the message (a cancelled one is reported StateDeleted),
// encodes submit_sm from its fields (TLVs passed through raw; with
// SupportsPayload false a message_payload is split into UDH parts), takes a
// throughput token per submit_sm and sends under its window. The session's
// reader goroutine handles the responses:
//
//   - ESME_ROK: IDMap.PutUpstream(ID, key of the upstream id, m.ID) for
//     every part, then Sink.Accepted(m, upstream id of the first part), then
//     m is released;
//   - a temporary status (Options.TemporaryStatuses), a response timeout or
//     the connection lost before the response: m.Requeue(), retried with
//     backoff (RetryMin..RetryMax) until its expiry, then Sink.Failed(m, 0,
//     StateExpired); only the parts not yet accepted are sent again;
//   - any other status: Sink.Failed(m, status, StateRejected).
//
// Messages wait while no bind is up and expire there (Expires, or Received
// + DefaultValidity when Expires is 0). A relative validity_period is
// rewritten to the time left when the message was held for a while.
//
// # Receipts and MO
//
// Every deliver_sm (and data_sm) is answered ESME_ROK. It is a receipt when
// esm_class & 0x3C is 0x04 or 0x20 or it carries receipted_message_id: the
// upstream id comes from that TLV, else from the text's id:, and is mapped
// through IDMap.Upstream (see IDFormat for hex/decimal tolerance). A receipt
// whose id is not mapped yet (it overtook the submit_sm_resp) is parked, up
// to ParkMax for ParkTTL, and resolved when that id is accepted. The state
// comes from message_state, else from stat: (an unknown word such as FAILED
// is UNDELIVERABLE), err: from the text, network_error_code from its TLV,
// Done from the done date. Anything else goes to Sink.MO.
//
// Split parts all map to our one id; only the last part asks for a receipt
// (one receipt per message, as Jasmin does for long messages).
//
// # Cancel and replace upstream
//
// CancelUpstream and ReplaceUpstream (flow's UpstreamCanceller and
// UpstreamReplacer) never block: they encode the request and queue it for
// the forwarder goroutine, which sends them one at a time on a bound
// transmitting session and hands each upstream answer (or the error that
// kept it from coming within ResponseTimeout of the request) to the
// caller's done callback. What the answer means for the message is the
// caller's to decide.
//
// # Goroutines
//
// One dispatcher, one forwarder, and per session a worker and (while
// connected) a reader. Sink methods are called from all of them,
// concurrently.
package smppout

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/internal/ring"
	"github.com/smppd/smppd/msg"
)

// Connector is one upstream SMSC connection set. Build it with New.
type Connector struct {
	opts  Options
	log   zerolog.Logger
	addr  string
	epoch time.Time // base of the monotonic clock for network timeouts

	ring   *ring.MPSC[*msg.Message]
	notify *ring.Notify
	jobs   []job
	free   *ring.MPSC[*job]
	ready  chan *job   // dispatcher -> workers, unbuffered
	back   chan *job   // workers -> dispatcher (retries), never blocks
	fwd    fwdRequests // CancelUpstream/ReplaceUpstream -> forwarder
	disp   dispatcher

	sessions []*session
	bucket   bucket
	park     parkTable
	temp     []codec.Status

	sink    connector.Sink
	started atomic.Bool
	closed  atomic.Bool
	inSub   atomic.Int64 // Submit calls in progress (Stop waits them out)

	ctx      context.Context // cancelled when workers must quit
	cancel   context.CancelFunc
	drainReq chan struct{} // closed by Stop: report when empty
	drained  chan struct{} // closed by the dispatcher once empty
	dispQuit chan struct{}
	dispDone chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error

	txUp, bindsUp atomic.Int32
	waiting       atomic.Int64 // jobs waiting in the dispatcher

	submitted, accepted, refused, retried, expired atomic.Uint64
	receipts, mos, reconnect                       atomic.Uint64
	badReceipts, parkDropped, stray                atomic.Uint64
	tempLog, permLog, rcptLog                      logGate
}

var _ connector.Connector = (*Connector)(nil)

// New validates opts, applies the defaults and builds a stopped Connector.
func New(opts Options) (*Connector, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r, err := ring.NewMPSC[*msg.Message](o.Queue)
	if err != nil {
		return nil, err
	}
	c := &Connector{
		opts:     o,
		log:      o.Logger.With().Str("connector", o.Name).Logger(),
		addr:     net.JoinHostPort(o.Host, strconv.Itoa(o.Port)),
		epoch:    time.Now(),
		ring:     r,
		notify:   ring.NewNotify(),
		ready:    make(chan *job),
		fwd:      fwdRequests{ch: make(chan fwdReq, forwardQueue)},
		temp:     o.TemporaryStatuses,
		drainReq: make(chan struct{}),
		drained:  make(chan struct{}),
		dispQuit: make(chan struct{}),
		dispDone: make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.bucket.init(o.Throughput, o.Burst)
	c.park.init(o.ParkMax)

	njobs := r.Cap() + o.Binds*o.Window
	c.jobs = make([]job, njobs)
	if c.free, err = ring.NewMPSC[*job](njobs); err != nil {
		return nil, err
	}
	for i := range c.jobs {
		c.free.TryPush(&c.jobs[i])
	}
	c.back = make(chan *job, njobs)
	c.disp.init(njobs)

	switch o.BindMode {
	case TxRx:
		for i := 0; i < o.Binds; i++ {
			c.sessions = append(c.sessions, newSession(c, len(c.sessions), codec.BindTransmitterID))
		}
		for i := 0; i < o.Binds; i++ {
			c.sessions = append(c.sessions, newSession(c, len(c.sessions), codec.BindReceiverID))
		}
	default:
		for i := 0; i < o.Binds; i++ {
			c.sessions = append(c.sessions, newSession(c, len(c.sessions), codec.BindTransceiverID))
		}
	}
	return c, nil
}

// Name returns Options.Name.
func (c *Connector) Name() string { return c.opts.Name }

// Start launches the dispatcher and the sessions; outcomes go to sink. It
// must be called once, before Stop.
func (c *Connector) Start(sink connector.Sink) error {
	if sink == nil {
		return errNilSink
	}
	if c.closed.Load() {
		return errStopped
	}
	if !c.started.CompareAndSwap(false, true) {
		return errStarted
	}
	c.sink = sink
	go c.dispatch()
	c.wg.Add(1)
	go c.forwarder()
	for _, s := range c.sessions {
		c.wg.Add(1)
		go s.run()
	}
	return nil
}

// Submit queues m. Safe from any goroutine; never blocks; allocates
// nothing. false means the ring is full or the connector is stopping: m
// stays the caller's. On true the connector owns m until Sink.Accepted or
// Sink.Failed returns.
func (c *Connector) Submit(m *msg.Message) bool {
	c.inSub.Add(1)
	ok := !c.closed.Load() && c.ring.TryPush(m)
	c.inSub.Add(-1)
	if ok {
		c.notify.Ring()
	}
	return ok
}

// QueueFull implements connector.QueueReporter: taking messages (bound or
// not: they wait in the ring while the upstream is down) and the ring full.
func (c *Connector) QueueFull() bool { return !c.closed.Load() && c.ring.Len() >= c.ring.Cap() }

// Up reports whether at least one session able to submit is bound.
func (c *Connector) Up() bool { return c.txUp.Load() > 0 }

// Stop stops taking messages, keeps delivering until nothing is queued,
// waiting or in flight or ctx is done, then unbinds, reports what it still
// holds through Sink.Failed(m, connector.StatusShutdown, StateUnknown) (a
// cancelled message as StateDeleted) and returns once every goroutine has
// exited. The error is ctx's when it ended the drain early. A connector
// never started releases what was submitted without reporting it (it has
// no sink). Later calls return the first call's result.
func (c *Connector) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stopErr = c.stop(ctx) })
	return c.stopErr
}

func (c *Connector) stop(ctx context.Context) error {
	c.closed.Store(true)
	for c.inSub.Load() != 0 {
		// A Submit that saw closed false is pushing: let it finish so the
		// final drain sees its message.
		time.Sleep(time.Microsecond)
	}
	if !c.started.Load() {
		for m, ok := c.ring.TryPop(); ok; m, ok = c.ring.TryPop() {
			m.Release()
		}
		c.cancel()
		return nil
	}
	var err error
	close(c.drainReq)
	select {
	case <-c.drained:
	case <-ctx.Done():
		err = ctx.Err()
	}
	c.cancel()
	c.wg.Wait()
	close(c.dispQuit)
	<-c.dispDone
	c.log.Info().Uint64("submitted", c.submitted.Load()).Uint64("accepted", c.accepted.Load()).Msg("smpp connector stopped")
	return err
}

// Stats returns a snapshot of the counters.
func (c *Connector) Stats() connector.Stats {
	return connector.Stats{
		Queued:    c.ring.Len() + int(c.waiting.Load()),
		Submitted: c.submitted.Load(),
		Accepted:  c.accepted.Load(),
		Refused:   c.refused.Load(),
		Retried:   c.retried.Load(),
		Expired:   c.expired.Load(),
		Receipts:  c.receipts.Load(),
		MO:        c.mos.Load(),
		Binds:     int(c.bindsUp.Load()),
		Reconnect: c.reconnect.Load(),
	}
}

// now is the injected clock in Unix nanoseconds.
func (c *Connector) now() int64 { return c.opts.Now().UnixNano() }

// mono is the real monotonic clock in nanoseconds since New, for network
// timeouts.
func (c *Connector) mono() int64 { return int64(time.Since(c.epoch)) }

// shuttingDown reports whether the workers were told to quit.
func (c *Connector) shuttingDown() bool { return c.ctx.Err() != nil }

// isTemporary reports whether st is retried.
func (c *Connector) isTemporary(st codec.Status) bool {
	for _, t := range c.temp {
		if t == st {
			return true
		}
	}
	return false
}
