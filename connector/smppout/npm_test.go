package smppout

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
)

// TestAgainstNpmSMSC runs the connector against a third-party SMSC: the
// npm smpp package's server side (testdata/npm-smsc.js). The SMSC answers
// in upper-case hex and names the id in decimal in its receipt text (half
// of the receipts also carry receipted_message_id in lower-case hex).
func TestAgainstNpmSMSC(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; this interop test needs it")
	}
	root := filepath.Join("..", "..")
	found := false
	for _, dir := range []string{"interop/npm/node_modules/smpp", "bench/peers/npm/node_modules/smpp"} {
		if _, err := os.Stat(filepath.Join(root, dir, "package.json")); err == nil {
			found = true
		}
	}
	if !found {
		t.Skip("the npm smpp module is not installed (npm ci in interop/npm or bench/peers/npm)")
	}

	cmd := exec.Command(node, filepath.Join("testdata", "npm-smsc.js"), "npmuser", "npmpw")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // by its PID
		_ = cmd.Wait()
	})
	portc := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
				n, _ := strconv.Atoi(p)
				portc <- n
			}
		}
	}()
	var port int
	select {
	case port = <-portc:
	case <-time.After(waitLimit):
		t.Fatalf("the npm SMSC did not start: %s", stderr.String())
	}

	sink, ids := newSink(), newMapIDs()
	c, err := New(Options{Name: "npm", ID: 3, Host: "127.0.0.1", Port: port, SystemID: "npmuser", Password: "npmpw",
		IDMap: ids, ReconnectMin: 10 * time.Millisecond, ReconnectMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(sink); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()
	eventually(t, "bound to the npm SMSC", c.Up)
	const n = 4
	for i := 1; i <= n; i++ {
		if !c.Submit(newMsg(msg.ID(0x9000+i), "491700000"+strconv.Itoa(i), "npm interop")) {
			t.Fatal("Submit refused")
		}
	}
	eventually(t, "accepts and receipts", func() bool { a, _, r, _ := sink.counts(); return a == n && r == n })
	for _, a := range sink.accepted() {
		if a.up == "" || strings.ToUpper(a.up) != a.up {
			t.Fatalf("upstream id %q: want the SMSC's upper-case hex", a.up)
		}
		if id, ok := ids.Upstream(3, []byte(a.up)); !ok || id != a.id {
			t.Fatalf("IDMap[%q] = %v %v, want %v", a.up, id, ok, a.id)
		}
	}
	seen := map[msg.ID]bool{}
	for _, r := range sink.receipts() {
		if r.State != msg.StateDelivered || r.Connector != 3 || r.Done == 0 {
			t.Fatalf("receipt %+v", r)
		}
		seen[r.ID] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[msg.ID(0x9000+i)] {
			t.Fatalf("no receipt for %x (got %v)", 0x9000+i, seen)
		}
	}
}
