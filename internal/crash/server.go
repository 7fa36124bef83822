package crash

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/smppd/smppd/internal/proctest"
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

	p *proctest.Proc // the current run; nil before the first

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
	run := s.starts
	p, err := proctest.Start(s.binary, s.config, s.dir, s.log, func(line string) { s.note(run, line) })
	if err != nil {
		return err
	}
	s.p = p
	if err := s.waitReady(); err != nil {
		s.kill()
		return fmt.Errorf("%w; its last log lines:\n  %s", err, strings.Join(s.lastLines(12), "\n  "))
	}
	return nil
}

func (s *server) waitReady() error {
	err := s.p.WaitReady("smppd", s.smppAddr, s.adminURL, startLimit, 20*time.Millisecond)
	if errors.Is(err, proctest.ErrExited) {
		return fmt.Errorf("smppd exited during start-up (%v)", s.exitError())
	}
	return err
}

func (s *server) alive() bool { return s.p.Alive() }

func (s *server) exitError() error {
	if s.p == nil {
		return nil
	}
	return s.p.ExitErr()
}

// kill sends SIGKILL to the child's PID and reaps it.
func (s *server) kill() {
	if s.p.Kill() {
		fmt.Fprintf(s.log, "=== smppcrash: SIGKILL at %s\n", time.Now().Format(time.RFC3339Nano))
	}
}

// stop sends SIGTERM and waits for the drain; SIGKILL after stopLimit.
// It returns the exit error of a process that did not exit cleanly.
func (s *server) stop() error {
	if !s.alive() {
		return nil
	}
	if s.p.Term(stopLimit) {
		return s.exitError()
	}
	s.kill()
	return fmt.Errorf("smppd still running %s after SIGTERM: killed", stopLimit)
}

// close stops the child if needed and closes the log file.
func (s *server) close() {
	_ = s.stop()
	_ = s.log.Close()
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
