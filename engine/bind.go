package engine

import (
	"net/netip"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/timers"
)

// authJob is one bind waiting for an auth worker.
type authJob struct {
	l   *loop
	s   *session
	gen uint32
	key netip.Addr // the source's pendingBinds key, given back once checked
	req BindRequest
}

// parkedBind is a bind the BindGate delayed (failed-bind throttling): it
// waits on the loop's timer wheel, holding no auth worker and no place in
// the auth queue, while its session stays BINDING and reads nothing.
type parkedBind struct {
	t   timers.Timer // Kind tkBindDelay, Arg the session
	req BindRequest
}

// onBind handles bind_* (OPEN) and answers ESME_RALYBND when already bound.
// The BindGate, if any, decides on the loop whether the bind is refused at
// once or waits first; the check itself runs on an auth worker. Until its
// result is back on this loop the session reads nothing more, so PDUs are
// handled in order.
func (s *session) onBind(h codec.Header, body []byte) {
	l := s.l
	srv := l.srv
	if s.state != stateOpen {
		s.reject(h, codec.StatusAlyBnd)
		return
	}
	var bt BindType
	switch h.CommandID {
	case codec.BindTransmitterID:
		bt = BindTransmitter
	case codec.BindReceiverID:
		bt = BindReceiver
	default:
		bt = BindTransceiver
	}
	b := &l.bind
	b.Reset()
	if err := b.Decode(body); err != nil {
		st := codec.StatusOf(err)
		// The session stays open (the ESME may bind again), but operators
		// see the refusal like any other (cold path: a bind per connection).
		if e := srv.event(&srv.logs.bind, zerolog.WarnLevel); e != nil {
			e.Str("event", "bind_refused").Str("reason", "decode_error").Str("remote", s.remote.String()).
				Stringer("bind_type", bt).Stringer("status", st).Err(err).Msg("bind refused")
		}
		s.reject(h, st)
		return
	}
	// interface_version <= 0x33: no TLVs in any response on this session
	// (SMPP 3.4 §5.2.4), starting with this bind's response.
	s.noTLV = b.InterfaceVersion <= codec.InterfaceVersion33
	s.bindType, s.bindSeq, s.bindCmd = bt, h.Sequence, h.CommandID
	s.bindID = string(b.SystemID)
	req := BindRequest{
		SystemID:         s.bindID,
		Password:         string(b.Password),
		SystemType:       string(b.SystemType),
		Type:             bt,
		Remote:           s.remote,
		InterfaceVersion: b.InterfaceVersion,
		Peer:             s.peer,
	}
	if srv.gate != nil {
		delay, st := srv.gate.GateBind(&req)
		if st != codec.StatusOK {
			s.refuseBind(st, "blocked")
			return
		}
		if delay > 0 {
			s.transition(stateBinding)
			s.parked.req = req
			l.wheel.Schedule(&s.parked.t, delay)
			return
		}
	}
	s.queueBind(&req)
}

// onBindDelay queues a parked bind once its delay has passed (tkBindDelay).
func (s *session) onBindDelay() {
	if s.state != stateBinding {
		return
	}
	req := s.parked.req
	s.parked.req = BindRequest{}
	s.queueBind(&req)
}

// unpark drops a parked bind; the session is closing.
func (s *session) unpark() {
	s.l.wheel.Cancel(&s.parked.t)
	s.parked.req = BindRequest{}
}

// queueBind hands a bind to the auth workers within its address's share of
// the queue (MaxPendingBindsPerIP), or refuses it ESME_RBINDFAIL: a bind
// storm, from one address or all, never stalls a loop.
func (s *session) queueBind(req *BindRequest) {
	srv := s.l.srv
	key := addrKey(s.remote.Addr())
	if !srv.pending.take(key) {
		srv.pending.overShare.Add(1)
		s.refuseBind(codec.StatusBindFail, "pending_per_address")
		return
	}
	select {
	case srv.authQ <- authJob{l: s.l, s: s, gen: s.gen, key: key, req: *req}:
		if s.state == stateOpen {
			s.transition(stateBinding)
		}
	default:
		srv.pending.give(key)
		srv.pending.queueFull.Add(1)
		s.refuseBind(codec.StatusBindFail, "auth_queue_full")
	}
}

// refuseBind answers the pending bind with st, logs the refusal (through
// the bind log gate: a flood of refusals costs counters, not log lines) and
// closes the session once the answer is written. reason names a refusal
// of the engine's own ("" for the Authenticator's).
func (s *session) refuseBind(st codec.Status, reason string) {
	srv := s.l.srv
	if s.state == stateBinding {
		s.transition(stateOpen)
	}
	if e := srv.event(&srv.logs.bind, zerolog.WarnLevel); e != nil {
		e = e.Str("event", "bind").Str("system_id", s.bindID).Str("remote", s.remote.String()).
			Stringer("bind_type", s.bindType).Stringer("status", st)
		if reason != "" {
			e = e.Str("reason", reason)
		}
		e.Msg("bind refused")
	}
	rh := codec.Header{CommandID: s.bindCmd.Response(), Status: st, Sequence: s.bindSeq}
	s.out, _ = s.appendBindResp(s.out, rh)
	s.close(ReasonBindFailed) // after the response is written
}

// authWorker calls the Authenticator off the event loops and posts each
// result back to the loop that owns the session.
func (srv *Server) authWorker() {
	defer srv.authWG.Done()
	for job := range srv.authQ {
		p, st := srv.authenticate(job.req)
		srv.pending.give(job.key)
		ev := event{kind: evBind, s: job.s, gen: job.gen, principal: p, status: st}
		for !job.l.post(&ev) {
			// Inbox full: the loop is draining; a result must not be lost
			// (it may hold a bind slot).
			srv.backoff()
		}
	}
}

// authenticate calls the Authenticator, turning a panic into ESME_RSYSERR.
func (srv *Server) authenticate(req BindRequest) (p Principal, st codec.Status) {
	defer func() {
		if v := recover(); v != nil {
			srv.stats.panics.Add(1)
			srv.log.Error().Interface("panic", v).Str("system_id", req.SystemID).Msg("recovered panic in Authenticator")
			p, st = nil, codec.StatusSysErr
		}
	}()
	p, st = srv.opts.Authenticator.Authenticate(req)
	if st == codec.StatusOK && p == nil {
		st = codec.StatusSysErr
	}
	if st != codec.StatusOK && p != nil {
		p.Release()
		p = nil
	}
	return p, st
}

// onBindResult applies an Authenticator result on the owning loop.
func (l *loop) onBindResult(ev *event) {
	s := ev.s
	srv := l.srv
	if s.gen != ev.gen || s.state != stateBinding {
		// The session closed while the bind was checked: give the slot back.
		if ev.principal != nil {
			ev.principal.Release()
		}
		return
	}
	if ev.status != codec.StatusOK {
		s.refuseBind(ev.status, "")
		return
	}
	rh := codec.Header{CommandID: s.bindCmd.Response(), Status: ev.status, Sequence: s.bindSeq}
	s.principal = ev.principal
	s.systemID = ev.principal.SystemID()
	s.transition(boundState(s.bindType))
	out, err := s.appendBindResp(s.out, rh)
	if err != nil { // our own system_id is validated at New; this is a bug
		out = codec.AppendHeaderOnly(s.out, rh)
	}
	s.out = out
	srv.log.Info().Str("event", "bind").Str("system_id", s.systemID).Str("remote", s.remote.String()).
		Stringer("bind_type", s.bindType).Bool("tls", s.viaTLS).Bool("v33", s.noTLV).Msg("session bound")
	// After bind_resp is queued and the session is in the delivery
	// registry: deliveries the observer starts now follow the bind_resp.
	srv.observeBind(true, s.systemID, s.bindType)
	l.markDirty(s)
	if s.c.InboundBuffered() > 0 {
		l.yield(s) // PDUs that arrived while binding
	}
}

// observeBind reports a bound (up) or unbound session to Options.Binds, on
// the session's loop. A panicking observer is logged and counted, never
// allowed to stop the bind or the session's cleanup that called it.
func (srv *Server) observeBind(up bool, systemID string, t BindType) {
	o := srv.opts.Binds
	if o == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			srv.stats.panics.Add(1)
			srv.log.Error().Interface("panic", v).Str("system_id", systemID).Bool("bound", up).
				Msg("recovered panic in BindObserver")
		}
	}()
	if up {
		o.Bound(systemID, t)
	} else {
		o.Unbound(systemID, t)
	}
}
