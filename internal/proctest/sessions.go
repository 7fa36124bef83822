package proctest

import (
	"context"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
)

// Sessions are n goroutines each running one session loop until Stop.
type Sessions struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartSessions runs n copies of run under a context Stop cancels.
func StartSessions(ctx context.Context, n int, run func(ctx context.Context)) *Sessions {
	ctx, cancel := context.WithCancel(ctx)
	s := &Sessions{cancel: cancel}
	for range n {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			run(ctx)
		}()
	}
	return s
}

// Stop cancels the sessions and waits for them.
func (s *Sessions) Stop() {
	s.cancel()
	s.wg.Wait()
}

// Redial connects to addrs in turn and binds as user with kind until ctx
// ends, pausing between attempts (smppd may be down); serve runs each
// bound connection, k its index in addrs, and reports whether the next
// attempt should go to the same address. The connection is closed after.
func Redial(ctx context.Context, addrs []string, kind codec.CommandID, user, pass string, pause time.Duration,
	serve func(k int, w *Conn) (again bool)) {
	for i := 0; ctx.Err() == nil; i++ {
		k := i % len(addrs)
		if w, err := Dial(ctx, addrs[k]); err == nil {
			if err = w.Bind(kind, user, pass); err == nil && serve(k, w) {
				i--
			}
			w.Close()
		}
		Sleep(ctx, pause)
	}
}

// Drain waits up to wait for a stopped session's answers (open counts
// those outstanding) unless the connection dies (dead closes), then
// unbinds and gives the unbind_resp a second.
func Drain(w *Conn, dead <-chan struct{}, open func() int, wait time.Duration) {
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); {
		if open() == 0 {
			break
		}
		select {
		case <-dead:
			deadline = time.Now()
		case <-time.After(10 * time.Millisecond):
		}
	}
	_, _ = w.Send(codec.UnbindID, nil, nil)
	select {
	case <-dead:
	case <-time.After(time.Second):
	}
}
