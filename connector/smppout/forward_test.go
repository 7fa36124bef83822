package smppout

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smsctest"
)

// outcome is what one done callback got.
type outcome struct {
	status codec.Status
	err    error
}

// outcomes collects done callbacks; each may be called once.
type outcomes struct {
	mu  sync.Mutex
	got map[string][]outcome
}

func newOutcomes() *outcomes { return &outcomes{got: map[string][]outcome{}} }

func (o *outcomes) done(name string) func(codec.Status, error) {
	return func(st codec.Status, err error) {
		o.mu.Lock()
		o.got[name] = append(o.got[name], outcome{st, err})
		o.mu.Unlock()
	}
}

// wait returns name's only outcome once it came.
func (o *outcomes) wait(t *testing.T, name string) outcome {
	t.Helper()
	var got []outcome
	eventually(t, name+" answered", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		got = append(got[:0], o.got[name]...)
		return len(got) > 0
	})
	if len(got) != 1 {
		t.Fatalf("%s: done called %d times", name, len(got))
	}
	return got[0]
}

func (o *outcomes) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, v := range o.got {
		n += len(v)
	}
	return n
}

// The non-blocking forms (connector.Connector's CancelUpstream and ReplaceUpstream):
// taken at once, sent in order by the forwarder, each upstream answer
// handed to done under the upstream's id; the connector itself reports no
// receipt for them.
func TestForwardedAnswers(t *testing.T) {
	var mu sync.Mutex
	var seen []string // command and message_id, in the order the SMSC got them
	e := setup(t, smsctest.Options{IDFormat: smsctest.IDHexUpper, Manage: func(cmd codec.CommandID, id []byte) codec.Status {
		mu.Lock()
		seen = append(seen, cmd.String()+" "+string(id))
		mu.Unlock()
		if string(id) == "REFUSE" {
			if cmd == codec.CancelSMID {
				return codec.StatusCancelFail
			}
			return codec.StatusInvMsgID
		}
		return codec.StatusOK
	}}, Options{})
	o := newOutcomes()

	idle, err := New(Options{Name: "idle", Host: "127.0.0.1", Port: 1, IDMap: newMapIDs()})
	if err != nil {
		t.Fatal(err)
	}
	if idle.CancelUpstream(1, &codec.CancelSM{MessageID: []byte("1")}, o.done("idle")) ||
		idle.ReplaceUpstream(1, &codec.ReplaceSM{MessageID: []byte("1")}, o.done("idle")) {
		t.Fatal("a connector never started took a request")
	}

	e.waitUp(t)
	e.submit(t, newMsg(0x42, "4917", "to cancel"))
	eventually(t, "accepted", func() bool { a, _, _, _ := e.sink.counts(); return a == 1 })
	up := []byte(e.sink.accepted()[0].up)
	want := string(up)
	p := &codec.CancelSM{MessageID: up, SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte("4910"),
		DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: []byte("4917")}
	if !e.c.CancelUpstream(0x42, p, o.done("cancel ok")) {
		t.Fatal("cancel not taken")
	}
	copy(up, bytes.Repeat([]byte{'z'}, len(up))) // views are only valid during the call
	if !e.c.CancelUpstream(0x43, &codec.CancelSM{MessageID: []byte("REFUSE")}, o.done("cancel refused")) {
		t.Fatal("cancel not taken")
	}
	if !e.c.ReplaceUpstream(0x42, &codec.ReplaceSM{MessageID: []byte(want), SourceAddr: []byte("4910"), ShortMessage: []byte("new")}, o.done("replace ok")) {
		t.Fatal("replace not taken")
	}
	if !e.c.ReplaceUpstream(0x43, &codec.ReplaceSM{MessageID: []byte("REFUSE")}, o.done("replace refused")) {
		t.Fatal("replace not taken")
	}
	for name, w := range map[string]codec.Status{"cancel ok": codec.StatusOK, "cancel refused": codec.StatusCancelFail,
		"replace ok": codec.StatusOK, "replace refused": codec.StatusInvMsgID} {
		if got := o.wait(t, name); got.err != nil || got.status != w {
			t.Fatalf("%s: %+v, want %v", name, got, w)
		}
	}
	mu.Lock()
	got := append([]string(nil), seen...)
	mu.Unlock()
	if len(got) != 4 || got[0] != "cancel_sm "+want || got[1] != "cancel_sm REFUSE" || got[2] != "replace_sm "+want || got[3] != "replace_sm REFUSE" {
		t.Fatalf("SMSC saw %q", got)
	}
	if _, _, n, _ := e.sink.counts(); n != 0 {
		t.Fatalf("%d receipts reported by the connector: the outcome is the caller's", n)
	}
	if e.c.CancelUpstream(1, &codec.CancelSM{MessageID: bytes.Repeat([]byte("x"), 80)}, o.done("too long")) {
		t.Fatal("an over-long message_id was taken")
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := e.c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if e.c.CancelUpstream(0x42, &codec.CancelSM{MessageID: []byte(want)}, o.done("stopped")) {
		t.Fatal("a stopped connector took a request")
	}
	if n := o.count(); n != 4 {
		t.Fatalf("%d done calls, want the 4 taken", n)
	}
}

// An upstream that never answers: done gets context.DeadlineExceeded once
// ResponseTimeout has passed since the request was taken; requests sent or
// queued when the connector stops get an error, not silence.
func TestForwardedNoAnswer(t *testing.T) {
	block := make(chan struct{})
	e := setup(t, smsctest.Options{Manage: func(codec.CommandID, []byte) codec.Status {
		<-block // the SMSC's reader hangs: no response
		return codec.StatusOK
	}}, Options{ResponseTimeout: 300 * time.Millisecond})
	t.Cleanup(func() { close(block) }) // runs before the connector's Stop
	o := newOutcomes()
	e.waitUp(t)

	start := time.Now()
	if !e.c.CancelUpstream(1, &codec.CancelSM{MessageID: []byte("A1")}, o.done("cancel")) {
		t.Fatal("cancel not taken")
	}
	got := o.wait(t, "cancel")
	if !errors.Is(got.err, context.DeadlineExceeded) {
		t.Fatalf("cancel: %+v, want the deadline", got)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("answered after %v, before ResponseTimeout", d)
	}

	// The SMSC still hangs on the first: the forwarder waits on the
	// second's response while the third waits in the queue; Stop fails both.
	if !e.c.ReplaceUpstream(2, &codec.ReplaceSM{MessageID: []byte("A2")}, o.done("in flight")) ||
		!e.c.CancelUpstream(3, &codec.CancelSM{MessageID: []byte("A3")}, o.done("queued")) {
		t.Fatal("request not taken")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_ = e.c.Stop(ctx)
	if got := o.wait(t, "in flight"); got.err == nil {
		t.Fatalf("in flight at Stop: %+v", got)
	}
	if got := o.wait(t, "queued"); got.err == nil {
		t.Fatalf("queued at Stop: %+v", got)
	}
}
