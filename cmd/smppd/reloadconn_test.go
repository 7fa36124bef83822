package main

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/internal/smpptest"
)

func TestPlanConnectors(t *testing.T) {
	sim := func(name, typ string, q int) config.Connector {
		return config.Connector{Name: name, Type: typ, Queue: q}
	}
	running := []config.Connector{sim("a", "sim", 8), sim("b", "sim", 8), sim("c", "sim", 8)}
	next := []config.Connector{sim("a", "sim", 16), sim("b", "smpp", 8), sim("c", "sim", 8)}
	p := planConnectors(running, next, false)
	if fmt.Sprint(p.rebuild) != "[0]" || len(p.restart) != 1 || !strings.Contains(p.restart[0], `"b" changed type`) {
		t.Fatalf("in place: %+v", p)
	}
	if got := names(p.after(running, next)); got != "a b c" {
		t.Fatalf("after a type change: %s (b keeps running as it was)", got)
	}
	// Moving means nothing (ids are stable); adding and removing apply.
	next = []config.Connector{sim("d", "sim", 8), sim("c", "sim", 8), sim("a", "sim", 8)}
	p = planConnectors(running, next, false)
	if fmt.Sprint(p.add) != "[0]" || fmt.Sprint(p.remove) != "[b]" || len(p.rebuild)+len(p.restart) != 0 {
		t.Fatalf("list change: %+v", p)
	}
	if got := names(p.after(running, next)); got != "d c a" {
		t.Fatalf("after: %s", got)
	}
	// A cluster's list is fixed until every node restarts.
	p = planConnectors(running, next, true)
	if len(p.add)+len(p.remove) != 0 || len(p.restart) != 2 {
		t.Fatalf("cluster: %+v", p)
	}
	if got := names(p.after(running, next)); got != "c a b" {
		t.Fatalf("cluster after: %s (b stays, d is not added)", got)
	}
	if p := planConnectors(running, running, false); len(p.add)+len(p.remove)+len(p.rebuild)+len(p.restart) != 0 {
		t.Fatalf("no change: %+v", p)
	}
}

func names(cs []config.Connector) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return strings.Join(out, " ")
}

// TestReloadRebuildsConnectorUnderLoad: an ESME submits with receipts
// while a SIGHUP changes the simulator's settings; the connector drains
// and rebinds (its counters start again), every submit acknowledged
// ESME_ROK gets its receipt, and a submit refused meanwhile is refused
// with a status the ESME retries. Then a reload whose route names a
// connector that does not run is refused whole: its new user is not
// loaded either. A listener change is reported, not applied.
func TestReloadRebuildsConnectorUnderLoad(t *testing.T) {
	d, cfgPath, _, _ := startDemo(t)
	c, st := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	raw, err := os.ReadFile(cfgPath)
	must(t, err)
	changed := strings.Replace(string(raw), `receipt_delay = "50ms"`, `receipt_delay = "20ms"`, 1)
	if changed == string(raw) {
		t.Fatal("demo config has no receipt_delay to change")
	}

	acked := map[string]bool{}
	receipts := map[string]bool{}
	refused, after := 0, 0
	readReceipt := func(b []byte) {
		var sm codec.SM
		must(t, sm.Decode(b[codec.HeaderLen:]))
		id, _ := sm.TLVs.Get(codec.TagReceiptedMessageID)
		receipts[strings.TrimSuffix(string(id), "\x00")] = true
	}
	reloaded := make(chan struct{})
	const n = 400
	for i := range n {
		if i == n/4 {
			must(t, os.WriteFile(cfgPath, []byte(changed), 0o600))
			go func() { d.reload(); close(reloaded) }()
		}
		time.Sleep(2 * time.Millisecond) // the load spans the rebuild
		text := "load"
		body := smpptest.SubmitBody("1234", "4915112345678", text)
		body[len(body)-len(text)-5] = 1 // registered_delivery
		seq := c.NextSeq()
		must(t, c.Send(codec.SubmitSMID, 0, seq, body))
		for {
			h, b, err := c.ReadFrame(10 * time.Second)
			must(t, err)
			if h.CommandID == codec.DeliverSMID {
				must(t, c.Send(codec.DeliverSMRespID, 0, h.Sequence, []byte{0}))
				readReceipt(b)
				continue
			}
			if h.CommandID != codec.SubmitSMRespID || h.Sequence != seq {
				t.Fatalf("unexpected %v seq %d", h.CommandID, h.Sequence)
			}
			if h.Status == codec.StatusOK {
				var r codec.SubmitSMResp
				must(t, r.Decode(b[codec.HeaderLen:]))
				acked[string(r.MessageID)] = true
				select {
				case <-reloaded:
					after++
				default:
				}
			} else if h.Status == codec.StatusMsgQFul || h.Status == codec.StatusThrottled {
				refused++
				if os.Getenv("OPS2_DEBUG") != "" {
					t.Logf("submit %d refused %v at %s", i, h.Status, time.Now().Format("15:04:05.000"))
				}
			} else {
				t.Fatalf("submit %d: %v", i, h.Status)
			}
			break
		}
	}
	select {
	case <-reloaded:
	case <-time.After(30 * time.Second):
		t.Fatal("reload did not finish")
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(receipts) < len(acked) && time.Now().Before(deadline) {
		h, b, err := c.ReadFrame(time.Until(deadline))
		if err != nil {
			break
		}
		if h.CommandID == codec.DeliverSMID {
			must(t, c.Send(codec.DeliverSMRespID, 0, h.Sequence, []byte{0}))
			readReceipt(b)
		}
	}
	for id := range acked {
		if !receipts[id] {
			t.Errorf("acknowledged %s has no receipt", id)
		}
	}
	if len(acked) < n/2 || after == 0 {
		t.Fatalf("only %d of %d acknowledged, %d after the rebuild (%d refused)", len(acked), n, after, refused)
	}
	infos := d.hub.Connectors()
	if len(infos) != 1 || !infos[0].Up || infos[0].Stats.Submitted >= uint64(len(acked)) {
		t.Fatalf("after the rebuild: %+v (acknowledged %d): the connector was not restarted", infos, len(acked))
	}
	if d.cfg.Connectors[0].Name != "sim" || !strings.Contains(readFile(t, cfgPath), `receipt_delay = "20ms"`) {
		t.Fatal("config not kept")
	}
	t.Logf("%d acknowledged (%d after the rebuild), %d refused during it, all receipted", len(acked), after, refused)

	// A route to a connector that is not configured: refused whole.
	h, err := accounts.HashPassword("carolpw")
	must(t, err)
	bad := strings.Replace(changed, `connectors = ["sim"]              # the one connector of a default route`,
		`connectors = ["sim2"]`, 1) + "\n[[user]]\nsystem_id = \"carol\"\npassword_hash = \"" + h + "\"\n"
	port := d.cfg.Server.Port
	bad = strings.Replace(bad, "port = "+strconv.Itoa(port)+" ", "port = "+strconv.Itoa(port+1)+" ", 1)
	must(t, os.WriteFile(cfgPath, []byte(bad), 0o600))
	d.reload()
	if _, st := bindAs(t, d, codec.BindTransceiverID, "carol", "carolpw"); st != codec.StatusInvPaswd {
		t.Fatalf("a refused reload loaded its user: %v", st)
	}
	if len(d.cfg.Connectors) != 1 || d.cfg.Server.Port != port {
		t.Fatalf("a refused reload changed the config: %+v port %d", d.cfg.Connectors, d.cfg.Server.Port)
	}
	next := *d.cfg
	next.Server.Port = port + 1
	next.Admin.Port++
	if got := listenerChanges(d.cfg, &next); strings.Join(got, "|") != "[smpp-server] bind/port|[admin] bind/port" {
		t.Fatalf("listener changes %v", got)
	}
	// [webhook]'s networks reload: the guard the sender dials through takes
	// the lists a reload checked the [[mo_route]] urls against.
	next = *d.cfg
	next.Webhook.AllowNetworks = append(slices.Clone(next.Webhook.AllowNetworks), "10.2.0.8")
	if got := listenerChanges(d.cfg, &next); len(got) != 0 {
		t.Fatalf("an allow_networks change: %v, want none needing a restart", got)
	}
	internal := netip.MustParseAddr("10.2.0.8")
	if d.guard == nil || d.guard.Allowed(internal) {
		t.Fatalf("guard %v: 10.2.0.8 allowed before the reload", d.guard)
	}
	d.mu.Lock()
	_, err = d.reloadWith(&next, nil)
	d.mu.Unlock()
	must(t, err)
	if !d.guard.Allowed(internal) {
		t.Fatal("a reload that allows 10.2.0.8: the guard still denies it")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return string(b)
}

// TestAdminReload: POST /v1/reload does what SIGHUP does and says what it
// did: the simulator rebuilt, the SMPP port change waiting for a restart;
// a config whose route names a connector that is not configured is 422
// and changes nothing.
func TestAdminReload(t *testing.T) {
	d, cfgPath, _, adminPort := startDemo(t)
	api := "http://127.0.0.1:" + strconv.Itoa(adminPort) + "/v1/reload"
	raw := readFile(t, cfgPath)
	port := d.cfg.Server.Port
	conf := strings.Replace(raw, `receipt_delay = "50ms"`, `receipt_delay = "30ms"`, 1)
	conf = strings.Replace(conf, "port = "+strconv.Itoa(port)+" ", "port = "+strconv.Itoa(port+1)+" ", 1)
	must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
	var res struct {
		Status       string   `json:"status"`
		Rebuilt      []string `json:"rebuilt"`
		NeedsRestart []string `json:"needs_restart"`
		Routes       int      `json:"routes"`
	}
	if st := call(t, "POST", api, &res); st != 200 || res.Status != "reloaded" || strings.Join(res.Rebuilt, ",") != "sim" ||
		strings.Join(res.NeedsRestart, ",") != "[smpp-server] bind/port" || res.Routes == 0 {
		t.Fatalf("POST /v1/reload: %d %+v", st, res)
	}
	if d.cfg.Server.Port != port {
		t.Fatalf("the running port became %d", d.cfg.Server.Port)
	}
	bad := strings.Replace(conf, `connectors = ["sim"]              # the one connector of a default route`, `connectors = ["sim2"]`, 1)
	must(t, os.WriteFile(cfgPath, []byte(bad), 0o600))
	if st := call(t, "POST", api, nil); st != 422 {
		t.Fatalf("a reload routing to a connector that is not configured: %d, want 422", st)
	}
	if len(d.cfg.Connectors) != 1 || d.router == nil {
		t.Fatalf("the refused reload changed the connectors: %+v", d.cfg.Connectors)
	}
}
