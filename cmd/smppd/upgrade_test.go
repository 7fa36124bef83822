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
// upgrades it: a second smppd on the same config (same ports, same data
// directory) started with -lock-wait while the first serves, then SIGTERM
// to the first. The ESME submits with receipts before each hand-over,
// follows the unbind to the next process and must get a receipt for every
// acknowledged message. Two hand-overs: the upgrade and the rollback (old
// and new are the same build here; the store format is what a rollback
// across releases depends on, see docs/OPERATIONS.md).
func TestUpgradeHandOverKeepsEveryReceipt(t *testing.T) {
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
	// Receipts due after the hand-over: they come from the next process's store.
	conf := strings.Replace(string(raw), `receipt_delay = "50ms"`, `receipt_delay = "1500ms"`, 1)
	if conf == string(raw) {
		t.Fatal("demo config has no receipt_delay to change")
	}
	must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
	logPath := filepath.Join(filepath.Dir(cfgPath), "smppd.log")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	start := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"-config", cfgPath}, args...)...)
		cmd.Stderr = os.Stderr
		must(t, cmd.Start())
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		})
		return cmd
	}
	// bind dials until a process answers the bind with ESME_ROK.
	bind := func() *smpptest.Client {
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, err := smpptest.Dial(addr)
			if err == nil {
				h, _, err := c.Bind(codec.BindTransceiverID, "demo", "demopass", 0x34)
				if err == nil && h.Status == codec.StatusOK {
					return c
				}
				_ = c.Close()
			}
			if time.Now().After(deadline) {
				t.Fatalf("no process took a bind on %s within 20 s: %v", addr, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	pending := map[string]bool{} // acknowledged ids whose receipt has not come
	receipt := func(c *smpptest.Client, h codec.Header, b []byte) {
		must(t, c.Send(codec.DeliverSMRespID, 0, h.Sequence, []byte{0}))
		p := new(codec.SM)
		must(t, p.Decode(b[codec.HeaderLen:]))
		rid, _ := p.TLVs.Get(codec.TagReceiptedMessageID)
		id := strings.TrimSuffix(string(rid), "\x00")
		if !pending[id] {
			t.Fatalf("receipt for %q: not an acknowledged id still waiting", id)
		}
		delete(pending, id)
	}
	// submit sends a submit_sm asking a receipt and returns the id its
	// response acknowledges; receipts arriving meanwhile are answered.
	submit := func(c *smpptest.Client, text string) string {
		body := smpptest.SubmitBody("1234", "4915112345678", text)
		body[len(body)-len(text)-5] = 1 // registered_delivery
		seq := c.NextSeq()
		must(t, c.Send(codec.SubmitSMID, 0, seq, body))
		for {
			h, b, err := c.ReadFrame(5 * time.Second)
			must(t, err)
			switch {
			case h.CommandID == codec.DeliverSMID:
				receipt(c, h, b)
			case h.CommandID == codec.SubmitSMRespID && h.Sequence == seq:
				if h.Status != codec.StatusOK {
					t.Fatalf("submit_sm refused: %v", h.Status)
				}
				var r codec.SubmitSMResp
				must(t, r.Decode(b[codec.HeaderLen:]))
				return string(r.MessageID)
			default:
				t.Fatalf("unexpected %v while submitting", h.CommandID)
			}
		}
	}
	// serve answers what the process sends until it unbinds (true) or
	// until all receipts are in (false).
	serve := func(c *smpptest.Client, until time.Time) bool {
		for len(pending) > 0 || !until.IsZero() {
			d := 20 * time.Second
			if !until.IsZero() {
				d = time.Until(until)
			}
			h, b, err := c.ReadFrame(d)
			if err != nil {
				t.Fatalf("reading from smppd: %v (%d receipts missing)", err, len(pending))
			}
			switch h.CommandID {
			case codec.DeliverSMID:
				receipt(c, h, b)
			case codec.UnbindID:
				must(t, c.Send(codec.UnbindRespID, 0, h.Sequence, nil))
				return true
			case codec.EnquireLinkID:
				must(t, c.Send(codec.EnquireLinkRespID, 0, h.Sequence, nil))
			default:
				t.Fatalf("unexpected %v from smppd", h.CommandID)
			}
		}
		return false
	}

	cur := start()
	c := bind()
	for round, name := range []string{"upgrade", "rollback"} {
		for i := 0; i < 10; i++ {
			pending[submit(c, name+" "+strconv.Itoa(i))] = true
		}
		next := start("-lock-wait", "30s")
		waitLogCount(t, logPath, "event=lock_wait", round+1)
		term := time.Now()
		must(t, cur.Process.Signal(syscall.SIGTERM))
		if !serve(c, time.Now().Add(20*time.Second)) {
			t.Fatalf("%s: the old process never unbound the ESME", name)
		}
		_ = c.Close()
		waitExit(t, cur, 20*time.Second)
		if len(pending) == 0 {
			t.Fatalf("%s: every receipt came before the hand-over; none crossed it", name)
		}
		cur, c = next, bind()
		t.Logf("%s: SIGTERM to the old process -> bound to the new one: %v", name, time.Since(term))
	}
	serve(c, time.Time{})
	_ = c.Close()
	must(t, cur.Process.Signal(syscall.SIGTERM))
	waitExit(t, cur, 20*time.Second)
}

// waitLogCount waits until the log file holds want at least n times.
func waitLogCount(t *testing.T, path, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Count(string(b), want) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log never held %q %d times:\n%s", want, n, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitExit waits for cmd to exit cleanly within d.
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("smppd exited: %v", err)
		}
	case <-time.After(d):
		t.Fatalf("smppd still running %v after SIGTERM", d)
	}
}
