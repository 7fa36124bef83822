package engine

import (
	"github.com/smppd/smppd/codec"
)

// authJob is one bind waiting for an auth worker.
type authJob struct {
	l   *loop
	s   *session
	gen uint32
	req BindRequest
}

// onBind handles bind_* (OPEN) and answers ESME_RALYBND when already bound.
// The check itself runs on an auth worker; until its result is back on this
// loop the session reads nothing more, so PDUs are handled in order.
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
		srv.log.Warn().Str("event", "bind_refused").Str("reason", "decode_error").Str("remote", s.remote.String()).
			Stringer("bind_type", bt).Stringer("status", st).Err(err).Msg("bind refused")
		s.reject(h, st)
		return
	}
	// interface_version <= 0x33: no TLVs in any response on this session
	// (reference §7.1), starting with this bind's response.
	s.noTLV = b.InterfaceVersion <= codec.InterfaceVersion33
	s.bindType, s.bindSeq, s.bindCmd = bt, h.Sequence, h.CommandID
	s.bindID = string(b.SystemID)
	job := authJob{l: l, s: s, gen: s.gen, req: BindRequest{
		SystemID:         s.bindID,
		Password:         string(b.Password),
		SystemType:       string(b.SystemType),
		Type:             bt,
		Remote:           s.remote,
		InterfaceVersion: b.InterfaceVersion,
	}}
	select {
	case srv.authQ <- job:
		s.transition(stateBinding)
	default:
		srv.log.Warn().Str("event", "bind").Str("system_id", job.req.SystemID).Str("remote", s.remote.String()).
			Msg("bind refused: auth queue full")
		s.reject(h, codec.StatusBindFail)
		s.close(ReasonBindFailed)
	}
}

// authWorker calls the Authenticator off the event loops and posts each
// result back to the loop that owns the session.
func (srv *Server) authWorker() {
	defer srv.authWG.Done()
	for job := range srv.authQ {
		p, st := srv.authenticate(job.req)
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
	rh := codec.Header{CommandID: s.bindCmd.Response(), Status: ev.status, Sequence: s.bindSeq}
	if ev.status != codec.StatusOK {
		s.transition(stateOpen)
		srv.log.Warn().Str("event", "bind").Str("system_id", s.bindID).Str("remote", s.remote.String()).Stringer("bind_type", s.bindType).
			Stringer("status", ev.status).Msg("bind refused")
		s.out, _ = s.appendBindResp(s.out, rh)
		s.close(ReasonBindFailed) // after the response is written
		return
	}
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
