package clustertest

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
	startLimit = 60 * time.Second // a join waits for a JetStream quorum, a restart replays the journal
	stopLimit  = 15 * time.Second
	tailLen    = 30
)

// node is one smppd child. Only the PID it started is ever signalled.
type node struct {
	c      *nodeConfig
	binary string
	log    *os.File // every run's standard error, appended

	p *proctest.Proc // the current run; nil before the first

	mu    sync.Mutex
	tail  []string
	notes []string // the log lines of noted events (noted), every run
}

// noted are the events whose log lines a node keeps: start-up re-drives,
// take-overs, the store's replay and the journal's compactions.
var noted = []string{"takeover", "redrive", "store_opened", "journal_compacted", "journal_rebased", "webhook_adopt_shared", "node_departed", "held_claim_lost", "held_retaken"}

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
	p, err := proctest.Start(n.binary, n.c.path, n.c.dir, n.log, n.note)
	if err != nil {
		return err
	}
	n.p = p
	return nil
}

// waitReady waits until the SMPP port and GET /v1/health answer.
func (n *node) waitReady() error {
	err := n.p.WaitReady("node", n.smppAddr(), n.adminURL(), startLimit, 50*time.Millisecond)
	if errors.Is(err, proctest.ErrExited) {
		return fmt.Errorf("node %d exited during start-up; its last log lines:\n  %s", n.c.id, strings.Join(n.lastLines(12), "\n  "))
	}
	return err
}

// kill sends SIGKILL to the child's PID and reaps it.
func (n *node) kill() {
	if n.p.Kill() {
		fmt.Fprintf(n.log, "=== clustertest: SIGKILL at %s\n", time.Now().Format(time.RFC3339Nano))
	}
}

// stop sends SIGTERM and waits for the drain; SIGKILL after stopLimit.
func (n *node) stop() {
	if !n.p.Term(stopLimit) {
		n.kill()
	}
}

func (n *node) close() {
	n.stop()
	_ = n.log.Close()
}

// note keeps line in the tail, and among the notes when it logs one of
// the noted events.
func (n *node) note(line string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, ev := range noted {
		if strings.Contains(line, `"event":"`+ev+`"`) {
			n.notes = append(n.notes, strings.TrimSpace(line))
			break
		}
	}
	if len(n.tail) == tailLen {
		n.tail = append(n.tail[:0], n.tail[1:]...)
	}
	n.tail = append(n.tail, line)
}

func (n *node) lastLines(k int) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.tail[max(0, len(n.tail)-k):]...)
}

// redrives returns the node's re-drive and take-over log lines so far.
func (n *node) redrives() []string {
	return append(n.events("redrive"), n.events("takeover")...)
}

// events returns the node's log lines of the noted event ev so far.
func (n *node) events(ev string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, l := range n.notes {
		if strings.Contains(l, `"event":"`+ev+`"`) {
			out = append(out, l)
		}
	}
	return out
}
