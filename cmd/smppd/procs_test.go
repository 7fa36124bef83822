package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// What a test starts, the test's end stops, also when the test failed
// midway (t.Fatal skips the stop the test would have made itself): a
// daemon left serving holds its ports, its data directory's lock and its
// goroutines through the package's later tests, and a child process
// outlives the test binary. Every stop is bounded: a stop that hangs
// fails the test instead of hanging the package.

// stopWait bounds a daemon's stop at a test's end (its drain is bounded
// by shutdown_grace, a few seconds in the demo config).
const stopWait = 30 * time.Second

// stopAtEnd makes d stopped at the test's end unless the test stopped it
// first through the stop returned (which runs d.stop once).
func stopAtEnd(t testing.TB, d *daemon) (stop func()) {
	stop = sync.OnceFunc(d.stop)
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { stop(); close(done) }()
		select {
		case <-done:
		case <-time.After(stopWait):
			t.Errorf("the daemon's stop still running %v after the test", stopWait)
		}
	})
	return stop
}

// mainRun is main's run on a goroutine of this process, as the binary
// runs it: it stops on a SIGTERM to this process's PID.
type mainRun struct {
	done chan struct{}
	err  error
}

// startRun runs run(cfgPath, 0). SIGHUP and SIGTERM are caught for the
// whole test, so one landing before run's own signal.Notify does not kill
// the test binary. A run still going at the test's end gets SIGTERM every
// 200 ms (one sent before run's Notify goes to the guard only) until it
// returns, for at most stopWait.
func startRun(t testing.TB, cfgPath string) *mainRun {
	guard := make(chan os.Signal, 4)
	signal.Notify(guard, syscall.SIGHUP, syscall.SIGTERM)
	r := &mainRun{done: make(chan struct{})}
	go func() {
		r.err = run(cfgPath, 0)
		close(r.done)
	}()
	t.Cleanup(func() {
		defer signal.Stop(guard)
		deadline := time.After(stopWait)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.done:
				return
			default:
			}
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
			select {
			case <-r.done:
				return
			case <-tick.C:
			case <-deadline:
				t.Errorf("main's run still running %v after SIGTERM at the test's end", stopWait)
				return
			}
		}
	})
	return r
}

// wait returns run's result, or fails the test if run has not returned
// within d.
func (r *mainRun) wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(d):
		t.Fatalf("run did not return within %v", d)
		return nil
	}
}

// child is a started process, reaped by one goroutine (so a test's wait
// and the end's kill never both call Wait).
type child struct {
	*exec.Cmd
	done chan struct{}
	err  error
}

// killWait bounds the wait for a child killed at a test's end.
const killWait = 10 * time.Second

// startChild starts cmd. At the test's end a child still running is
// killed by its PID (SIGKILL) and waited for, at most killWait.
func startChild(t testing.TB, cmd *exec.Cmd) *child {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	c := &child{Cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
			return
		default:
		}
		pid := cmd.Process.Pid
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Errorf("kill pid %d: %v", pid, err)
		}
		select {
		case <-c.done:
		case <-time.After(killWait):
			t.Errorf("pid %d still not reaped %v after SIGKILL", pid, killWait)
		}
	})
	return c
}

// wait returns the child's exit, or fails the test if it is still
// running after d.
func (c *child) wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(d):
		t.Fatalf("pid %d still running after %v", c.Process.Pid, d)
		return nil
	}
}

// endOf is a test whose Cleanup functions run when end is called, as a
// test that failed midway has them run at its end; everything else is
// the real test's.
type endOf struct {
	testing.TB
	fns []func()
}

func (e *endOf) Cleanup(f func()) { e.fns = append(e.fns, f) }

func (e *endOf) end() {
	for i := len(e.fns) - 1; i >= 0; i-- {
		e.fns[i]()
	}
	e.fns = nil
}

// refused fails t unless nothing accepts a connection on addr any more.
func refused(t *testing.T, what, addr string) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("%s: %s still accepts connections after the test's end", what, addr)
	}
}

// A test that fails between starting something and stopping it leaves
// nothing behind: the daemon of runDemo (and runConfig), main's run and a
// child process are stopped by the test's end, each within its bound.
// Before, runDemo and the tests running main's run stopped them only on
// the success path: a t.Fatal in between left the daemon serving.
func TestStartedStoppedAtTestEnd(t *testing.T) {
	cfgPath, _, port, _ := demoDir(t)

	e := &endOf{TB: t}
	d, _ := runDemo(e, cfgPath)
	addr := d.srv.Addr().String()
	e.end() // the test failed here: its stop never ran
	refused(t, "runDemo", addr)

	r := startRun(e, cfgPath)
	smpp := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", smpp, time.Second); err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("main's run does not serve %s", smpp)
		}
	}
	e.end()
	select {
	case <-r.done:
	default:
		t.Fatal("main's run still running after the test's end")
	}
	if r.err != nil {
		t.Fatalf("main's run stopped by the test's end returned %v", r.err)
	}
	refused(t, "main's run", smpp)

	c := startChild(e, exec.Command("sleep", "60"))
	pid := c.Process.Pid
	e.end()
	select {
	case <-c.done:
	default:
		t.Fatalf("pid %d not reaped at the test's end", pid)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("pid %d after the test's end: kill -0 = %v, want ESRCH", pid, err)
	}
}
