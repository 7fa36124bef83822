package engine

import (
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/ring"
	"github.com/smppd/smppd/timers"
)

// evKind is the type of work posted into a loop's inbox.
type evKind uint8

const (
	evBind     evKind = iota + 1 // an Authenticator result
	evDeliver                    // a Delivery for a session
	evRespond                    // a deferred MT response
	evShutdown                   // unbind every session
	evSessions                   // describe the loop's sessions (Server.Sessions)
	evKick                       // end one session (Server.Kick)
	evManage                     // a deferred cancel_sm or replace_sm response (ManageToken.Respond)
)

// event is one inbox entry. Fields are set per kind; session pointers are
// always paired with the generation they were taken at, because the session
// may have closed and been reused by the time the loop reads the event.
type event struct {
	kind      evKind
	s         *session
	gen       uint32
	principal Principal
	status    codec.Status
	d         *Delivery
	q         *adminQuery // evSessions, evKick
	seq       uint32
	cmd       codec.CommandID
	idLen     uint8
	id        [65]byte
}

// sessRef is a session handle valid while s.gen == gen.
type sessRef struct {
	s   *session
	gen uint32
}

// bell is the context of a doorbell conn: the gnet end of a socketpair whose
// other end (wfd) any goroutine may write a byte to, waking the loop that owns
// the conn with no allocation (gnet's Wake and Execute allocate per call).
type bell struct {
	wfd   int
	extra bool // enrolled on a loop that already had a doorbell; unused
}

// oneByte is what a doorbell ring writes.
var oneByte = []byte{1}

// loop is the engine's state for one gnet event loop. Every field without an
// atomic type is owned by that loop's goroutine.
type loop struct {
	srv   *Server
	el    gnet.EventLoop
	wheel *timers.Wheel
	inbox *ring.MPSC[event]

	bellFD   atomic.Int32 // write end of the doorbell socketpair; valid once ready
	ready    atomic.Bool
	bellRung ring.Doorbell // coalesces rings: only the winner writes the byte

	sessions    []*session // live sessions; s.idx is the position
	free        []*session // pool of closed sessions for reuse
	resume      []sessRef  // sessions with unread input (fairness yield or bind done)
	resumeSpare []sessRef
	dirty       []sessRef // sessions with output appended outside their OnTraffic
	backlog     []sessRef // sessions with outbound bytes gnet has not written yet (refreshBacklog)
	cur         *session  // session being served: close it by returning gnet.Close

	pdus pduCounters // by direction, command and status (counters.go)

	// Decode and response scratch, reused for every PDU on this loop.
	bind     codec.Bind
	sm       codec.SM
	dsm      codec.DataSM
	multi    codec.SubmitMulti
	query    codec.QuerySM
	cancel   codec.CancelSM
	repl     codec.ReplaceSM
	bresp    codec.BindResp
	req      SubmitRequest
	endTurn  bool      // an MT request was handled this batch: call srv.ender.EndTurn when it ends
	local    LoopLocal // the SubmitHandler's (SubmitRequest.Loop)
	batchNow time.Time // read at the batch's first MT request (serve clears it)
	answered int       // MT requests answered in the batch, for SubmitLatency (submitsDone)
	res      SubmitResult
	idbuf    [65]byte
	mresp    codec.SubmitMultiResp // its Unsuccess is the list HandleSubmit fills
	mreq     ManageRequest
	qres     QueryResult
	fdbuf    [17]byte // QueryResult.FinalDate storage
	ev       event

	// turnLocal is &local when the SubmitHandler is a LoopTurnEnder, else
	// nil: a handler whose turns end without EndTurnOn must not gather work
	// there that nothing would hand on.
	turnLocal *LoopLocal
}

func newLoop(srv *Server, el gnet.EventLoop) *loop {
	inbox, err := ring.NewMPSC[event](srv.opts.InboxSize)
	if err != nil {
		panic("BUG: engine: inbox size not validated: " + err.Error())
	}
	l := &loop{srv: srv, el: el, inbox: inbox}
	if srv.lender != nil {
		l.turnLocal = &l.local
	}
	l.bellFD.Store(-1)
	l.wheel = timers.NewWheel(srv.opts.Tick, time.Now(), l.onTimer)
	return l
}

// ring wakes the loop. Safe from any goroutine; coalesced so that at most one
// byte is in flight per loop.
func (l *loop) ring() {
	if !l.ready.Load() {
		return // Start rings every loop once its doorbell is enrolled
	}
	if l.bellRung.Ring() {
		_, _ = syscall.Write(int(l.bellFD.Load()), oneByte) // EAGAIN: a byte is already queued
	}
}

// post puts ev into the inbox and rings the doorbell. It reports false when
// the inbox is full.
func (l *loop) post(ev *event) bool {
	if !l.inbox.TryPush(*ev) {
		return false
	}
	l.ring()
	return true
}

// onBell runs on the loop when its doorbell fires: drain the inbox, advance
// the wheel, continue sessions that yielded, flush what was written.
func (l *loop) onBell(c gnet.Conn) {
	_, _ = c.Discard(-1)
	l.bellRung.Clear() // before draining: a later post rings again
	defer l.recoverTurn()
	for {
		ev, ok := l.inbox.TryPop()
		if !ok {
			break
		}
		l.ev = ev
		l.handleEvent(&l.ev)
		l.ev = event{}
	}
	l.wheel.Advance(time.Now())
	l.refreshBacklog()
	if len(l.resume) > 0 {
		// Serve only the sessions queued before this turn; yields made now
		// land in the other slice and wait for the next ring.
		batch := l.resume
		l.resume = l.resumeSpare[:0]
		for i, r := range batch {
			if r.s.gen == r.gen && r.s.state != stateClosed {
				r.s.queued = false
				l.serveFromBell(r.s)
			}
			batch[i] = sessRef{}
		}
		l.resumeSpare = batch[:0]
	}
	l.flushDirty()
}

// drainStopped empties the inbox of a loop that no longer runs, so nothing
// posted late is lost in silence: a delivery is reported ErrSessionGone
// (its owner keeps it), an admin query is answered with what it has.
func (l *loop) drainStopped() {
	for {
		ev, ok := l.inbox.TryPop()
		if !ok {
			return
		}
		switch ev.kind {
		case evDeliver:
			l.srv.deliveryDone(ev.d, 0, ErrSessionGone)
		case evSessions, evKick:
			ev.q.done <- struct{}{}
		}
	}
}

// endTurnNow calls the SubmitHandler's EndTurn; a panic there is logged
// and counted like one in the loop, not let out into gnet.
func (l *loop) endTurnNow() {
	defer l.recoverTurn()
	if e := l.srv.lender; e != nil {
		e.EndTurnOn(&l.local)
		return
	}
	l.srv.ender.EndTurn()
}

func (l *loop) recoverTurn() {
	if v := recover(); v != nil {
		l.srv.stats.panics.Add(1)
		l.srv.log.Error().Interface("panic", v).Str("where", "loop").Msg("recovered panic")
	}
}

// flushDirty writes out what timers and inbox events appended.
func (l *loop) flushDirty() {
	for i, r := range l.dirty {
		if r.s.gen == r.gen && r.s.state != stateClosed {
			r.s.dirtyQ = false
			r.s.flushOrClose()
		}
		l.dirty[i] = sessRef{}
	}
	l.dirty = l.dirty[:0]
}

// refreshBacklog re-reads the outbound backlog of the sessions that had one:
// gnet writes them out without telling us, and the server's total must
// follow (MaxOutboundTotal). A session whose peer stopped reading meets its
// caps here even when it has nothing new to send.
func (l *loop) refreshBacklog() {
	keep := l.backlog[:0]
	for _, r := range l.backlog {
		s := r.s
		if s.gen != r.gen || s.state == stateClosed {
			continue
		}
		s.checkOutbound() // may close s: cleanup then zeroes its share
		if s.gen != r.gen || s.outHeld == 0 {
			if s.gen == r.gen {
				s.backlogged = false
			}
			continue
		}
		keep = append(keep, r)
	}
	clear(l.backlog[len(keep):])
	l.backlog = keep
}

// markDirty schedules s's output for the end of this loop turn.
func (l *loop) markDirty(s *session) {
	if !s.dirtyQ {
		s.dirtyQ = true
		l.dirty = append(l.dirty, sessRef{s, s.gen})
	}
}

// yield queues s to continue reading on the next doorbell turn.
func (l *loop) yield(s *session) {
	if !s.queued {
		s.queued = true
		l.resume = append(l.resume, sessRef{s, s.gen})
		l.ring() // a pending ring also serves: onBell reads resume after clearing the flag
	}
}

func (l *loop) handleEvent(ev *event) {
	switch ev.kind {
	case evBind:
		l.onBindResult(ev)
	case evDeliver:
		s := ev.s
		if s.gen != ev.gen || !s.state.canReceiveDeliver() {
			l.srv.deliveryDone(ev.d, 0, ErrSessionGone)
			return
		}
		s.enqueueDelivery(ev.d)
	case evRespond:
		l.onRespond(ev)
	case evShutdown:
		l.shutdownSessions()
	case evSessions:
		l.describeSessions(ev.q)
	case evKick:
		l.kick(ev.q)
	case evManage:
		l.onManageRespond(ev)
	}
}

// getSession takes a session from the pool or makes one.
func (l *loop) getSession() *session {
	if n := len(l.free); n > 0 {
		s := l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
		return s
	}
	return newSession(l)
}

func (l *loop) addLive(s *session) {
	s.idx = len(l.sessions)
	l.sessions = append(l.sessions, s)
}

func (l *loop) removeLive(s *session) {
	last := len(l.sessions) - 1
	if s.idx <= last && l.sessions[s.idx] == s {
		l.sessions[s.idx] = l.sessions[last]
		l.sessions[s.idx].idx = s.idx
		l.sessions[last] = nil
		l.sessions = l.sessions[:last]
	}
	s.idx = -1
}

// shutdownSessions starts the unbind handshake on every bound session and
// closes the others.
func (l *loop) shutdownSessions() {
	live := append([]*session(nil), l.sessions...)
	for _, s := range live {
		switch {
		case s.state.bound():
			s.sendUnbind(ReasonShutdown)
			l.markDirty(s)
		case s.state == stateUnbinding:
		default:
			s.close(ReasonShutdown)
		}
	}
}
