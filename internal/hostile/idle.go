package hostile

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/smppd/smppd/codec"
)

const (
	idleConns     = 3000
	idleHold      = 5 * time.Second // from the last dial to the end
	idleBindBound = time.Second     // demo must bind within this meanwhile
)

// FilesNeeded is how many descriptors this process needs: the idle case's
// connections with a margin for the rest.
const FilesNeeded = idleConns + 256

// ErrFileLimit is wrapped by EnsureFileLimit's error (and a Result's Err)
// when the descriptor limit is too low and cannot be raised.
var ErrFileLimit = errors.New("RLIMIT_NOFILE too low")

// EnsureFileLimit raises RLIMIT_NOFILE to FilesNeeded when it is lower, or
// says why it cannot. The smppd child inherits the limit.
func EnsureFileLimit() error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	if rl.Cur >= FilesNeeded {
		return nil
	}
	want := rl
	want.Cur = FilesNeeded
	want.Max = max(rl.Max, FilesNeeded)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		return fmt.Errorf("%w: it is %d (hard %d) and cannot be raised to %d: %w", ErrFileLimit, rl.Cur, rl.Max, FilesNeeded, err)
	}
	return nil
}

// idle holds idleConns connections from one address that never send, and
// binds demo from 127.0.0.1 meanwhile.
func idle(e *env, r *Result) {
	if err := EnsureFileLimit(); err != nil {
		r.Err = err
		return
	}
	t0 := time.Now()
	conns, failed, err := dialMany(e, idleConns, func(int) string { return ipIdle })
	defer closeAll(conns)
	r.figure("connections", "%d of %d opened from %s in %s", idleConns-failed, idleConns, ipIdle, seconds(time.Since(t0)))
	r.check(fmt.Sprintf("%d connections opened", idleConns), failed == 0, "%d failed (the first: %v)", failed, err)

	// One blocked read per connection tells a close by the server from ours.
	var closedByServer atomic.Int64
	var done atomic.Bool
	var wg sync.WaitGroup
	for _, c := range conns {
		if c == nil {
			continue
		}
		wg.Go(func() {
			var b [64]byte
			for {
				if _, err := c.Read(b[:]); err != nil {
					if !done.Load() {
						closedByServer.Add(1)
					}
					return
				}
			}
		})
	}
	held := time.Now()

	took, st, err := freshBind(e)
	switch {
	case err != nil:
		r.check("demo binds from 127.0.0.1 within 1 s", false, "%v after %s", err, seconds(took))
	default:
		r.check("demo binds from 127.0.0.1 within 1 s", st == codec.StatusOK && took <= idleBindBound, "%v after %s", st, seconds(took))
	}

	select {
	case <-e.ctx.Done():
	case <-time.After(time.Until(held.Add(idleHold))):
	}
	done.Store(true)
	r.figure("closed by the server while held", "%d in %s", closedByServer.Load(), seconds(time.Since(held)))
	closeAll(conns)
	wg.Wait()
}

// freshBind connects from 127.0.0.1 and binds demo as a transmitter; it
// returns the time from dial to bind_resp.
func freshBind(e *env) (time.Duration, codec.Status, error) {
	start := time.Now()
	c, err := e.srv.dial(e.ctx, ipLegit)
	if err != nil {
		return time.Since(start), 0, err
	}
	defer c.Close()
	st, err := bindOn(c, codec.BindTransmitterID, demoUser, demoPass, 5*time.Second)
	return time.Since(start), st, err
}
