package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/msg"
)

// liveESME submits with receipts asked and keeps every receipt by our id.
type liveESME struct {
	t        *testing.T
	c        *smpptest.Client
	acked    map[string]string // id -> destination
	receipts map[string][]msg.State
	refused  int
}

func (e *liveESME) readReceipt(b []byte) {
	var sm codec.SM
	must(e.t, sm.Decode(b[codec.HeaderLen:]))
	id, _ := sm.TLVs.Get(codec.TagReceiptedMessageID)
	st, _ := sm.TLVs.Get(codec.TagMessageState)
	if len(st) != 1 {
		e.t.Fatalf("receipt without message_state: %q", sm.ShortMessage)
	}
	key := strings.TrimSuffix(string(id), "\x00")
	e.receipts[key] = append(e.receipts[key], msg.State(st[0]))
}

// submit sends one submit_sm to dst and waits for its answer, answering
// the receipts that come meanwhile.
func (e *liveESME) submit(dst string) {
	body := smpptest.SubmitBody("1234", dst, "live")
	body[len(body)-len("live")-5] = 1 // registered_delivery: final receipt
	seq := e.c.NextSeq()
	must(e.t, e.c.Send(codec.SubmitSMID, 0, seq, body))
	for {
		h, b, err := e.c.ReadFrame(10 * time.Second)
		must(e.t, err)
		if h.CommandID == codec.DeliverSMID {
			must(e.t, e.c.Send(codec.DeliverSMRespID, 0, h.Sequence, []byte{0}))
			e.readReceipt(b)
			continue
		}
		if h.CommandID != codec.SubmitSMRespID || h.Sequence != seq {
			e.t.Fatalf("unexpected %v seq %d", h.CommandID, h.Sequence)
		}
		switch h.Status {
		case codec.StatusOK:
			var r codec.SubmitSMResp
			must(e.t, r.Decode(b[codec.HeaderLen:]))
			e.acked[string(r.MessageID)] = dst
		case codec.StatusMsgQFul, codec.StatusThrottled:
			e.refused++ // retried by an ESME; never acknowledged
		default:
			e.t.Fatalf("submit to %s: %v", dst, h.Status)
		}
		return
	}
}

// read answers and keeps the receipts that come within d; false when
// none came. Anything but the deadline (the server closed us, a frame
// that makes no sense) fails the test here, where its cause shows.
func (e *liveESME) read(d time.Duration) bool {
	h, b, err := e.c.ReadFrame(d)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	must(e.t, err)
	if h.CommandID == codec.DeliverSMID {
		must(e.t, e.c.Send(codec.DeliverSMRespID, 0, h.Sequence, []byte{0}))
		e.readReceipt(b)
	}
	return true
}

// drain reads receipts until every acknowledged message has one, or 15 s.
func (e *liveESME) drain() {
	deadline := time.Now().Add(15 * time.Second)
	for !e.allReceipted() && time.Now().Before(deadline) {
		e.read(time.Until(deadline))
	}
	// A moment more: a second final receipt for a message would show now.
	for e.read(300 * time.Millisecond) {
	}
}

func (e *liveESME) allReceipted() bool {
	for id := range e.acked {
		if len(e.receipts[id]) == 0 {
			return false
		}
	}
	return true
}

// exactlyOnce checks that every acknowledged message to a destination
// with prefix got exactly one receipt, in state want, and returns how many.
func (e *liveESME) exactlyOnce(prefix string, want msg.State) int {
	n := 0
	for id, dst := range e.acked {
		if !strings.HasPrefix(dst, prefix) {
			continue
		}
		n++
		if got := e.receipts[id]; len(got) != 1 || got[0] != want {
			e.t.Errorf("message %s to %s: receipts %v, want exactly one %v", id, dst, got, want)
		}
	}
	return n
}

// deadConnector is an upstream nobody listens on: it never binds, so what
// is routed to it waits in its queue.
func deadConnector(name string, port int) string {
	return fmt.Sprintf("\n[[connector]]\nname = %q\ntype = \"smpp\"\n\n[connector.smpp]\nhost = \"127.0.0.1\"\nport = %d\nsystem_id = \"dead\"\npassword = \"dead\"\nreconnect_min = \"1s\"\n", name, port)
}

const demoDefaultRoute = "[[mt_route]]\nname = \"default\""

// withRoute puts an MT route before the demo's default route.
func withRoute(conf, name, connector, prefix string) string {
	r := fmt.Sprintf("[[mt_route]]\nname = %q\nkind = \"static\"\nconnectors = [%q]\ndest_prefixes = [%q]\n\n", name, connector, prefix)
	return strings.Replace(conf, demoDefaultRoute, r+demoDefaultRoute, 1)
}

// TestLiveConnectorsUnderLoad: an ESME submits with receipts while
// SIGHUPs add a connector (its route takes traffic at once), add one
// whose upstream never answers (its queue fills), then remove both: the
// stuck queue is routed again by the default route. Then a connector is
// removed with no route left for its queue: every message in it fails
// UNDELIV with its receipt. Every message acknowledged ESME_ROK ends with
// exactly one final receipt; nothing is lost.
func TestLiveConnectorsUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a daemon through reloads for seconds")
	}
	d, cfgPath, _, _ := startDemo(t)
	c, st := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	e := &liveESME{t: t, c: c, acked: map[string]string{}, receipts: map[string][]msg.State{}}
	base := readFile(t, cfgPath)
	dead := deadConnector("dead", freePort(t))
	withSim2 := withRoute(base, "to-sim2", "sim2", "4916") + "\n[[connector]]\nname = \"sim2\"\ntype = \"sim\"\n"
	withBoth := withRoute(withSim2, "to-dead", "dead", "4917") + dead

	reload := func(conf string) reloadResult {
		must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
		res, err := d.reload()
		must(t, err)
		return res
	}
	reloadUnderLoad := func(conf string, n int, dsts ...string) reloadResult {
		must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
		done := make(chan reloadResult)
		go func() {
			res, err := d.reload()
			if err != nil {
				t.Errorf("reload: %v", err)
			}
			done <- res
		}()
		for i := range n {
			e.submit(dsts[i%len(dsts)] + fmt.Sprintf("%06d", i))
			time.Sleep(time.Millisecond) // the load spans the reload
		}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case res := <-done:
				return res
			default:
			}
			e.read(50 * time.Millisecond) // receipts keep coming meanwhile
		}
		t.Fatal("reload did not finish")
		return reloadResult{}
	}

	// sim2 and dead added while submits run.
	res := reloadUnderLoad(withBoth, 200, "4915", "4916")
	if strings.Join(res.Added, ",") != "sim2,dead" || len(res.NeedsRestart) != 0 {
		t.Fatalf("add: %+v", res)
	}
	for i := range 100 {
		e.submit(fmt.Sprintf("4916%06d", i))
		e.submit(fmt.Sprintf("4917%06d", i)) // waits in dead's queue
	}
	var sim2, deadQ int
	for _, in := range d.hub.Connectors() {
		switch in.Name {
		case "sim2":
			sim2 = int(in.Stats.Submitted)
		case "dead":
			deadQ = in.Stats.Queued
		}
	}
	if sim2 == 0 || deadQ < 50 {
		t.Fatalf("after the addition: sim2 took %d, dead holds %d", sim2, deadQ)
	}

	// Both removed under load: dead's queue goes by the default route.
	res = reloadUnderLoad(base, 200, "4915", "4916", "4917")
	if strings.Join(res.Removed, ",") != "sim2,dead" || len(res.Failed) != 0 {
		t.Fatalf("remove: %+v", res)
	}
	if got := names(d.cfg.Connectors); got != "sim" {
		t.Fatalf("running after the removal: %s", got)
	}
	if hs := d.hub.Stats(); hs.Rerouted < uint64(deadQ) {
		t.Fatalf("rerouted %d, want dead's queue (%d at least)", hs.Rerouted, deadQ)
	}
	e.drain()
	n := e.exactlyOnce("", msg.StateDelivered)

	// No route left: dead back (same id), the default route only for 4915.
	e.acked = map[string]string{}
	narrow := strings.Replace(base, "kind = \"default\"                  # matches everything; must be the last MT route",
		"kind = \"static\"\ndest_prefixes = [\"4915\"]", 1)
	if narrow == base {
		t.Fatal("demo config has no default route to narrow")
	}
	res = reload(withRoute(narrow, "to-dead", "dead", "4917") + dead)
	if strings.Join(res.Added, ",") != "dead" {
		t.Fatalf("dead back: %+v", res)
	}
	if id, _ := d.connIDs.id("dead"); id != 2 {
		t.Fatalf("dead came back as id %d, want its old 2", id)
	}
	for i := range 50 {
		e.submit(fmt.Sprintf("4917%06d", i))
	}
	res = reload(narrow)
	if strings.Join(res.Removed, ",") != "dead" {
		t.Fatalf("dead removed: %+v", res)
	}
	e.drain()
	if got := e.exactlyOnce("4917", msg.StateUndeliverable); got != 50 {
		t.Fatalf("%d of 50 messages with no route left acknowledged", got)
	}
	t.Logf("%d acknowledged across two additions and removals (%d refused and retried), each with one DELIVRD receipt; 50 with no route left, each one UNDELIV", n, e.refused)
}

// TestReloadRefusesRouteToMissingConnector: a route naming a connector
// the reload would not run (a cluster's list is fixed) refuses the whole
// reload with the reason; routes, users and connectors stay.
func TestReloadRefusesRouteToMissingConnector(t *testing.T) {
	d, cfgPath, _, _ := startDemo(t)
	d.cfg.Cluster.Enabled = true // the plan's view: a cluster cannot add live
	defer func() { d.cfg.Cluster.Enabled = false }()
	base := readFile(t, cfgPath)
	conf := withRoute(base, "to-sim2", "sim2", "4916") + "\n[[connector]]\nname = \"sim2\"\ntype = \"sim\"\n"
	must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
	_, err := d.reload()
	if err == nil || !strings.Contains(err.Error(), "sim2") {
		t.Fatalf("reload: %v, want a refusal naming sim2", err)
	}
	if got := names(d.cfg.Connectors); got != "sim" || len(d.hub.Connectors()) != 1 {
		t.Fatalf("connectors after a refused reload: %s", got)
	}
	if _, ok := d.router.Load().ConnectorID("sim2"); ok {
		t.Fatal("the refused routes were installed")
	}
}

// TestLiveConnectorsProcess is TestLiveConnectorsUnderLoad through the
// built binary and SIGHUP: connectors added (one whose upstream never
// answers) and removed while an ESME submits with receipts; the stuck
// queue is routed again, every acknowledged message gets exactly one
// receipt, and the process stops cleanly.
func TestLiveConnectorsProcess(t *testing.T) {
	u := newUpgradeRig(t, false)
	base := readFile(t, u.cfg)
	withBoth := withRoute(withRoute(base, "to-sim2", "sim2", "4916"), "to-dead", "dead", "4917") +
		"\n[[connector]]\nname = \"sim2\"\ntype = \"sim\"\n" + deadConnector("dead", freePort(t))
	p := u.start()
	c := u.bind()
	e := &liveESME{t: t, c: c, acked: map[string]string{}, receipts: map[string][]msg.State{}}
	hup := func(conf, event string, n int) {
		must(t, os.WriteFile(u.cfg, []byte(conf), 0o600))
		must(t, p.Process.Signal(syscall.SIGHUP))
		deadline := time.Now().Add(20 * time.Second)
		for logCount(u.log, event) < n { // receipts keep coming meanwhile
			if time.Now().After(deadline) {
				t.Fatalf("no %d %q in the log:\n%s", n, event, readFile(t, u.log))
			}
			e.read(20 * time.Millisecond)
		}
	}
	for i := range 50 {
		e.submit(fmt.Sprintf("4915%06d", i))
	}
	hup(withBoth, "event=connector_added", 2)
	for i := range 50 {
		e.submit(fmt.Sprintf("4916%06d", i))
		e.submit(fmt.Sprintf("4917%06d", i)) // waits in dead's queue
	}
	hup(base, "event=connector_removed", 2)
	for i := range 50 {
		e.submit(fmt.Sprintf("4917%06d", 100+i))
	}
	e.drain()
	if n := e.exactlyOnce("", msg.StateDelivered); n < 200 {
		t.Fatalf("only %d acknowledged (%d refused)", n, e.refused)
	}
	if !regexp.MustCompile(`connector=dead .*rerouted=[1-9]`).MatchString(readFile(t, u.log)) { // its queue came back
		t.Fatalf("dead's removal rerouted nothing:\n%s", readFile(t, u.log))
	}
	// dead never bound: nothing waited on shutdown_grace, and the log says so.
	l := readFile(t, u.log)
	if !regexp.MustCompile(`with no upstream bind.*connector=dead`).MatchString(l) || regexp.MustCompile(`\(shutdown_grace\).*connector=dead`).MatchString(l) {
		t.Fatalf("dead's removal is not logged as one with no bind:\n%s", l)
	}
	_ = c.Close()
	must(t, p.Process.Signal(syscall.SIGTERM))
	waitExit(t, p, 20*time.Second)
}
