package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/ring"
)

// Server is a running SMPP server. Create it with New, then Start.
type Server struct {
	opts   Options
	log    zerolog.Logger
	sysID  []byte
	submit SubmitHandler
	ender  TurnEnder     // submit's, when it implements one
	lender LoopTurnEnder // submit's, when it implements one: called instead of ender

	h       *handler
	eng     gnet.Engine
	booted  chan struct{}
	tickOn  chan struct{}
	tickOK  sync.Once
	runDone chan struct{}
	runErr  error
	addr    *net.TCPAddr
	tlsLn   net.Listener
	tlsWG   sync.WaitGroup
	running atomic.Bool
	reuse   reuseState // ReusePort's own listeners, StopAccepting (reuseport.go)

	loopsMu sync.Mutex
	loops   atomic.Pointer[[]*loop]

	authQ   chan authJob
	gate    BindGate     // the Authenticator's, when it implements one
	pending pendingBinds // per-address share of the auth queue
	authWG  sync.WaitGroup

	limits   connLimits
	tlsConns tlsConns // TLS conns from accept to the end of their relay
	reg      registry
	nextID   atomic.Uint64 // session ids (Server.Sessions, Kick)
	draining atomic.Bool
	stopping atomic.Bool
	idle     chan struct{} // signalled when the last session closes during shutdown

	stats struct {
		accepted, refused, throttled, queueWaits, responseTimeouts, deliverRetries atomic.Uint64
		nacks, panics, slowConsumers                                               atomic.Uint64
		proxyRefused                                                               atomic.Uint64
		inputFloods, unexpectedResponses, deliverUnanswered                        atomic.Uint64
		sessions, bound                                                            atomic.Int64
		outbound                                                                   atomic.Int64 // bytes queued to peers (sum of sessions' outHeld)
	}
	logs connLogs // per-connection log lines, throttled
}

// New checks opts, applies defaults and returns a server ready to Start.
func New(opts Options) (*Server, error) {
	if opts.Authenticator == nil {
		return nil, ErrNoAuthenticator
	}
	applyDefaults(&opts)
	if len(opts.SystemID) > 15 {
		return nil, fmt.Errorf("engine: SystemID %q longer than 15 characters", opts.SystemID)
	}
	if opts.TLSAddr != "" && opts.TLSConfig == nil {
		return nil, errors.New("engine: TLSAddr set without TLSConfig")
	}
	if opts.ReusePort {
		if err := checkReusePort(opts.Addr); err != nil {
			return nil, err
		}
	}
	srv := &Server{opts: opts, log: opts.Logger, sysID: []byte(opts.SystemID)}
	srv.submit = opts.Submit
	if srv.submit == nil {
		ids := opts.IDs
		if ids == nil {
			ids = newLocalIDs()
		}
		srv.submit = IDHandler{IDs: ids}
	}
	srv.ender, _ = srv.submit.(TurnEnder)
	srv.lender, _ = srv.submit.(LoopTurnEnder)
	srv.gate, _ = opts.Authenticator.(BindGate)
	srv.pending.init(opts.MaxPendingBindsPerIP)
	srv.limits.init(opts.MaxConnections, opts.MaxConnectionsPerIP)
	srv.logs.init(opts.LogLinesPerSecond)
	srv.idle = make(chan struct{}, 1)
	empty := []*loop{}
	srv.loops.Store(&empty)
	return srv, nil
}

func applyDefaults(o *Options) {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defi := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:2775"
	}
	if o.SystemID == "" {
		o.SystemID = "smppd"
	}
	defi(&o.EventLoops, runtime.NumCPU())
	if o.MaxPDULen == 0 {
		o.MaxPDULen = codec.DefaultMaxPDULen
	}
	// Negative disables the enquire_link and inactivity timers only; the
	// others must run, so a negative value means the default.
	for _, v := range []*time.Duration{&o.SessionInitTimeout, &o.ResponseTimeout, &o.PDUReadTimeout, &o.Tick} {
		if *v < 0 {
			*v = 0
		}
	}
	def(&o.SessionInitTimeout, 30*time.Second)
	def(&o.EnquireLinkInterval, 30*time.Second)
	def(&o.InactivityTimeout, 300*time.Second)
	def(&o.ResponseTimeout, 60*time.Second)
	def(&o.PDUReadTimeout, 30*time.Second)
	def(&o.Tick, 10*time.Millisecond)
	defi(&o.MaxInFlight, 2000)
	def(&o.QueueFullWait, time.Second)
	defi(&o.DeliverWindow, 100)
	defi(&o.DeliverQueue, 4*o.DeliverWindow)
	defi(&o.DeliverAttempts, 3)
	defi(&o.MaxConnections, 50000)
	defi(&o.MaxConnectionsPerIP, 5000)
	defi(&o.MaxOutboundBacklog, 4<<20)
	defi(&o.MaxOutboundUnbound, 64<<10)
	if o.MaxOutboundTotal <= 0 {
		o.MaxOutboundTotal = 256 << 20
	}
	defi(&o.MaxInboundBuffer, 256<<10)
	// A full PDU plus one gnet read must fit, or a legitimate large PDU
	// arriving behind a small one would count as a flood.
	o.MaxInboundBuffer = max(o.MaxInboundBuffer, int(o.MaxPDULen)+gnetReadChunk)
	defi(&o.MaxUnexpectedResponses, 16)
	def(&o.SlowConsumerTimeout, 10*time.Second)
	defi(&o.LogLinesPerSecond, 50)
	defi(&o.BatchPDUs, 128)
	defi(&o.AuthWorkers, 4)
	defi(&o.AuthQueue, 1024)
	defi(&o.MaxPendingBindsPerIP, max(1, o.AuthQueue/8))
	for _, v := range []*time.Duration{&o.TLSHandshakeTimeout, &o.TLSWriteTimeout} {
		*v = max(*v, 0) // negative: the default
	}
	def(&o.TLSHandshakeTimeout, 5*time.Second)
	def(&o.TLSWriteTimeout, 30*time.Second)
	o.ProxyHeaderTimeout = max(o.ProxyHeaderTimeout, 0)
	def(&o.ProxyHeaderTimeout, 5*time.Second)
	defi(&o.InboxSize, 4096)
	o.InboxSize = min(o.InboxSize, ring.MaxCapacity)
}

// Start listens (Options.Addr, and Options.TLSAddr if set) and returns once
// every event loop is ready to serve. It fails if a listener cannot be opened.
func (srv *Server) Start() error {
	srv.h = &handler{srv: srv}
	srv.booted = make(chan struct{})
	srv.tickOn = make(chan struct{})
	srv.runDone = make(chan struct{})
	srv.authQ = make(chan authJob, srv.opts.AuthQueue)
	for i := 0; i < srv.opts.AuthWorkers; i++ {
		srv.authWG.Add(1)
		go srv.authWorker()
	}
	srv.reuse.before(srv.opts.ReusePort)
	go func() {
		srv.runErr = gnet.Run(srv.h, "tcp://"+srv.opts.Addr,
			gnet.WithNumEventLoop(srv.opts.EventLoops),
			// LeastConnections: Engine.Register (doorbells, TLS relays) is
			// race-free with it, unlike RoundRobin.
			gnet.WithLoadBalancing(gnet.LeastConnections),
			gnet.WithTicker(true),
			gnet.WithReuseAddr(true),
			gnet.WithReusePort(srv.opts.ReusePort), // one listener per loop: reuseport.go
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithReadBufferCap(gnetReadChunk),
			gnet.WithLogger(gnetLogger{srv.log}),
		)
		close(srv.runDone)
	}()
	// The first OnTick runs after every loop is registered and started:
	// from then on Engine.Register is safe to call.
	select {
	case <-srv.tickOn:
	case <-srv.runDone:
		srv.stopWorkers()
		if srv.runErr == nil {
			srv.runErr = ErrNotRunning
		}
		return fmt.Errorf("engine: listen %s: %w", srv.opts.Addr, srv.runErr)
	}
	if err := srv.learnAddr(); err != nil {
		srv.abort()
		return err
	}
	if err := srv.reuse.after(srv.opts.ReusePort, srv.addr); err != nil {
		srv.abort()
		return err
	}
	if err := srv.enrollBells(); err != nil {
		srv.abort()
		return err
	}
	if srv.opts.TLSAddr != "" {
		if err := srv.startTLS(); err != nil {
			srv.abort()
			return err
		}
	}
	srv.running.Store(true)
	srv.log.Info().Str("event", "listen").Str("addr", srv.addr.String()).Int("event_loops", srv.opts.EventLoops).
		Msg("smpp server started")
	return nil
}

func (srv *Server) abort() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.eng.Stop(ctx)
	<-srv.runDone
	srv.stopWorkers()
}

func (srv *Server) stopWorkers() {
	close(srv.authQ)
	srv.authWG.Wait()
}

// learnAddr reads the bound address (Addr may use port 0) from a duplicate
// of the listener's descriptor.
func (srv *Server) learnAddr() error {
	fd, err := srv.eng.Dup()
	if err != nil {
		return fmt.Errorf("engine: listener address: %w", err)
	}
	defer syscall.Close(fd)
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return fmt.Errorf("engine: listener address: %w", err)
	}
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		srv.addr = &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	case *syscall.SockaddrInet6:
		srv.addr = &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	default:
		return errors.New("engine: listener is not TCP")
	}
	return nil
}

// enrollBells gives every loop a doorbell: a socketpair whose gnet end is
// enrolled through Engine.Register. LeastConnections places each new
// doorbell on the loop with the fewest conns, so registering one at a time
// covers every loop. A doorbell that lands on a loop already served (clients
// connected to the others meanwhile, as a reconnect storm at a restart does)
// stays open until every loop has one: it raises that loop's count, so the
// next one goes elsewhere (closing it at once would land the next on the same
// loop again). Bounded in time, not tries: a storm may need many.
func (srv *Server) enrollBells() error {
	want := srv.opts.EventLoops
	var extras []int
	defer func() {
		for _, fd := range extras {
			_ = syscall.Close(fd) // the loop sees EOF and drops its end
		}
	}()
	deadline := time.Now().Add(enrollTimeout)
	for srv.readyLoops() < want {
		if time.Now().After(deadline) {
			return errors.New("engine: could not enroll a doorbell on every event loop")
		}
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("engine: doorbell socketpair: %w", err)
		}
		f := os.NewFile(uintptr(fds[0]), "doorbell")
		nc, err := net.FileConn(f)
		_ = f.Close()
		if err != nil {
			_ = syscall.Close(fds[1])
			return fmt.Errorf("engine: doorbell conn: %w", err)
		}
		b := &bell{wfd: fds[1]}
		ctx := gnet.NewContext(gnet.NewNetConnContext(context.Background(), nc), b)
		ch, err := srv.eng.Register(ctx)
		if err != nil {
			_ = nc.Close()
			_ = syscall.Close(fds[1])
			return fmt.Errorf("engine: doorbell register: %w", err)
		}
		res := <-ch
		if res.Err != nil {
			_ = syscall.Close(fds[1])
			return fmt.Errorf("engine: doorbell register: %w", res.Err)
		}
		if b.extra {
			extras = append(extras, fds[1])
		}
	}
	for _, l := range *srv.loops.Load() {
		l.ring() // serve anything posted before the doorbell existed
	}
	return nil
}

// enrollTimeout bounds enrollBells.
const enrollTimeout = 10 * time.Second

func (srv *Server) readyLoops() int {
	n := 0
	for _, l := range *srv.loops.Load() {
		if l.ready.Load() {
			n++
		}
	}
	return n
}

// loopFor returns the engine state of a gnet loop, creating it on first use
// (on that loop's goroutine: the wheel it creates belongs to that loop).
func (srv *Server) loopFor(el gnet.EventLoop) *loop {
	for _, l := range *srv.loops.Load() {
		if l.el == el {
			return l
		}
	}
	srv.loopsMu.Lock()
	defer srv.loopsMu.Unlock()
	cur := *srv.loops.Load()
	for _, l := range cur {
		if l.el == el {
			return l
		}
	}
	l := newLoop(srv, el)
	next := append(append(make([]*loop, 0, len(cur)+1), cur...), l)
	srv.loops.Store(&next)
	return l
}

// Addr is the SMPP listener's address (valid after Start).
func (srv *Server) Addr() net.Addr { return srv.addr }

// TLSListenAddr is the TLS listener's address, or nil.
func (srv *Server) TLSListenAddr() net.Addr {
	if srv.tlsLn == nil {
		return nil
	}
	return srv.tlsLn.Addr()
}

// Deliver queues d for a bound receiver or transceiver of systemID (round
// robin over its sessions that have room). Safe from any goroutine; never
// blocks. ErrQueueFull means every such session already holds
// DeliverWindow+DeliverQueue deliveries (or its loop's inbox is full): the
// caller keeps d and offers it again later. On nil error the outcome is
// reported once through Options.Deliveries.
func (srv *Server) Deliver(systemID string, d *Delivery) error {
	if !srv.running.Load() {
		return ErrNotRunning
	}
	ref, found, room := srv.reg.pickWithRoom(systemID, int32(srv.opts.DeliverWindow+srv.opts.DeliverQueue))
	if !found {
		return ErrNoSession
	}
	if !room {
		return ErrQueueFull
	}
	p := &ref.s.deliverPending
	p.Add(1)
	d.pending = p
	ev := event{kind: evDeliver, s: ref.s, gen: ref.gen, d: d}
	if !ref.l.post(&ev) {
		p.Add(-1)
		d.pending = nil
		return ErrQueueFull
	}
	return nil
}

// Respond answers a request that HandleSubmit deferred. Safe from any
// goroutine; messageID is copied (at most 64 octets). If the session has
// closed meanwhile the response is dropped.
func (srv *Server) Respond(tok SubmitToken, st codec.Status, messageID []byte) error {
	if tok.l == nil {
		return ErrBadToken
	}
	if len(messageID) > 64 {
		return fmt.Errorf("engine: message id of %d octets: %w", len(messageID), ErrBadToken)
	}
	ev := event{kind: evRespond, s: tok.s, gen: tok.gen, seq: tok.seq, cmd: tok.cmd, status: st}
	ev.idLen = uint8(copy(ev.id[:], messageID))
	if !tok.l.post(&ev) {
		return ErrQueueFull
	}
	return nil
}

func (srv *Server) deliveryDone(d *Delivery, st codec.Status, err error) {
	if d != nil && d.pending != nil {
		d.pending.Add(-1)
		d.pending = nil
	}
	if srv.opts.Deliveries != nil && d != nil {
		srv.opts.Deliveries.DeliveryDone(d, st, err)
	}
}

// Stats returns a snapshot of the counters.
func (srv *Server) Stats() Stats {
	return Stats{
		Accepted:         srv.stats.accepted.Load(),
		Refused:          srv.stats.refused.Load(),
		Sessions:         srv.stats.sessions.Load(),
		Bound:            srv.stats.bound.Load(),
		Throttled:        srv.stats.throttled.Load(),
		QueueWaits:       srv.stats.queueWaits.Load(),
		ResponseTimeouts: srv.stats.responseTimeouts.Load(),
		DeliverRetries:   srv.stats.deliverRetries.Load(),
		GenericNacks:     srv.stats.nacks.Load(),
		Panics:           srv.stats.panics.Load(),
		SlowConsumers:    srv.stats.slowConsumers.Load(),

		InputFloods:         srv.stats.inputFloods.Load(),
		UnexpectedResponses: srv.stats.unexpectedResponses.Load(),
		DeliverUnanswered:   srv.stats.deliverUnanswered.Load(),
		OutboundBytes:       srv.stats.outbound.Load(),

		BindsOverShare:       srv.pending.overShare.Load(),
		AuthQueueFull:        srv.pending.queueFull.Load(),
		TLSHandshakeTimeouts: srv.tlsConns.handshakeTimeouts.Load(),
		TLSWriteTimeouts:     srv.tlsConns.writeTimeouts.Load(),
		ProxyHeaderRefusals:  srv.stats.proxyRefused.Load(),
	}
}

func (srv *Server) sessionClosed() {
	if srv.draining.Load() && srv.stats.sessions.Load() == 0 {
		select {
		case srv.idle <- struct{}{}:
		default:
		}
	}
}

// backoff pauses a producer whose target inbox is full.
func (srv *Server) backoff() { time.Sleep(time.Millisecond) }

// Shutdown stops accepting, unbinds every bound session (closing the
// others), waits until all sessions are gone or ctx ends, then stops the
// event loops. Sessions still open when ctx ends are closed.
func (srv *Server) Shutdown(ctx context.Context) error {
	if !srv.running.CompareAndSwap(true, false) {
		return ErrNotRunning
	}
	srv.draining.Store(true)
	srv.StopAccepting()
	if srv.tlsLn != nil {
		_ = srv.tlsLn.Close()
		srv.closeHandshakes()
	}
	for _, l := range *srv.loops.Load() {
		ev := event{kind: evShutdown}
		for !l.post(&ev) {
			srv.backoff()
		}
	}
	t := time.NewTicker(50 * time.Millisecond)
	for srv.stats.sessions.Load() > 0 {
		select {
		case <-ctx.Done():
			srv.log.Warn().Str("event", "shutdown").Int64("sessions", srv.stats.sessions.Load()).
				Msg("grace period over; closing remaining sessions")
		case <-srv.idle:
			continue
		case <-t.C:
			continue
		}
		break
	}
	t.Stop()
	srv.stopping.Store(true)
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// gnet.Run returns once the engine has stopped; Engine.Stop would see
	// it only at its next 500 ms poll, which every shutdown (and an
	// upgrade's hand-over) would wait for.
	stopped := make(chan error, 1)
	go func() { stopped <- srv.eng.Stop(stopCtx) }()
	var err error
	select {
	case <-srv.runDone:
	case err = <-stopped:
		<-srv.runDone
	}
	for _, l := range *srv.loops.Load() {
		l.drainStopped()
	}
	srv.closeRelays()
	srv.tlsWG.Wait()
	srv.stopWorkers()
	for _, l := range *srv.loops.Load() {
		if fd := l.bellFD.Load(); fd >= 0 {
			_ = syscall.Close(int(fd))
		}
	}
	srv.log.Info().Str("event", "shutdown").Msg("smpp server stopped")
	return err
}

// IDHandler is the default SubmitHandler: every accepted MT request is
// answered ESME_ROK with a fresh id from IDs.
type IDHandler struct{ IDs IDSource }

// HandleSubmit implements SubmitHandler.
func (h IDHandler) HandleSubmit(_ *SubmitRequest, res *SubmitResult) {
	res.MessageID = h.IDs.Append(res.MessageID)
}

// localIDs is the engine's own id source for when no IDSource is wired: 16
// hex digits, the start second in the high half and a counter in the low.
type localIDs struct {
	base uint64
	n    atomic.Uint64
}

func newLocalIDs() *localIDs { return &localIDs{base: uint64(time.Now().Unix()) << 32} }

func (g *localIDs) Append(dst []byte) []byte {
	v := g.base + g.n.Add(1)
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		dst = append(dst, digits[(v>>uint(i))&0xf])
	}
	return dst
}

// gnetLogger routes gnet's own messages into zerolog (cold path).
type gnetLogger struct{ l zerolog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug().Str("src", "gnet").Msgf(f, a...) }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Debug().Str("src", "gnet").Msgf(f, a...) }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn().Str("src", "gnet").Msgf(f, a...) }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error().Str("src", "gnet").Msgf(f, a...) }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error().Str("src", "gnet").Msgf(f, a...) }
