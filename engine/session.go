package engine

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/timers"
)

// noCopy makes go vet flag copies of structs that must stay in place.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Timer kinds (timers.Timer.Kind).
const (
	tkSessionInit uint8 = iota + 1
	tkEnquireLink
	tkInactivity
	tkPDURead
	tkControl // response timer of our enquire_link or unbind
	tkSlot    // response timer of one deliver_sm (Arg is the *slot)
	tkWait    // retry of an MT request held for a full connector queue
)

// session is one SMPP connection. It lives on one loop and is touched only
// there; closed sessions go back to the loop's pool with gen incremented so
// stale handles (sessRef, SubmitToken, inbox events) are recognised.
type session struct {
	_   noCopy
	l   *loop
	c   gnet.Conn
	gen uint32
	idx int // position in l.sessions

	// deliverPending counts deliveries posted to this session and not yet
	// reported; Deliver reads it from any goroutine to refuse a full
	// session synchronously (ErrQueueFull) instead of bouncing the
	// delivery through the loop.
	deliverPending atomic.Int32

	state    state
	bindType BindType
	noTLV    bool // the bind said interface_version <= 0x33
	trace    bool
	remote   netip.AddrPort
	viaTLS   bool

	principal Principal
	systemID  string

	bindSeq uint32
	bindCmd codec.CommandID
	bindID  string // system_id the pending bind asked for; logged if refused

	out      []byte                     // responses and requests appended this turn; one Write per turn
	outBuf   *bytebufferpool.ByteBuffer // owner of out's backing array between open and cleanup
	outSeq   uint32                     // our request sequence numbers (1..0x7FFFFFFF)
	inFlight int                        // deferred MT requests not yet answered

	// waiting: the PDU at the head of the input is an MT request held for a
	// full connector queue (SubmitResult.Wait); nothing more is read until
	// tWait offers it again. waitSince (Unix ns; 0 = none) starts the
	// QueueFullWait budget at the first wait and clears at an acceptance.
	waiting   bool
	retry     bool // the frame being dispatched is a held one offered again
	waitSince int64

	tInit, tEnquire, tInact, tRead, tCtrl, tWait timers.Timer
	ctrlSeq                                      uint32
	ctrlCmd                                      codec.CommandID
	unbindWhy                                    CloseReason
	win                                          window
	throttled                                    uint64

	// Admin view (Server.Sessions): plain fields, written on the loop only.
	id                                 uint64 // unique per connection, never reused
	opened, boundAt                    int64  // Unix ns
	pdusIn, pdusOut, submits, delivers uint64

	queued, dirtyQ bool // on l.resume / l.dirty
	busy           int  // >0 while a frame on the stack is using s
	dead           bool // gnet closed the conn while busy: finish cleanup when unwinding
	deadErr        error
	closing        bool // close requested; reason below
	reason         CloseReason
	sawPDU         bool // any PDU this turn (enquire_link timer)
	sawActivity    bool // a PDU other than enquire_link(_resp) this turn (inactivity timer)
}

func newSession(l *loop) *session {
	s := &session{l: l, idx: -1, state: stateClosed}
	for _, t := range []*timers.Timer{&s.tInit, &s.tEnquire, &s.tInact, &s.tRead, &s.tCtrl, &s.tWait} {
		t.Arg = s
	}
	s.tInit.Kind, s.tEnquire.Kind, s.tInact.Kind, s.tRead.Kind, s.tCtrl.Kind = tkSessionInit, tkEnquireLink, tkInactivity, tkPDURead, tkControl
	s.tWait.Kind = tkWait
	s.win.init(s, l.srv.opts.DeliverWindow, l.srv.opts.DeliverQueue)
	return s
}

// open prepares a pooled session for a new connection.
func (s *session) open(c gnet.Conn, remote netip.AddrPort, viaTLS bool) {
	s.c = c
	s.remote = remote
	s.viaTLS = viaTLS
	s.state = stateOpen
	s.trace = s.l.srv.opts.TracePDUs
	s.outSeq = 0
	s.id = s.l.srv.nextID.Add(1)
	s.opened, s.boundAt = time.Now().UnixNano(), 0
	s.pdusIn, s.pdusOut, s.submits, s.delivers = 0, 0, 0, 0
	s.outBuf = outPool.Get()
	s.out = s.outBuf.B[:0]
	s.closing, s.dead, s.deadErr, s.reason = false, false, nil, ReasonNone
	s.l.addLive(s)
	s.l.wheel.Schedule(&s.tInit, s.l.srv.opts.SessionInitTimeout)
}

// transition is the only place that changes s.state; it applies the side
// effects of entering and leaving states.
func (s *session) transition(to state) {
	from := s.state
	if transitions[from]&(1<<to) == 0 {
		panic("BUG: engine: illegal session transition " + from.String() + " → " + to.String())
	}
	s.state = to
	srv := s.l.srv
	w := s.l.wheel
	if to.bound() {
		s.boundAt = time.Now().UnixNano()
		w.Cancel(&s.tInit)
		if srv.opts.EnquireLinkInterval > 0 {
			w.Schedule(&s.tEnquire, srv.opts.EnquireLinkInterval)
		}
		if srv.opts.InactivityTimeout > 0 {
			w.Schedule(&s.tInact, srv.opts.InactivityTimeout)
		}
		srv.stats.bound.Add(1)
		if to.canReceiveDeliver() {
			srv.reg.add(s.systemID, s.l, s)
		}
	}
	if from.bound() {
		srv.stats.bound.Add(-1)
		if from.canReceiveDeliver() {
			srv.reg.remove(s.systemID, s)
		}
		// Leaving the bound states happens once per bind (to unbinding or
		// closed); out of the registry first, so the observer's Deliver
		// calls go to the user's other sessions.
		srv.observeBind(false, s.systemID, s.bindType)
	}
}

// nextSeq returns our next request sequence number, wrapping 0x7FFFFFFF → 1.
func (s *session) nextSeq() uint32 {
	s.outSeq++
	if s.outSeq > 0x7FFFFFFF {
		s.outSeq = 1
	}
	return s.outSeq
}

// serve reads and handles up to BatchPDUs complete PDUs, then flushes.
// Called on the loop, from OnTraffic or from a doorbell turn; s.busy guards
// against gnet closing the conn underneath (a failed Write closes it).
func (s *session) serve() {
	l := s.l
	srv := l.srv
	s.busy++
	defer s.unwind()
	maxLen := srv.opts.MaxPDULen
	batch := srv.opts.BatchPDUs
	l.batchNow = time.Time{}
	n := 0
	completed := false
	for !s.closing && !s.dead && s.state != stateBinding && !s.waiting {
		avail := s.c.InboundBuffered()
		if avail < 4 {
			break
		}
		if n == batch {
			l.yield(s) // let the other sessions of this loop run
			break
		}
		head, _ := s.c.Peek(4)
		flen, err := codec.FrameLen(head, maxLen)
		if err != nil {
			// Framing lost (SMPP 3.4 §4.3, reference §7.6 step 1): nack and close.
			var seq uint32
			if avail >= codec.HeaderLen {
				hb, _ := s.c.Peek(codec.HeaderLen)
				seq = binary.BigEndian.Uint32(hb[12:16])
			}
			s.nack(seq, codec.StatusInvCmdLen)
			s.close(ReasonBadFraming)
			break
		}
		if avail < flen {
			break
		}
		frame, _ := s.c.Peek(flen)
		s.dispatch(frame)
		s.retry = false
		if s.waiting {
			break // the frame stays unread for its retry
		}
		_, _ = s.c.Discard(flen)
		n++
		completed = true
	}
	if s.dead || s.closing {
		s.flush()
		return
	}
	s.afterBatch(completed)
	s.flushOrClose()
}

// afterBatch re-arms the liveness timers once per batch instead of per PDU.
func (s *session) afterBatch(completed bool) {
	l := s.l
	opts := &l.srv.opts
	if s.sawPDU && s.state.bound() && opts.EnquireLinkInterval > 0 {
		l.wheel.Schedule(&s.tEnquire, opts.EnquireLinkInterval)
	}
	if s.sawActivity && s.state.bound() && opts.InactivityTimeout > 0 {
		l.wheel.Schedule(&s.tInact, opts.InactivityTimeout)
	}
	s.sawPDU, s.sawActivity = false, false
	// PDU read timer: runs while an incomplete PDU sits in the buffer; a PDU
	// completing restarts the clock for the next one.
	rest := s.c.InboundBuffered()
	switch {
	case rest == 0 || s.state == stateBinding || s.queued || s.waiting:
		l.wheel.Cancel(&s.tRead)
	case completed || !s.tRead.Active():
		l.wheel.Schedule(&s.tRead, opts.PDUReadTimeout)
	}
}

// unwind ends a serve frame: recovers a panic (closing only this session) and
// completes a close that gnet performed while the frame was running.
func (s *session) unwind() {
	if v := recover(); v != nil {
		srv := s.l.srv
		srv.stats.panics.Add(1)
		srv.log.Error().Interface("panic", v).Bytes("stack", debug.Stack()).
			Str("system_id", s.systemID).Str("remote", s.remote.String()).Msg("recovered panic in session")
		s.out = s.out[:0]
		s.closing = true
		s.reason = ReasonPanic
	}
	s.busy--
	if s.busy == 0 && s.dead {
		s.cleanup(s.deadErr)
	}
	if l := s.l; l.endTurn && s.busy == 0 {
		l.endTurn = false
		l.endTurnNow() // the answers are written: now the work they fed
	}
}

// flush writes the pending output; gnet keeps what the socket does not take.
func (s *session) flush() {
	if len(s.out) == 0 || s.dead {
		s.out = s.out[:0]
		return
	}
	s.pdusOut += s.l.pdus.countOut(s.out)
	s.busy++
	_, _ = s.c.Write(s.out) // a write error makes gnet close the conn (s.dead)
	s.busy--
	s.out = s.out[:0]
}

// flushOrClose flushes and enforces the outbound backlog cap (a peer that
// stops reading cannot make us buffer without bound).
func (s *session) flushOrClose() {
	s.flush()
	if !s.dead && !s.closing && s.c.OutboundBuffered() > s.l.srv.opts.MaxOutboundBacklog {
		s.l.srv.stats.slowConsumers.Add(1)
		s.close(ReasonSlowConsumer)
	}
	if s.dead && s.busy == 0 {
		s.cleanup(s.deadErr)
	}
}

// close ends the session after writing what is pending. Inside this
// session's OnTraffic the close is done by returning gnet.Close; elsewhere on
// the loop it is immediate. The caller must not use s afterwards unless it
// is the serving frame.
func (s *session) close(r CloseReason) {
	if s.closing || s.state == stateClosed {
		return
	}
	s.closing = true
	s.reason = r
	if s.l.cur == s || s.busy > 0 {
		return // the serving frame returns gnet.Close / closes after unwinding
	}
	s.flush()
	if s.dead { // the write failed and gnet closed the conn during flush
		s.cleanup(s.deadErr)
		return
	}
	_ = s.l.el.Close(s.c) // runs OnClose → cleanup synchronously
}

// onGnetClose is OnClose for a session.
func (s *session) onGnetClose(err error) {
	if s.busy > 0 {
		s.dead, s.deadErr = true, err
		return
	}
	s.cleanup(err)
}

// cleanup releases everything the session holds and returns it to the pool.
func (s *session) cleanup(err error) {
	if s.state == stateClosed {
		return
	}
	l := s.l
	srv := l.srv
	reason := s.reason
	if reason == ReasonNone {
		if err == nil || errors.Is(err, io.EOF) { // gnet wraps EOF: read: EOF
			reason = ReasonPeerClosed
		} else {
			reason = ReasonIOError
		}
	}
	ev := srv.log.Info()
	if reason == ReasonPanic || reason == ReasonIOError {
		ev = srv.log.Warn()
	}
	ev = ev.Str("event", "close").Str("reason", reason.String()).Str("remote", s.remote.String()).
		Str("state", s.state.String())
	if s.systemID != "" {
		ev = ev.Str("system_id", s.systemID)
	}
	if s.throttled > 0 {
		ev = ev.Uint64("throttled", s.throttled)
	}
	if err != nil && reason == ReasonIOError {
		ev = ev.Err(err)
	}
	ev.Msg("session closed")

	s.transition(stateClosed)
	w := l.wheel
	w.Cancel(&s.tInit)
	w.Cancel(&s.tEnquire)
	w.Cancel(&s.tInact)
	w.Cancel(&s.tRead)
	w.Cancel(&s.tCtrl)
	w.Cancel(&s.tWait)
	s.waiting, s.retry, s.waitSince = false, false, 0
	s.win.failAll(ErrSessionGone)
	if s.principal != nil {
		s.principal.Release()
		s.principal = nil
	}
	srv.limits.release(s.remote.Addr())
	srv.stats.sessions.Add(-1)
	l.removeLive(s)
	s.gen++
	s.c.SetContext(nil)
	s.c = nil
	s.systemID = ""
	s.bindID = ""
	s.bindType = 0
	s.noTLV = false
	s.inFlight = 0
	s.throttled = 0
	s.ctrlSeq, s.ctrlCmd = 0, 0
	s.queued, s.dirtyQ = false, false
	s.releaseOut()
	s.deadErr = nil
	l.free = append(l.free, s)
	srv.sessionClosed()
}

// outPool recycles outbound frame buffers between sessions, so a closed
// (pooled) session holds none; bytebufferpool calibrates the size it hands out
// from what sessions actually used.
var outPool bytebufferpool.Pool

// releaseOut gives the outbound buffer back to outPool; the session must not
// append to s.out until open takes a new one.
func (s *session) releaseOut() {
	if s.outBuf == nil {
		return
	}
	s.outBuf.B = s.out[:0]
	outPool.Put(s.outBuf)
	s.outBuf, s.out = nil, nil
}
