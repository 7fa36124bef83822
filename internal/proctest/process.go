package proctest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrExited is WaitReady's answer when the process ended during start-up.
var ErrExited = errors.New("exited during start-up")

// Proc is one run of a child smppd. Only the PID it started is ever
// signalled.
type Proc struct {
	cmd    *exec.Cmd
	exited chan struct{}

	mu      sync.Mutex
	exitErr error
}

// Start runs binary -config config in dir; each line of its standard
// error is appended to log, then handed to line without its newline.
func Start(binary, config, dir string, log io.Writer, line func(string)) (*Proc, error) {
	cmd := exec.Command(binary, "-config", config)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // the harness's death takes its child
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		readLines(stderr, log, line) // Wait closes the pipe: read it to its end first
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(p.exited)
	}()
	return p, nil
}

func readLines(r io.Reader, log io.Writer, line func(string)) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		l, err := br.ReadString('\n')
		if l != "" {
			_, _ = io.WriteString(log, l)
			line(strings.TrimRight(l, "\n"))
		}
		if err != nil {
			return
		}
	}
}

// Alive reports whether the process has not exited yet; a nil Proc never ran.
func (p *Proc) Alive() bool {
	if p == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// PID is the child's process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// ExitErr is Wait's error once the process has exited.
func (p *Proc) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

// Kill sends SIGKILL and reaps the process; it reports whether it was alive.
func (p *Proc) Kill() bool {
	if !p.Alive() {
		return false
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	return true
}

// Term sends SIGTERM and waits up to limit for the exit (the drain); it
// reports whether the process exited in time. The caller kills it if not.
func (p *Proc) Term(limit time.Duration) bool {
	if !p.Alive() {
		return true
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return true
	case <-time.After(limit):
		return false
	}
}

// WaitReady polls every poll until smppAddr accepts a connection and
// adminURL's GET /v1/health answers 200, for up to limit; ErrExited if the
// process ends first. name says which process in the timeout's error.
func (p *Proc) WaitReady(name, smppAddr, adminURL string, limit, poll time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	for time.Now().Before(deadline) {
		if !p.Alive() {
			return ErrExited
		}
		if c, err := net.DialTimeout("tcp", smppAddr, 200*time.Millisecond); err == nil {
			c.Close()
			if resp, err := client.Get(adminURL + "/v1/health"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		time.Sleep(poll)
	}
	return fmt.Errorf("%s did not answer on its SMPP and admin ports within %s", name, limit)
}
