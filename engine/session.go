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
	"github.com/rs/zerolog"
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
	tkControl   // response timer of our enquire_link or unbind
	tkSlot      // response timer of one deliver_sm (Arg is the *slot)
	tkWait      // retry of an MT request held for a full connector queue
	tkStall     // a receiver answered none of its outstanding deliver_sm (SlowConsumerTimeout)
	tkBindDelay // a bind the BindGate delayed is due for the auth workers (bind.go)
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
	// proxyWait: a trusted proxy's connection whose PROXY header is not
	// read yet (proxy.go); no PDU is read before it.
	proxyWait bool
	peer      *TLSPeer // the TLS client's verified certificate, for the Authenticator; nil without one

	principal Principal
	systemID  string

	bindSeq uint32
	bindCmd codec.CommandID
	bindID  string // system_id the pending bind asked for; logged if refused

	out      []byte                     // responses and requests appended this turn; one Write per turn
	outBuf   *bytebufferpool.ByteBuffer // owner of out's backing array between open and cleanup
	outSeq   uint32                     // our request sequence numbers (1..0x7FFFFFFF)
	inFlight int                        // deferred MT requests not yet answered
	// multiLists keeps the unsuccess lists of deferred submit_multi by
	// sequence number until their answer (rare: made on first use).
	multiLists map[uint32][]codec.Unsuccess

	// waiting: the PDU at the head of the input is an MT request held for a
	// full connector queue (SubmitResult.Wait); nothing more is read until
	// tWait offers it again. waitSince (Unix ns; 0 = none) starts the
	// QueueFullWait budget at the first wait and clears at an acceptance.
	waiting   bool
	retry     bool // the frame being dispatched is a held one offered again
	waitSince int64

	tInit, tEnquire, tInact, tRead, tCtrl, tWait, tStall timers.Timer
	ctrlSeq                                              uint32
	ctrlCmd                                              codec.CommandID
	unbindWhy                                            CloseReason
	win                                                  window
	throttled                                            uint64

	// unexpected counts response PDUs in a row that answered nothing we
	// sent; a matching response resets it (MaxUnexpectedResponses).
	unexpected int
	// outHeld is the outbound backlog last added to the server's total
	// (srv.stats.outbound); backlogged: s is on l.backlog for the refresh.
	outHeld    int
	backlogged bool
	// why details a close reason in its log line ("" = none).
	why string

	parked parkedBind // a bind delayed by the BindGate (bind.go)

	// Admin view (Server.Sessions): plain fields, written on the loop only.
	id                                 uint64 // unique per connection, never reused
	opened, boundAt                    int64  // Unix ns
	pdusIn, pdusOut, submits, delivers uint64

	queued, dirtyQ bool // on l.resume / l.dirty
	life           life // pooled, open, closing or gone (life.go)
	busy           int  // >0 while a frame on the stack is using s
	goneErr        error
	reason         CloseReason
	sawPDU         bool // any PDU this turn (enquire_link timer)
	sawActivity    bool // a PDU other than enquire_link(_resp) this turn (inactivity timer)
}

func newSession(l *loop) *session {
	s := &session{l: l, idx: -1, state: stateClosed}
	for _, t := range []*timers.Timer{&s.tInit, &s.tEnquire, &s.tInact, &s.tRead, &s.tCtrl, &s.tWait, &s.tStall} {
		t.Arg = s
	}
	s.tInit.Kind, s.tEnquire.Kind, s.tInact.Kind, s.tRead.Kind, s.tCtrl.Kind = tkSessionInit, tkEnquireLink, tkInactivity, tkPDURead, tkControl
	s.tWait.Kind, s.tStall.Kind = tkWait, tkStall
	s.parked.t.Arg, s.parked.t.Kind = s, tkBindDelay
	s.win.init(s, l.srv.opts.DeliverWindow, l.srv.opts.DeliverQueue)
	return s
}

// open prepares a pooled session for a new connection.
func (s *session) open(c gnet.Conn, remote netip.AddrPort, viaTLS bool, peer *TLSPeer) {
	s.c = c
	s.remote = remote
	s.viaTLS, s.peer = viaTLS, peer
	s.proxyWait = false
	s.state = stateOpen
	s.trace = s.l.srv.opts.TracePDUs
	s.outSeq = 0
	s.id = s.l.srv.nextID.Add(1)
	s.opened, s.boundAt = time.Now().UnixNano(), 0
	s.pdusIn, s.pdusOut, s.submits, s.delivers = 0, 0, 0, 0
	s.outBuf = outPool.Get()
	s.out = s.outBuf.B[:0]
	s.setLife(lifeOpen)
	s.goneErr, s.reason, s.why = nil, ReasonNone, ""
	s.unexpected = 0
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
	if s.proxyWait && !s.readProxyHeader() {
		s.flush()
		return
	}
	maxLen := srv.opts.MaxPDULen
	batch := srv.opts.BatchPDUs
	l.batchNow = time.Time{}
	n := 0
	completed := false
	for s.live() && s.state != stateBinding && !s.waiting {
		avail := s.c.InboundBuffered()
		if avail < 4 {
			break
		}
		if n == batch {
			if avail <= srv.opts.MaxInboundBuffer {
				l.yield(s) // let the other sessions of this loop run
				break
			}
			// Over the input cap: the peer sends faster than one batch a
			// turn, and gnet would keep reading behind us. Consume on,
			// writing as we go so the outbound caps still apply.
			s.flushOrClose()
			if !s.live() {
				break
			}
			n = 0
		}
		head, _ := s.c.Peek(4)
		flen, err := codec.FrameLen(head, maxLen)
		if err != nil {
			// Framing lost (SMPP 3.4 §3.2, §4.3): nack and close.
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
	srv.submitsDone(l)
	if !s.live() {
		s.flush()
		return
	}
	s.afterBatch(completed)
	s.boundInput()
	s.flushOrClose()
}

// boundInput enforces MaxInboundBuffer on a session that is not reading:
// gnet reads the socket whatever we do, so unread input must not grow with
// what the peer sends. Reading states drain in serve instead.
func (s *session) boundInput() {
	if !s.live() {
		return
	}
	srv := s.l.srv
	n := s.c.InboundBuffered()
	if n <= srv.opts.MaxInboundBuffer {
		return
	}
	switch {
	case s.waiting:
		// Held for a full connector queue while the peer keeps sending:
		// end the wait budget now, so the held submit and those behind it
		// are answered (ESME_RMSGQFUL) and the input drains.
		srv.stats.inputFloods.Add(1)
		srv.event(&srv.logs.flood, zerolog.InfoLevel).Str("event", "input_flood").Str("system_id", s.systemID).
			Str("remote", s.remote.String()).Int("buffered", n).
			Msg("input over max_inbound_buffer while waiting for a full queue: answering ESME_RMSGQFUL")
		s.l.wheel.Cancel(&s.tWait)
		s.waiting, s.retry = false, true
		s.waitSince = 1 // long past: the budget is spent until a submit is accepted
		s.l.yield(s)
	case s.state == stateBinding:
		// A bind is being checked and the peer streams on: an ESME waits
		// for bind_resp (SMPP 3.4 §2.2), so this is no client to buffer for.
		srv.stats.inputFloods.Add(1)
		s.why = "input while binding"
		s.close(ReasonInputFlood)
	}
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
		if s.life == lifeOpen {
			s.setLife(lifeClosing)
		}
		s.reason = ReasonPanic
	}
	s.busy--
	s.settle()
	if l := s.l; l.endTurn && s.busy == 0 {
		l.endTurn = false
		l.endTurnNow() // the answers are written: now the work they fed
	}
}

// flush writes the pending output; gnet keeps what the socket does not take.
func (s *session) flush() {
	if len(s.out) == 0 || s.life == lifeGone || s.life == lifePooled {
		s.out = s.out[:0]
		return
	}
	s.pdusOut += s.l.pdus.countOut(s.out)
	s.busy++
	_, _ = s.c.Write(s.out) // a write error makes gnet close the conn (lifeGone)
	s.busy--
	s.out = s.out[:0]
}

// flushOrClose flushes and enforces the outbound backlog cap (a peer that
// stops reading cannot make us buffer without bound).
func (s *session) flushOrClose() {
	s.flush()
	if s.live() {
		s.checkOutbound()
	}
	s.settle()
}

// outboundFloor is the backlog a session may keep while the total is over
// MaxOutboundTotal: the global cap closes the big holders, not every
// session with a few responses in its socket.
const outboundFloor = 64 << 10

// checkOutbound accounts s's outbound backlog in the server total and closes
// s as a slow consumer past its cap: MaxOutboundBacklog when bound,
// MaxOutboundUnbound before, or outboundFloor while the total is over
// MaxOutboundTotal.
func (s *session) checkOutbound() {
	srv := s.l.srv
	n := s.c.OutboundBuffered()
	s.accountOutbound(n)
	if n == 0 {
		return
	}
	opts := &srv.opts
	limit, why := opts.MaxOutboundBacklog, "max_outbound_backlog"
	if !s.state.bound() && s.state != stateUnbinding {
		limit, why = opts.MaxOutboundUnbound, "max_outbound_unbound"
	}
	if n <= limit {
		if n <= outboundFloor || srv.stats.outbound.Load() <= opts.MaxOutboundTotal {
			return
		}
		why = "max_outbound_total"
	}
	srv.stats.slowConsumers.Add(1)
	s.why = why
	s.close(ReasonSlowConsumer)
}

// accountOutbound moves s's share of the server's outbound total to n and
// keeps s on its loop's backlog list while n > 0, so the total follows
// what gnet writes out between our flushes.
func (s *session) accountOutbound(n int) {
	if n == s.outHeld {
		return
	}
	s.l.srv.stats.outbound.Add(int64(n - s.outHeld))
	s.outHeld = n
	if n > 0 && !s.backlogged {
		s.backlogged = true
		s.l.backlog = append(s.l.backlog, sessRef{s, s.gen})
	}
}

// finishClose is the one end of every session: it logs the close once,
// releases everything the session holds and returns it to the pool.
func (s *session) finishClose(err error) {
	if s.life == lifePooled {
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
	level := zerolog.InfoLevel
	switch reason {
	case ReasonPanic, ReasonIOError, ReasonSlowConsumer, ReasonInputFlood, ReasonUnexpectedResponses:
		level = zerolog.WarnLevel
	}
	ev := srv.event(&srv.logs.close, level).Str("event", "close").Str("reason", reason.String()).
		Str("remote", s.remote.String()).Str("state", s.state.String())
	if s.why != "" {
		ev = ev.Str("detail", s.why)
	}
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
	w.Cancel(&s.tStall)
	s.unpark()
	s.waiting, s.retry, s.waitSince = false, false, 0
	s.win.failAll(ErrSessionGone)
	s.accountOutbound(0)
	s.backlogged = false // a stale l.backlog entry is skipped by its generation
	s.unexpected = 0
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
	clear(s.multiLists)
	s.throttled = 0
	s.ctrlSeq, s.ctrlCmd = 0, 0
	s.queued, s.dirtyQ = false, false
	s.releaseOut()
	s.goneErr = nil
	s.setLife(lifePooled)
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
