package hostile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one smppd child process.
type server struct {
	cmd      *exec.Cmd
	cfg      *serverConfig
	logs     *logWatch
	rss      *rssSampler
	exited   chan struct{} // closed when the process has been reaped
	exitErr  error         // valid once exited is closed
	smppAddr string
	adminURL string
}

// startServer starts binary on a derived copy of configDir's demo config in
// dir and waits until both the SMPP port and GET /v1/health answer.
func startServer(binary, configDir, dir string) (*server, error) {
	cfg, err := writeConfig(configDir, dir)
	if err != nil {
		return nil, err
	}
	// Absolute: a relative path would be taken from cmd.Dir.
	if binary, err = filepath.Abs(binary); err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "-config", cfg.path)
	cmd.Dir = dir
	// If this process dies (a test timeout, a signal), the child goes too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = nil // smppd logs to standard error; stdout is discarded
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{
		cmd:      cmd,
		cfg:      cfg,
		logs:     newLogWatch(stderr),
		exited:   make(chan struct{}),
		smppAddr: net.JoinHostPort(ipLegit, strconv.Itoa(cfg.smppPort)),
		adminURL: "http://" + net.JoinHostPort(ipLegit, strconv.Itoa(cfg.adminPort)),
	}
	go func() {
		<-s.logs.done // Wait closes the pipe: read it to its end first
		s.exitErr = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(15 * time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w; its last log lines: %s", err, strings.Join(s.logs.lastLines(), " | "))
	}
	s.rss = newRSSSampler(cmd.Process.Pid)
	return s, nil
}

func (s *server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("smppd exited during start-up (%v)", s.exitErr)
		default:
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
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("smppd did not answer on its SMPP and admin ports within " + limit.String())
}

// alive reports whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, waits for the drain (shutdown_grace is 1 s in the
// derived config), and kills the process if it is still there after 10 s.
// Only this child's PID is signalled.
func (s *server) stop() {
	if s.rss != nil {
		s.rss.stop()
	}
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// dial connects from the source address ip to the SMPP port.
func (s *server) dial(ctx context.Context, ip string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return d.DialContext(ctx, "tcp", s.smppAddr)
}

// readStatus returns one field of /proc/PID/status in bytes ("VmRSS",
// "VmHWM"), or 0 when the process is gone.
func readStatus(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	return parseStatusKB(b, field) << 10
}
