package smppout

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/msg"
)

// The non-blocking forms (flow.UpstreamCanceller and flow.UpstreamReplacer):
// taken at once, sent by the forwarder, a cancel honoured upstream
// reported as a DELETED receipt under our id.
func TestCancelUpstreamAsync(t *testing.T) {
	var mu sync.Mutex
	var seen []string // command and message_id, in the order the SMSC got them
	e := setup(t, smsctest.Options{IDFormat: smsctest.IDHexUpper, Manage: func(cmd codec.CommandID, id []byte) codec.Status {
		mu.Lock()
		seen = append(seen, cmd.String()+" "+string(id))
		mu.Unlock()
		if string(id) == "REFUSE" {
			return codec.StatusCancelFail
		}
		return codec.StatusOK
	}}, Options{})

	idle, err := New(Options{Host: "127.0.0.1", Port: 1, IDMap: newMapIDs()})
	if err != nil {
		t.Fatal(err)
	}
	if idle.CancelUpstream(1, &codec.CancelSM{MessageID: []byte("1")}) || idle.ReplaceUpstream(1, &codec.ReplaceSM{MessageID: []byte("1")}) {
		t.Fatal("a connector never started took a request")
	}

	e.waitUp(t)
	e.submit(t, newMsg(0x42, "4917", "to cancel"))
	eventually(t, "accepted", func() bool { a, _, _, _ := e.sink.counts(); return a == 1 })
	up := []byte(e.sink.accepted()[0].up)
	p := &codec.CancelSM{MessageID: up, SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte("4910"),
		DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: []byte("4917")}
	want := string(up)
	if !e.c.CancelUpstream(0x42, p) {
		t.Fatal("cancel not taken")
	}
	copy(up, bytes.Repeat([]byte{'z'}, len(up))) // views are only valid during the call
	eventually(t, "DELETED receipt", func() bool { _, _, r, _ := e.sink.counts(); return r == 1 })
	r := e.sink.receipts()[0]
	if r.ID != 0x42 || r.State != msg.StateDeleted || r.Connector != 7 || r.Intermediate || r.Done == 0 {
		t.Fatalf("receipt %+v", r)
	}

	// A refused cancel is only logged; the forwarder goes on in order, so
	// once the replace behind it arrived, the refusal was handled.
	if !e.c.CancelUpstream(0x43, &codec.CancelSM{MessageID: []byte("REFUSE")}) {
		t.Fatal("cancel not taken")
	}
	if !e.c.ReplaceUpstream(0x42, &codec.ReplaceSM{MessageID: []byte(want), SourceAddr: []byte("4910"), ShortMessage: []byte("new")}) {
		t.Fatal("replace not taken")
	}
	eventually(t, "replace upstream", func() bool { return e.srv.Replaces() == 1 })
	mu.Lock()
	got := append([]string(nil), seen...)
	mu.Unlock()
	if len(got) != 3 || got[0] != "cancel_sm "+want || got[1] != "cancel_sm REFUSE" || got[2] != "replace_sm "+want {
		t.Fatalf("SMSC saw %q", got)
	}
	if _, _, n, _ := e.sink.counts(); n != 1 {
		t.Fatalf("%d receipts: a refused cancel or a replace reported one", n)
	}
	if e.c.CancelUpstream(1, &codec.CancelSM{MessageID: bytes.Repeat([]byte("x"), 80)}) {
		t.Fatal("an over-long message_id was taken")
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := e.c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if e.c.CancelUpstream(0x42, &codec.CancelSM{MessageID: []byte(want)}) {
		t.Fatal("a stopped connector took a request")
	}
}
