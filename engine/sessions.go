package engine

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"
)

// SessionInfo describes one connection for the operator (Server.Sessions).
// Counters run from the connection's accept.
type SessionInfo struct {
	ID       uint64 // unique for the process's life; Kick takes it
	SystemID string // "" until bound
	BindType BindType
	State    string // open, binding, bound_tx, bound_rx, bound_trx, unbinding
	Remote   netip.AddrPort
	TLS      bool
	Since    time.Time // accepted
	BoundAt  time.Time // zero until bound

	InFlight      int // MT requests awaiting our deferred response
	DeliverWindow int // deliver_sm sent and not yet answered
	DeliverQueued int // deliveries waiting for a window slot

	PDUsIn    uint64 // PDUs received (requests and responses)
	PDUsOut   uint64 // PDUs written (responses and our requests)
	Submits   uint64 // submit_sm, data_sm and submit_multi received
	Delivers  uint64 // deliver_sm sent (re-sends included)
	Throttled uint64 // MT requests answered ESME_RTHROTTLED
}

// ErrUnknownSession is Kick's error for an id no open session has.
var ErrUnknownSession = errors.New("engine: no open session with that id")

// adminQuery is one Sessions or Kick request fanned out to every loop;
// each loop answers once on done (buffered for all of them, so a caller
// that gave up leaves nothing blocked).
type adminQuery struct {
	id    uint64 // evKick: the session
	mu    sync.Mutex
	infos []SessionInfo
	found bool
	done  chan struct{}
}

// Sessions appends a description of every open session to dst. Safe from
// any goroutine: each event loop describes its own sessions in its next
// turn, so nothing is read off-loop. It waits for every loop or ctx.
func (srv *Server) Sessions(ctx context.Context, dst []SessionInfo) ([]SessionInfo, error) {
	q := &adminQuery{}
	if err := srv.fanOut(ctx, evSessions, q); err != nil {
		return dst, err // loops may still be writing q.infos: never hand it out
	}
	return append(dst, q.infos...), nil
}

// Kick ends session id: a bound session gets unbind (and is closed when
// unbind_resp comes or the response timer runs out), any other is closed
// at once. Logged with reason "kicked". Safe from any goroutine.
func (srv *Server) Kick(ctx context.Context, id uint64) error {
	q := &adminQuery{id: id}
	if err := srv.fanOut(ctx, evKick, q); err != nil {
		return err
	}
	if !q.found {
		return ErrUnknownSession
	}
	return nil
}

// fanOut posts q to every loop and waits for all answers. A full inbox is
// retried (the control plane must not fail because traffic is heavy).
func (srv *Server) fanOut(ctx context.Context, kind evKind, q *adminQuery) error {
	if !srv.running.Load() {
		return ErrNotRunning
	}
	loops := *srv.loops.Load()
	q.done = make(chan struct{}, len(loops))
	for _, l := range loops {
		ev := event{kind: kind, q: q}
		for !l.post(&ev) {
			if err := ctx.Err(); err != nil {
				return err
			}
			srv.backoff()
		}
	}
	for range loops {
		select {
		case <-q.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	q.mu.Lock() // pairs with the loops' writes
	defer q.mu.Unlock()
	return nil
}

// describeSessions answers evSessions on the loop.
func (l *loop) describeSessions(q *adminQuery) {
	q.mu.Lock()
	for _, s := range l.sessions {
		if s.state != stateClosed {
			q.infos = append(q.infos, s.info())
		}
	}
	q.mu.Unlock()
	q.done <- struct{}{}
}

func (s *session) info() SessionInfo {
	in := SessionInfo{
		ID: s.id, SystemID: s.systemID, State: s.state.String(), Remote: s.remote, TLS: s.viaTLS,
		Since: time.Unix(0, s.opened), InFlight: s.inFlight, DeliverWindow: s.win.used, DeliverQueued: s.win.qLen,
		PDUsIn: s.pdusIn, PDUsOut: s.pdusOut, Submits: s.submits, Delivers: s.delivers, Throttled: s.throttled,
	}
	if s.state.bound() || s.state == stateUnbinding {
		in.BindType = s.bindType
	}
	if s.boundAt != 0 {
		in.BoundAt = time.Unix(0, s.boundAt)
	}
	return in
}

// kick answers evKick on the loop.
func (l *loop) kick(q *adminQuery) {
	for _, s := range l.sessions {
		if s.id != q.id || s.state == stateClosed {
			continue
		}
		l.srv.log.Info().Str("event", "kick").Uint64("session", s.id).Str("system_id", s.systemID).
			Str("remote", s.remote.String()).Str("state", s.state.String()).Msg("session kicked by operator")
		if s.state.bound() {
			s.sendUnbind(ReasonKicked)
			l.markDirty(s)
		} else {
			s.close(ReasonKicked)
		}
		q.mu.Lock()
		q.found = true
		q.mu.Unlock()
		break
	}
	q.done <- struct{}{}
}
