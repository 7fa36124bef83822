package crash

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	logTailLen = 40
	startLimit = 30 * time.Second // a restart includes the store's recovery
	stopLimit  = 15 * time.Second
)

// server is the smppd child: one process at a time, restarted on the same
// configuration after each kill. Only the PID it started is ever signalled.
type server struct {
	binary, config, dir string
	smppAddr, adminURL  string
	log                 *os.File // every run's standard error, appended
	starts              int

	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error

	mu       sync.Mutex
	tail     []string
	errLines int      // level error/fatal/panic, or a Go panic, over every run
	recovery []string // start-up lines about recovery, one list per run
}

func newServer(binary, config, dir string, smppPort, adminPort int) (*server, error) {
	lf, err := os.OpenFile(dir+"/smppd.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &server{binary: binary, config: config, dir: dir, log: lf,
		smppAddr: fmt.Sprintf("127.0.0.1:%d", smppPort), adminURL: fmt.Sprintf("http://127.0.0.1:%d", adminPort)}, nil
}

// start runs smppd and waits until its SMPP port and GET /v1/health answer.
func (s *server) start() error {
	s.starts++
	fmt.Fprintf(s.log, "=== smppcrash: start %d at %s\n", s.starts, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(s.binary, "-config", s.config)
	cmd.Dir = s.dir
	// If the harness dies, its child goes too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.exited, s.exitErr = cmd, make(chan struct{}), nil
	done := make(chan struct{})
	go s.readLog(stderr, done)
	exited := s.exited
	go func() {
		<-done // Wait closes the pipe: read it to its end first
		err := cmd.Wait()
		s.mu.Lock()
		s.exitErr = err
		s.mu.Unlock()
		close(exited)
	}()
	if err := s.waitReady(); err != nil {
		s.kill()
		return fmt.Errorf("%w; its last log lines:\n  %s", err, strings.Join(s.lastLines(12), "\n  "))
	}
	return nil
}

func (s *server) waitReady() error {
	deadline := time.Now().Add(startLimit)
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	for time.Now().Before(deadline) {
		if !s.alive() {
			return fmt.Errorf("smppd exited during start-up (%v)", s.exitError())
		}
		if c, err := net.DialTimeout("tcp", s.smppAddr, 200*time.Millisecond); err == nil {
			c.Close()
			if resp, err := client.Get(s.adminURL + "/v1/health"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("smppd did not answer on its SMPP and admin ports within " + startLimit.String())
}

func (s *server) alive() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *server) exitError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exitErr
}

// kill sends SIGKILL to the child's PID and reaps it.
func (s *server) kill() {
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	fmt.Fprintf(s.log, "=== smppcrash: SIGKILL at %s\n", time.Now().Format(time.RFC3339Nano))
}

// stop sends SIGTERM and waits for the drain; SIGKILL after stopLimit.
// It returns the exit error of a process that did not exit cleanly.
func (s *server) stop() error {
	if !s.alive() {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.exitError()
	case <-time.After(stopLimit):
		s.kill()
		return fmt.Errorf("smppd still running %s after SIGTERM: killed", stopLimit)
	}
}

// close stops the child if needed and closes the log file.
func (s *server) close() {
	_ = s.stop()
	_ = s.log.Close()
}

func (s *server) readLog(r io.Reader, done chan struct{}) {
	defer close(done)
	run := s.starts
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			_, _ = s.log.WriteString(line)
			s.note(run, strings.TrimRight(line, "\n"))
		}
		if err != nil {
			return
		}
	}
}

func (s *server) note(run int, line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.Contains(line, `"level":"error"`) || strings.Contains(line, `"level":"fatal"`) ||
		strings.Contains(line, `"level":"panic"`) || strings.HasPrefix(line, "panic:") {
		s.errLines++
	}
	// The store logs its recovery time at start (issue 16): keep those lines.
	if strings.Contains(strings.ToLower(line), "recover") {
		for len(s.recovery) < run {
			s.recovery = append(s.recovery, "")
		}
		if s.recovery[run-1] == "" {
			s.recovery[run-1] = line
		}
	}
	if len(s.tail) == logTailLen {
		copy(s.tail, s.tail[1:])
		s.tail = s.tail[:logTailLen-1]
	}
	s.tail = append(s.tail, line)
}

func (s *server) lastLines(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tail[max(0, len(s.tail)-n):]...)
}

func (s *server) errorLines() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errLines
}

func (s *server) recoveryLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.recovery {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
