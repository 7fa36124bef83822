package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// TestUpgradeHandOverKeepsEveryReceipt runs the binary as an operator
// upgrades it without reuse_port: a second smppd on the same config (same
// ports, same data directory) started with -lock-wait while the first
// serves, then SIGTERM to the first. The ESME submits with receipts before
// each hand-over, follows the unbind to the next process (redialling until
// it listens) and must get a receipt for every acknowledged message. Two
// hand-overs: the upgrade and the rollback (old and new are the same build
// here; the store format is what a rollback across releases depends on,
// see docs/OPERATIONS.md).
func TestUpgradeHandOverKeepsEveryReceipt(t *testing.T) {
	u := newUpgradeRig(t, false)
	cur := u.start()
	c := u.bind()
	for round, name := range []string{"upgrade", "rollback"} {
		next := u.start("-lock-wait", "30s")
		waitLogCount(t, u.log, "event=lock_wait", round+1)
		// Submitted once the next process waits, however long it took to
		// start: their receipts (receipt_delay 1.5 s) fall due after the
		// old process's unbind, which follows the SIGTERM at once.
		for i := 0; i < 10; i++ {
			u.pending[u.submit(c, name+" "+strconv.Itoa(i))] = true
		}
		term := time.Now()
		must(t, cur.Process.Signal(syscall.SIGTERM))
		if !u.serve(c, time.Now().Add(20*time.Second)) {
			t.Fatalf("%s: the old process never unbound the ESME", name)
		}
		_ = c.Close()
		waitExit(t, cur, 20*time.Second)
		if len(u.pending) == 0 {
			t.Fatalf("%s: every receipt came before the hand-over; none crossed it", name)
		}
		crossed := len(u.pending)
		cur, c = next, u.bind()
		t.Logf("%s: %d receipts crossed; SIGTERM to the old process -> bound to the new one: %v", name, crossed, time.Since(term))
	}
	u.serve(c, time.Time{})
	_ = c.Close()
	must(t, cur.Process.Signal(syscall.SIGTERM))
	waitExit(t, cur, 20*time.Second)
}

// TestUpgradeTakesOverListeners is the hand-over with reuse_port: the new
// process listens beside the old one while it waits for the data
// directory. After SIGTERM the old process stops accepting first, so the
// ESME's one dial after the unbind connects and binds at once, while the
// old process still holds the directory (it waits for that ESME's
// unbind_resp). The submit sent then is held, and acknowledged only once
// the new process has recovered the store; every acknowledged message gets
// its receipt, those due across the hand-over from the new process on the
// session bound during the wait. An upgrade and a downgrade.
func TestUpgradeTakesOverListeners(t *testing.T) {
	u := newUpgradeRig(t, true)
	cur := u.start()
	c := u.bind()
	for round, name := range []string{"upgrade", "downgrade"} {
		for i := 0; i < 10; i++ {
			u.pending[u.submit(c, name+" "+strconv.Itoa(i))] = true
		}
		next := u.start("-lock-wait", "30s")
		waitLogCount(t, u.log, "event=handover_listen", round+1)
		waitLogCount(t, u.log, "event=lock_wait", round+1)
		term := time.Now()
		must(t, cur.Process.Signal(syscall.SIGTERM))
		unbind := u.untilUnbind(c)
		// The old process holds the lock until this ESME answers: a dial
		// now can only reach the new one, and must not be refused.
		c2, err := smpptest.Dial(u.addr)
		if err != nil {
			t.Fatalf("%s: dial during the hand-over: %v", name, err)
		}
		h, _, err := c2.Bind(codec.BindTransceiverID, "demo", "demopass", 0x34)
		if err != nil || h.Status != codec.StatusOK {
			t.Fatalf("%s: bind during the hand-over: %v %v", name, h.Status, err)
		}
		bound := time.Since(term)
		seq := u.sendSubmit(c2, name+" during the wait")
		if n := logCount(u.log, "event=handover_ready"); n != round {
			t.Fatalf("%s: the new process was ready (%d) before the old one released the directory", name, n)
		}
		must(t, c.Send(codec.UnbindRespID, 0, unbind, nil))
		_ = c.Close()
		waitExit(t, cur, 20*time.Second)
		if len(u.pending) == 0 {
			t.Fatalf("%s: every receipt came before the hand-over; none crossed it", name)
		}
		id := u.submitResp(c2, seq, name+" during the wait")
		if n := logCount(u.log, "event=handover_ready"); n != round+1 {
			t.Fatalf("%s: a submit was acknowledged before the store was recovered", name)
		}
		u.pending[id] = true
		cur, c = next, c2
		t.Logf("%s: SIGTERM -> bound on the new process %v (during its wait), first submit acknowledged %v",
			name, bound, time.Since(term))
	}
	for i := 0; i < 5; i++ {
		u.pending[u.submit(c, "after "+strconv.Itoa(i))] = true
	}
	u.serve(c, time.Time{})
	_ = c.Close()
	must(t, cur.Process.Signal(syscall.SIGTERM))
	waitExit(t, cur, 20*time.Second)
}

// upgradeRig runs the built binary on the demo config and plays one ESME
// submitting with receipts across processes.
type upgradeRig struct {
	t       *testing.T
	bin     string
	cfg     string
	log     string
	addr    string
	pending map[string]bool // acknowledged ids whose receipt has not come
}

func newUpgradeRig(t *testing.T, reusePort bool) *upgradeRig {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "smppd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfgPath, _, port, _ := demoDir(t)
	raw, err := os.ReadFile(cfgPath)
	must(t, err)
	conf := string(raw)
	set := func(from, to string) {
		if !strings.Contains(conf, from) {
			t.Fatalf("demo config has no %s to change", from)
		}
		conf = strings.Replace(conf, from, to, 1)
	}
	// Receipts due after the hand-over: they come from the next process's store.
	set(`receipt_delay = "50ms"`, `receipt_delay = "1500ms"`)
	if reusePort {
		set(`reuse_port = false`, `reuse_port = true`)
		// A submit held through the old process's drain and the recovery.
		set(`queue_full_wait = "1s"`, `queue_full_wait = "15s"`)
	}
	must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
	return &upgradeRig{t: t, bin: bin, cfg: cfgPath, log: filepath.Join(filepath.Dir(cfgPath), "smppd.log"),
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), pending: map[string]bool{}}
}

// start runs the binary; the test's end kills it by PID if it still runs
// (startChild).
func (u *upgradeRig) start(args ...string) *child {
	cmd := exec.Command(u.bin, append([]string{"-config", u.cfg}, args...)...)
	cmd.Stderr = os.Stderr
	return startChild(u.t, cmd)
}

// bind dials until a process answers the bind with ESME_ROK.
func (u *upgradeRig) bind() *smpptest.Client {
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := smpptest.Dial(u.addr)
		if err == nil {
			h, _, err := c.Bind(codec.BindTransceiverID, "demo", "demopass", 0x34)
			if err == nil && h.Status == codec.StatusOK {
				return c
			}
			_ = c.Close()
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("no process took a bind on %s within 20 s: %v", u.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receipt answers a deliver_sm and checks it is the receipt of an id
// waiting for one.
func (u *upgradeRig) receipt(c *smpptest.Client, h codec.Header, b []byte) {
	must(u.t, c.Send(codec.DeliverSMRespID, 0, h.Sequence, []byte{0}))
	p := new(codec.SM)
	must(u.t, p.Decode(b[codec.HeaderLen:]))
	rid, _ := p.TLVs.Get(codec.TagReceiptedMessageID)
	id := strings.TrimSuffix(string(rid), "\x00")
	if !u.pending[id] {
		u.t.Fatalf("receipt for %q: not an acknowledged id still waiting", id)
	}
	delete(u.pending, id)
}

// sendSubmit sends a submit_sm asking a receipt and returns its sequence.
func (u *upgradeRig) sendSubmit(c *smpptest.Client, text string) uint32 {
	body := smpptest.SubmitBody("1234", "4915112345678", text)
	body[len(body)-len(text)-5] = 1 // registered_delivery
	seq := c.NextSeq()
	must(u.t, c.Send(codec.SubmitSMID, 0, seq, body))
	return seq
}

// submitResp reads until the response to seq and returns the id it
// acknowledges; receipts arriving meanwhile are answered. ESME_RMSGQFUL
// and ESME_RTHROTTLED are retried, as a client does.
func (u *upgradeRig) submitResp(c *smpptest.Client, seq uint32, text string) string {
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, b, err := c.ReadFrame(time.Until(deadline))
		must(u.t, err)
		switch {
		case h.CommandID == codec.DeliverSMID:
			u.receipt(c, h, b)
		case h.CommandID == codec.EnquireLinkID:
			must(u.t, c.Send(codec.EnquireLinkRespID, 0, h.Sequence, nil))
		case h.CommandID == codec.SubmitSMRespID && h.Sequence == seq:
			switch h.Status {
			case codec.StatusOK:
				var r codec.SubmitSMResp
				must(u.t, r.Decode(b[codec.HeaderLen:]))
				return string(r.MessageID)
			case codec.StatusMsgQFul, codec.StatusThrottled:
				u.t.Logf("submit_sm answered %v: retrying", h.Status)
				time.Sleep(100 * time.Millisecond)
				seq = u.sendSubmit(c, text)
			default:
				u.t.Fatalf("submit_sm refused: %v", h.Status)
			}
		default:
			u.t.Fatalf("unexpected %v while submitting", h.CommandID)
		}
	}
}

func (u *upgradeRig) submit(c *smpptest.Client, text string) string {
	return u.submitResp(c, u.sendSubmit(c, text), text)
}

// untilUnbind answers what the process sends until its unbind, whose
// sequence it returns unanswered.
func (u *upgradeRig) untilUnbind(c *smpptest.Client) uint32 {
	for {
		h, b, err := c.ReadFrame(20 * time.Second)
		if err != nil {
			u.t.Fatalf("waiting for the old process's unbind: %v", err)
		}
		switch h.CommandID {
		case codec.DeliverSMID:
			u.receipt(c, h, b)
		case codec.EnquireLinkID:
			must(u.t, c.Send(codec.EnquireLinkRespID, 0, h.Sequence, nil))
		case codec.UnbindID:
			return h.Sequence
		default:
			u.t.Fatalf("unexpected %v from smppd", h.CommandID)
		}
	}
}

// serve answers what the process sends until it unbinds (true) or until
// all receipts are in (false).
func (u *upgradeRig) serve(c *smpptest.Client, until time.Time) bool {
	for len(u.pending) > 0 || !until.IsZero() {
		d := 20 * time.Second
		if !until.IsZero() {
			d = time.Until(until)
		}
		h, b, err := c.ReadFrame(d)
		if err != nil {
			u.t.Fatalf("reading from smppd: %v (%d receipts missing)", err, len(u.pending))
		}
		switch h.CommandID {
		case codec.DeliverSMID:
			u.receipt(c, h, b)
		case codec.UnbindID:
			must(u.t, c.Send(codec.UnbindRespID, 0, h.Sequence, nil))
			return true
		case codec.EnquireLinkID:
			must(u.t, c.Send(codec.EnquireLinkRespID, 0, h.Sequence, nil))
		default:
			u.t.Fatalf("unexpected %v from smppd", h.CommandID)
		}
	}
	return false
}

// logCount counts want in the log file.
func logCount(path, want string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), want)
}

// waitLogCount waits until the log file holds want at least n times.
func waitLogCount(t *testing.T, path, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for logCount(path, want) < n {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(path)
			t.Fatalf("log never held %q %d times:\n%s", want, n, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitExit waits for c to exit cleanly within d.
func waitExit(t *testing.T, c *child, d time.Duration) {
	t.Helper()
	if err := c.wait(t, d); err != nil {
		t.Fatalf("smppd exited: %v", err)
	}
}
