package clustertest

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
	startLimit = 60 * time.Second // a join waits for a JetStream quorum, a restart replays the journal
	stopLimit  = 15 * time.Second
	tailLen    = 30
)

// node is one smppd child. Only the PID it started is ever signalled.
type node struct {
	c      *nodeConfig
	binary string
	log    *os.File // every run's standard error, appended

	cmd    *exec.Cmd
	exited chan struct{}

	mu    sync.Mutex
	tail  []string
	notes []string // start-up re-drives and take-overs, every run
}

func newNode(binary string, c *nodeConfig) (*node, error) {
	lf, err := os.OpenFile(c.dir+"/smppd.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &node{c: c, binary: binary, log: lf}, nil
}

func (n *node) smppAddr() string { return fmt.Sprintf("127.0.0.1:%d", n.c.smpp) }
func (n *node) adminURL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.c.admin) }

// launch starts the process without waiting for it to be ready: the three
// nodes of a new cluster wait for each other's JetStream servers.
func (n *node) launch() error {
	fmt.Fprintf(n.log, "=== clustertest: start at %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(n.binary, "-config", n.c.path)
	cmd.Dir = n.c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // the test's death takes its children
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	n.cmd, n.exited = cmd, make(chan struct{})
	exited := n.exited
	go func() {
		n.readLog(stderr)
		_ = cmd.Wait()
		close(exited)
	}()
	return nil
}

// waitReady waits until the SMPP port and GET /v1/health answer.
func (n *node) waitReady() error {
	deadline := time.Now().Add(startLimit)
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	for time.Now().Before(deadline) {
		if !n.alive() {
			return fmt.Errorf("node %d exited during start-up; its last log lines:\n  %s", n.c.id, strings.Join(n.lastLines(12), "\n  "))
		}
		if c, err := net.DialTimeout("tcp", n.smppAddr(), 200*time.Millisecond); err == nil {
			c.Close()
			if resp, err := client.Get(n.adminURL() + "/v1/health"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("node did not answer on its SMPP and admin ports within " + startLimit.String())
}

func (n *node) alive() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL to the child's PID and reaps it.
func (n *node) kill() {
	if !n.alive() {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
	fmt.Fprintf(n.log, "=== clustertest: SIGKILL at %s\n", time.Now().Format(time.RFC3339Nano))
}

// stop sends SIGTERM and waits for the drain; SIGKILL after stopLimit.
func (n *node) stop() {
	if !n.alive() {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(stopLimit):
		n.kill()
	}
}

func (n *node) close() {
	n.stop()
	_ = n.log.Close()
}

func (n *node) readLog(r io.Reader) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			_, _ = n.log.WriteString(line)
			n.mu.Lock()
			if strings.Contains(line, `"event":"takeover"`) || strings.Contains(line, `"event":"redrive"`) {
				n.notes = append(n.notes, strings.TrimSpace(line))
			}
			if len(n.tail) == tailLen {
				n.tail = append(n.tail[:0], n.tail[1:]...)
			}
			n.tail = append(n.tail, strings.TrimRight(line, "\n"))
			n.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (n *node) lastLines(k int) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.tail[max(0, len(n.tail)-k):]...)
}

// redrives returns the node's re-drive and take-over log lines so far.
func (n *node) redrives() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.notes...)
}
