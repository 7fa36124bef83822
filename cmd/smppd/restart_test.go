package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// runDemo starts a daemon on cfgPath (as main does) and returns it with
// its stop (a SIGTERM's drain), which the test's end makes if the test
// did not (stopAtEnd).
func runDemo(t testing.TB, cfgPath string) (*daemon, func()) {
	t.Helper()
	d, _, stop := runConfig(t, cfgPath)
	return d, stop
}

func submitOK(t *testing.T, c *smpptest.Client, dst, text string, receipt bool) string {
	t.Helper()
	body := smpptest.SubmitBody("1234", dst, text)
	if receipt {
		body[len(body)-len(text)-5] = 1 // registered_delivery
	}
	must(t, c.Send(codec.SubmitSMID, 0, c.NextSeq(), body))
	_, resp, err := c.Expect(5*time.Second, codec.SubmitSMRespID, codec.StatusOK)
	must(t, err)
	var r codec.SubmitSMResp
	must(t, r.Decode(resp[codec.HeaderLen:]))
	return string(r.MessageID)
}

// TestRestartKeepsWhatWasAcknowledged runs the demo on the disk store,
// accepts a message with a receipt asked and an MO (the simulator's echo)
// for a user with no receiver bound, stops (SIGTERM) before the receipt is
// due, and starts again on the same directory: the receipt comes at its
// time from the store (the simulator's RAM is gone), the held MO reaches
// the receiver that binds, query_sm finds the id, and ids continue above
// the first run's.
func TestRestartKeepsWhatWasAcknowledged(t *testing.T) {
	cfgPath, _, _, _ := demoDir(t)
	raw, err := os.ReadFile(cfgPath)
	must(t, err)
	conf := strings.Replace(string(raw), `receipt_delay = "50ms"`, `receipt_delay = "1500ms"`, 1)
	if conf == string(raw) {
		t.Fatal("demo config has no receipt_delay to change")
	}
	must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))

	d1, stop1 := runDemo(t, cfgPath)
	tx, st := bindAs(t, d1, codec.BindTransmitterID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	id := submitOK(t, tx, "4915112345678", "keep me", true)
	submitOK(t, tx, "999123", "echo me", false) // comes back as an MO for demo
	deadline := time.Now().Add(5 * time.Second)
	for d1.store.Stats().Held == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the echoed MO was never held")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = tx.Close()
	stop1()

	d2, _ := runDemo(t, cfgPath)
	rx, st := bindAs(t, d2, codec.BindReceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind after restart: %v", st)
	}
	var gotMO, gotReceipt bool
	for !gotMO || !gotReceipt {
		p := expectDeliver(t, rx)
		switch {
		case p.ESMClass&0x3c == 0x04:
			rid, _ := p.TLVs.Get(codec.TagReceiptedMessageID)
			if strings.TrimSuffix(string(rid), "\x00") != id || !strings.Contains(string(p.ShortMessage), "stat:DELIVRD") {
				t.Fatalf("receipt %q for %q, want id %s DELIVRD", p.ShortMessage, rid, id)
			}
			gotReceipt = true
		case string(p.ShortMessage) == "echo me":
			gotMO = true
		default:
			t.Fatalf("unexpected deliver_sm %+v", p)
		}
	}
	tx2, st := bindAs(t, d2, codec.BindTransmitterID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	q := codec.QuerySM{MessageID: []byte(id), SourceAddr: []byte("1234")}
	qb, err := q.Append(nil, codec.Header{CommandID: codec.QuerySMID, Sequence: tx2.NextSeq()})
	must(t, err)
	must(t, tx2.Write(qb))
	_, qr, err := tx2.Expect(5*time.Second, codec.QuerySMRespID, codec.StatusOK)
	must(t, err)
	var a codec.QuerySMResp
	must(t, a.Decode(qr[codec.HeaderLen:]))
	if a.MessageState != codec.MessageState(2) { // DELIVERED
		t.Fatalf("query_sm after restart: state %v", a.MessageState)
	}
	if next := submitOK(t, tx2, "4915112345678", "after", false); next <= id {
		t.Fatalf("id %s after restart is not above %s", next, id)
	}
}
