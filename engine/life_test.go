package engine

import (
	"context"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/smppd/smppd/codec"
)

// Every move the table does not list panics; every listed one is taken.
func TestLifeMoves(t *testing.T) {
	legal := map[[2]life]bool{
		{lifePooled, lifeOpen}:    true,
		{lifeOpen, lifeClosing}:   true,
		{lifeOpen, lifeGone}:      true,
		{lifeOpen, lifePooled}:    true,
		{lifeClosing, lifeGone}:   true,
		{lifeClosing, lifePooled}: true,
		{lifeGone, lifePooled}:    true,
	}
	all := []life{lifePooled, lifeOpen, lifeClosing, lifeGone}
	for _, from := range all {
		for _, to := range all {
			s := &session{life: from}
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				s.setLife(to)
				return false
			}()
			if want := !legal[[2]life{from, to}]; panicked != want {
				t.Errorf("%v → %v: panicked %v, want %v", from, to, panicked, want)
			}
		}
	}
}

// Each way a session ends goes through finishClose once and leaves it
// pooled: a close asked for inside OnTraffic, one from a timer (outside any
// frame), and the peer closing.
func TestLifeEveryCloseEndsPooled(t *testing.T) {
	t.Parallel()
	// What the inside and peer clients have to be read (or bound) in.
	ts := start(t, func(o *Options) { o.SessionInitTimeout = time.Second })
	inside := ts.dial(t)
	mustSend(t, inside, codec.SubmitSMID, 1, nil) // before bind: answered, then closed in OnTraffic
	mustExpect(t, inside, codec.SubmitSMRespID, codec.StatusInvBndSts)
	mustClosed(t, inside)
	timer := ts.dial(t) // closed by the session init timer on the bell turn
	mustClosed(t, timer)
	peer := ts.bound(t, codec.BindTransceiverID)
	_ = peer.Close()
	eventually(t, "every session pooled", func() bool { return ts.Stats().Sessions == 0 })
	for _, l := range *ts.loops.Load() {
		ch := make(chan []life, 1)
		if err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			var lives []life
			for _, s := range l.free {
				lives = append(lives, s.life)
			}
			ch <- lives
			return nil
		})); err != nil {
			t.Fatal(err)
		}
		for _, lf := range <-ch {
			if lf != lifePooled {
				t.Fatalf("a session in the pool is %v", lf)
			}
		}
	}
	ts.logs.waitLog(t, `"reason":"wrong_state"`)
	ts.logs.waitLog(t, `"reason":"session_init_timeout"`)
	ts.logs.waitLog(t, `"reason":"peer_closed"`)
}
