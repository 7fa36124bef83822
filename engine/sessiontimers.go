package engine

import (
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/timers"
)

// onTimer is the wheel handler: it runs on the loop for every expired timer
// during onBell's Advance. Each expiry is logged with system_id and peer.
func (l *loop) onTimer(t *timers.Timer) {
	if t.Kind == tkSlot {
		l.onSlotTimeout(t.Arg.(*slot))
		return
	}
	s := t.Arg.(*session)
	if !s.live() {
		return
	}
	opts := &l.srv.opts
	switch t.Kind {
	case tkSessionInit:
		if s.state.bound() {
			return
		}
		s.logExpiry("session_init")
		s.close(ReasonSessionInit)
	case tkEnquireLink:
		if !s.state.bound() {
			return
		}
		if s.ctrlCmd == 0 {
			s.logExpiry("enquire_link")
			s.ctrlSeq, s.ctrlCmd = s.nextSeq(), codec.EnquireLinkID
			s.appendHeaderOnly(codec.EnquireLinkID, codec.StatusOK, s.ctrlSeq)
			l.wheel.Schedule(&s.tCtrl, opts.ResponseTimeout)
			l.markDirty(s)
		}
		l.wheel.Schedule(&s.tEnquire, opts.EnquireLinkInterval)
	case tkInactivity:
		if !s.state.bound() {
			return
		}
		s.logExpiry("inactivity")
		s.sendUnbind(ReasonInactivity)
		l.markDirty(s)
	case tkStall:
		if s.win.used == 0 {
			return
		}
		srv := l.srv
		srv.stats.slowConsumers.Add(1)
		s.why = "deliver_sm unanswered for slow_consumer_timeout"
		s.close(ReasonSlowConsumer)
	case tkBindDelay:
		s.onBindDelay()
	case tkWait:
		// Offer the held request again (serve runs it first).
		s.waiting, s.retry = false, true
		l.yield(s)
	case tkPDURead:
		if s.proxyWait {
			s.refuseProxy("no whole header within proxy_header_timeout")
			return
		}
		s.logExpiry("pdu_read")
		s.close(ReasonPDUReadTimeout)
	case tkControl:
		l.srv.stats.responseTimeouts.Add(1)
		switch s.ctrlCmd {
		case codec.EnquireLinkID:
			// A dead peer: unbind and close without waiting (SMPP 3.4 §7.2).
			s.logExpiry("response_enquire_link")
			s.appendHeaderOnly(codec.UnbindID, codec.StatusOK, s.nextSeq())
			s.close(ReasonEnquireLinkTimeout)
		case codec.UnbindID:
			s.logExpiry("response_unbind")
			s.close(s.unbindWhy)
		}
	}
}

func (s *session) logExpiry(timer string) {
	srv := s.l.srv
	srv.event(&srv.logs.timer, zerolog.InfoLevel).Str("event", "timer").Str("timer", timer).Str("system_id", s.systemID).
		Str("remote", s.remote.String()).Str("state", s.state.String()).Msg("session timer expired")
}

// sendUnbind starts the server-side unbind handshake (SMPP 3.4 §4.2): no
// new requests, wait ResponseTimeout for unbind_resp, then close with why.
func (s *session) sendUnbind(why CloseReason) {
	if !s.state.bound() {
		return
	}
	s.transition(stateUnbinding)
	srv := s.l.srv
	srv.event(&srv.logs.close, zerolog.InfoLevel).Str("event", "unbind").Str("by", "server").Str("reason", why.String()).
		Str("system_id", s.systemID).Str("remote", s.remote.String()).Msg("unbind sent")
	w := s.l.wheel
	w.Cancel(&s.tEnquire)
	w.Cancel(&s.tInact)
	s.unbindWhy = why
	s.ctrlSeq, s.ctrlCmd = s.nextSeq(), codec.UnbindID
	s.appendHeaderOnly(codec.UnbindID, codec.StatusOK, s.ctrlSeq)
	w.Schedule(&s.tCtrl, s.l.srv.opts.ResponseTimeout)
}
