// Package smppout is the SMPP client connector: it binds to an upstream
// SMSC (transceivers, or transmitters plus receivers; optionally over TLS),
// submits the messages queued on it and reports the outcomes, receipts and
// MO through a connector.Sink.
//
// # Message path
//
// The connector is a connector.Runtime around the client's driver. Submit
// pushes onto the runtime's lock-free queue (never blocks, allocates
// nothing). The runtime's worker hands the driver batches, which it moves
// into jobs (a fixed pool: Queue + Binds*Window, so a full pool leaves the
// queue to fill); the driver keeps the jobs that wait (no bind up, a retry
// backoff, a Schedule in the future) and expires them there, and the
// session workers, one per transmitting bind, take the ready ones in
// arrival order. A worker Claims the message (a cancelled one is reported
// StateDeleted),
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
// Every deliver_sm (and data_sm) is answered once the sink kept what it
// carries and Sync made it durable: ESME_ROK, else ESME_RX_T_APPN. It is a receipt when
// esm_class & 0x3C is 0x04 or 0x20 or it carries receipted_message_id: the
// upstream id comes from that TLV, else from the text's id:, and is mapped
// through IDMap.Upstream (see IDFormat for hex/decimal tolerance). A receipt
// whose id is not mapped yet (it overtook the submit_sm_resp) is parked, up
// to ParkMax for ParkTTL, and resolved when that id is accepted; with
// Options.Parker its copy is parked in the store before its deliver_sm is
// answered, so a crash does not lose it (the next start takes it up). The state
// comes from message_state, else from stat: (an unknown word such as FAILED
// is UNDELIVERABLE), err: from the text, network_error_code from its TLV,
// Done from the done date. Anything else goes to Sink.MO.
//
// Split parts all map to our one id; only the last part asks for a receipt
// (one receipt per message, as Jasmin does for long messages).
//
// # Cancel and replace upstream
//
// The connector declares connector.Caps Cancel and Replace:
// CancelUpstream and ReplaceUpstream never block: they encode the request and queue it for
// the forwarder goroutine, which sends them one at a time on a bound
// transmitting session and hands each upstream answer (or the error that
// kept it from coming within ResponseTimeout of the request) to the
// caller's done callback. What the answer means for the message is the
// caller's to decide.
//
// # Goroutines
//
// The runtime's worker (the dispatcher's work: intake, schedule, expiry),
// one forwarder, and per session a worker and (while connected) a reader.
// Sink methods are called from all of them, concurrently. Stop is the
// runtime's: the sessions go on until nothing is queued or held or the
// deadline passes, then unbind, and what is left is reported by the
// runtime's one rule (connector.Runtime.Abandon).
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
	"github.com/smppd/smppd/internal/logthrottle"
	"github.com/smppd/smppd/internal/ring"
)

// Connector is one upstream SMSC connection set: a connector.Runtime (the
// whole connector.Connector surface) around the SMPP client driver. Build
// it with New.
type Connector struct {
	*connector.Runtime
	c *client
}

var _ connector.Connector = (*Connector)(nil)

// client is the SMPP client: the connector.Driver behind a Connector.
type client struct {
	connector.BuiltinDriver
	rt    *connector.Runtime
	opts  Options
	log   zerolog.Logger
	addr  string
	epoch time.Time // base of the monotonic clock for network timeouts
	gate  bindGate  // the count Options.BindGate allows now (gate.go)

	jobs  []job
	free  *ring.MPSC[*job] // jobs not in use; the Runtime's worker pops, anyone pushes
	stash []*job           // free jobs Room took for the next Send (the Runtime's worker only)
	fwd   fwdRequests      // CancelUpstream/ReplaceUpstream -> forwarder

	dmu  sync.Mutex // guards disp: the Runtime's worker files jobs, sessions take them
	disp dispatcher
	late []*job // jobs found expired under dmu, reported after it (the Runtime's worker only)

	lastScan int64 // mono ns of the last expiry scan (the Runtime's worker only)

	sessions []*session
	bucket   bucket
	park     parkTable
	pending  pendingIDs // upstream ids the IDMap refused (pendingids.go)
	temp     []codec.Status

	ctx    context.Context // cancelled when the sessions and the forwarder must quit
	cancel context.CancelFunc
	wg     sync.WaitGroup

	txUp, bindsUp atomic.Int32

	submitted, retried, reconnect atomic.Uint64
	badReceipts, parkFull, stray  atomic.Uint64
	parkExpired, notKept          atomic.Uint64
	idsNotKept                    atomic.Uint64
	tempLog, permLog, rcptLog     logthrottle.Gate
	idLog                         logthrottle.Gate
}

// New validates opts, applies the defaults and builds a stopped Connector.
func New(opts Options) (*Connector, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &client{
		opts:  o,
		log:   o.Logger.With().Str("connector", o.Name).Logger(),
		addr:  net.JoinHostPort(o.Host, strconv.Itoa(o.Port)),
		epoch: time.Now(),
		fwd:   fwdRequests{ch: make(chan fwdReq, forwardQueue)},
		temp:  o.TemporaryStatuses,
	}
	now := o.Now
	rt, err := connector.New(connector.Options{Name: o.Name, Queue: o.Queue,
		Caps: connector.Caps{Cancel: true, Replace: true}, Clock: func() int64 { return now().UnixNano() }}, c)
	if err != nil {
		return nil, err
	}
	c.rt = rt
	c.initLogGates()
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.bucket.init(o.Throughput, o.Burst)
	c.park.init(o.ParkMax)

	njobs := rt.Cap() + o.Binds*o.Window
	c.jobs = make([]job, njobs)
	if c.free, err = ring.NewMPSC[*job](njobs); err != nil {
		return nil, err
	}
	for i := range c.jobs {
		c.free.TryPush(&c.jobs[i])
	}
	c.disp.init(njobs)
	c.late = make([]*job, 0, njobs)
	c.stash = make([]*job, 0, min(njobs, stashMax))

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
	return &Connector{Runtime: rt, c: c}, nil
}

// Open implements connector.Driver: the forwarder and the sessions start.
func (c *client) Open() error {
	c.lastScan = c.mono()
	c.restoreParked()
	c.wg.Add(1)
	go c.forwarder()
	for _, s := range c.sessions {
		c.wg.Add(1)
		go s.run()
	}
	return nil
}

// Up implements connector.Driver: at least one session able to submit is
// bound.
func (c *client) Up() bool { return c.txUp.Load() > 0 }

// Close implements connector.Driver, at the end of Stop: the sessions
// unbind and exit (what they have in flight is abandoned), then every job
// still waiting here is abandoned.
func (c *client) Close(now int64) {
	c.cancel()
	c.wg.Wait()
	c.dmu.Lock()
	late := c.late[:0]
	for c.disp.n > 0 {
		late = append(late, c.disp.pop())
	}
	for len(c.disp.heap) > 0 {
		late = append(late, c.disp.heapPop())
	}
	c.dmu.Unlock()
	for i, j := range late {
		late[i] = nil
		c.abandon(j, now)
	}
	c.log.Info().Uint64("submitted", c.submitted.Load()).Uint64("accepted", c.rt.Stats().Accepted).
		Msg("smpp connector stopped")
}

// Stats implements connector.Driver: submit_sm sent (retries included),
// retries, binds up and reconnects.
func (c *client) Stats(st *connector.Stats) {
	st.Submitted = c.submitted.Load()
	st.Retried = c.retried.Load()
	st.Binds = int(c.bindsUp.Load())
	st.Reconnect = c.reconnect.Load()
	st.IDsNotKept = c.idsNotKept.Load()
	st.IDsPending = int(c.pending.n.Load())
	st.IDsLost = c.pending.lost.Load()
}

// now is the injected clock in Unix nanoseconds.
func (c *client) now() int64 { return c.opts.Now().UnixNano() }

// mono is the real monotonic clock in nanoseconds since New, for network
// timeouts.
func (c *client) mono() int64 { return int64(time.Since(c.epoch)) }

// shuttingDown reports whether the workers were told to quit.
func (c *client) shuttingDown() bool { return c.ctx.Err() != nil }

// isTemporary reports whether st is retried.
func (c *client) isTemporary(st codec.Status) bool {
	for _, t := range c.temp {
		if t == st {
			return true
		}
	}
	return false
}
