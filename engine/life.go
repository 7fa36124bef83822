package engine

// life is a connection's life around the SMPP states of state.go: from the
// loop's pool to a live connection, through its close, and back. It is the
// one place that says whether a session may still read, write or be closed,
// so the re-entrant paths (gnet closing a conn while a frame on the stack
// uses it, a close asked for inside OnTraffic, pooled sessions reused under
// a new generation) cannot disagree.
type life uint8

const (
	// lifePooled: in l.free, no connection (state is stateClosed).
	lifePooled life = iota
	// lifeOpen: serving its connection.
	lifeOpen
	// lifeClosing: a close was asked for; what is pending is written, then
	// the conn is closed, by the serving frame's return (gnet.Close) or at
	// once when no frame is using the session.
	lifeClosing
	// lifeGone: gnet closed the conn while a frame on the stack was using
	// the session (busy > 0); the last frame to unwind finishes the close.
	lifeGone
)

var lifeNames = [...]string{"pooled", "open", "closing", "gone"}

func (l life) String() string { return lifeNames[l] }

// lifeMoves lists the legal moves; anything else is a bug in our code.
var lifeMoves = [...]uint8{
	lifePooled:  1 << lifeOpen,
	lifeOpen:    1<<lifeClosing | 1<<lifeGone | 1<<lifePooled,
	lifeClosing: 1<<lifeGone | 1<<lifePooled,
	lifeGone:    1 << lifePooled,
}

// setLife is the only place that changes s.life.
func (s *session) setLife(to life) {
	if lifeMoves[s.life]&(1<<to) == 0 {
		panic("BUG: engine: illegal session life move " + s.life.String() + " → " + to.String())
	}
	s.life = to
}

// live reports whether the session may still read and write.
func (s *session) live() bool { return s.life == lifeOpen }

// close asks for the session to end after writing what is pending. Inside
// a frame that uses s (its OnTraffic, or busy > 0) the frame completes it
// when it returns; elsewhere on the loop it is immediate. The caller must
// not use s afterwards unless it is such a frame.
func (s *session) close(r CloseReason) {
	if s.life != lifeOpen {
		return
	}
	s.setLife(lifeClosing)
	s.reason = r
	if s.l.cur == s || s.busy > 0 {
		return
	}
	s.closeConn()
}

// closeConn writes what is pending and closes the connection of a session
// that asked to close and is used by no frame. gnet runs OnClose, and so
// finishClose, synchronously.
func (s *session) closeConn() {
	s.flush()
	if s.life == lifeGone { // the write failed and gnet closed the conn during flush
		s.settle()
		return
	}
	_ = s.l.el.Close(s.c)
}

// onGnetClose is OnClose for a session: finish now, or mark it gone for the
// frame still using it.
func (s *session) onGnetClose(err error) {
	if s.life == lifePooled {
		return
	}
	if s.busy > 0 {
		s.goneErr = err
		s.setLife(lifeGone)
		return
	}
	s.finishClose(err)
}

// settle ends a frame's use of s: a connection gnet closed meanwhile is
// finished once no frame uses the session any more.
func (s *session) settle() {
	if s.life == lifeGone && s.busy == 0 {
		s.finishClose(s.goneErr)
	}
}
