package flow

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/cdr"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage/memory"
)

// A CDR stream whose queue is past its high-water mark makes the hub
// hold back new MT before anything is accepted: a session that may wait
// waits (Wait), the rest is refused ESME_RTHROTTLED (SMPP: submit_sm,
// data_sm, submit_multi; HTTP: SubmitDirect), counted as cdr_backlog; a
// later part of an HTTP message already let through still goes; once the
// writer drains the queue, submits are accepted again.
func TestCDRBacklogRefusesThenRecovers(t *testing.T) {
	store := memory.New(memory.Options{MaxRecords: 1 << 12, TTL: 100 * 365 * 24 * time.Hour})
	// The stream's writer logs on its goroutine: its buffer is read
	// before Start and after Close only.
	var logs, stLogs bytes.Buffer
	st, err := cdr.Open(cdr.Options{Dir: t.TempDir(), QueueSize: 1024, HighWater: 50, Messages: store, Logger: zerolog.New(&stLogs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	th := newHub(t, hubSpec{logWriter: &logs, mod: func(o *Options) {
		o.Messages, o.UpstreamIDs, o.Finals, o.Backlog = store, store, st, st.Backlog()
	}})
	p := newUser(t, "alice", userSpec{})
	if s, _ := th.submit(p, sm("1", "491", "x")); s != codec.StatusOK {
		t.Fatalf("submit before the backlog: %v", s)
	}

	// The writer is not running: final states of earlier messages fill
	// the queue up to its mark (1024 slots × 50%).
	for i := range 512 {
		st.Final(msg.Final{ID: msg.ID(1_000_000 + i), State: msg.StateDelivered, Done: 1})
	}
	if !st.Backlog().Load() {
		t.Fatalf("queue at %d of 1024, high water 50%%: backlog not raised", st.Stats().Queue)
	}
	accepted := th.Stats().SubmitsAccepted
	if s, _ := th.submit(p, sm("1", "491", "x")); s != codec.StatusThrottled {
		t.Fatalf("submit_sm during the backlog: %v, want ESME_RTHROTTLED", s)
	}
	// A session that may wait for room waits unread (the engine offers the
	// PDU again): nothing answered, nothing counted.
	held := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	th.HandleSubmit(&engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: "alice", Principal: p.Bind,
		SubmitSM: sm("1", "491", "x"), MayWait: true}, held)
	if !held.Wait || held.Deferred {
		t.Fatalf("submit_sm that may wait, during the backlog: %+v, want Wait", held)
	}
	data := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	th.HandleSubmit(&engine.SubmitRequest{Command: codec.DataSMID, SystemID: "alice", Principal: p.Bind,
		DataSM: &codec.DataSM{SourceAddr: []byte("1"), DestinationAddr: []byte("491")}}, data)
	if data.Status != codec.StatusThrottled {
		t.Fatalf("data_sm during the backlog: %v, want ESME_RTHROTTLED", data.Status)
	}
	multi := &codec.SubmitMulti{SourceAddr: []byte("1"), ShortMessage: []byte("x")}
	multi.Dests.AddSME(1, 1, []byte("491"))
	mres := &engine.SubmitResult{MessageID: make([]byte, 0, 65), Unsuccess: new(codec.UnsuccessList)}
	th.HandleSubmit(&engine.SubmitRequest{Command: codec.SubmitMultiID, SystemID: "alice", Principal: p.Bind, SubmitMulti: multi}, mres)
	if mres.Status != codec.StatusThrottled {
		t.Fatalf("submit_multi during the backlog: %v, want ESME_RTHROTTLED", mres.Status)
	}
	if s, r := th.SubmitDirect(&DirectRequest{User: p.Bind.User(), SM: sm("1", "491", "x"), ID: th.NextID()}); s != codec.StatusThrottled || r != RefuseBacklog {
		t.Fatalf("HTTP submit during the backlog: %v %v, want ESME_RTHROTTLED cdr_backlog", s, r)
	}
	if s, r := th.SubmitDirect(&DirectRequest{User: p.Bind.User(), SM: sm("1", "491", "x"), ID: th.NextID(), Follows: true}); s != codec.StatusOK {
		t.Fatalf("a later part of an HTTP message during the backlog: %v %v, want it queued with its first part", s, r)
	}
	if got := th.Stats().RefusedBy(RefuseBacklog); got != 4 {
		t.Fatalf("cdr_backlog refusals = %d, want 4", got)
	}
	if got := th.Stats().SubmitsAccepted - accepted; got != 1 {
		t.Fatalf("%d accepted during the backlog, want 1 (the later part)", got)
	}
	if !strings.Contains(stLogs.String(), `"event":"cdr_backlog"`) {
		t.Fatalf("no cdr_backlog log line: %s", stLogs.String())
	}
	if !strings.Contains(logs.String(), `"event":"cdr_backlog_refused"`) {
		t.Fatalf("no cdr_backlog_refused log line: %s", logs.String())
	}

	st.Start() // the writer catches up
	deadline := time.Now().Add(10 * time.Second)
	for st.Backlog().Load() {
		if time.Now().After(deadline) {
			t.Fatalf("backlog still raised 10s after the writer started: %+v", st.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	if s, _ := th.submit(p, sm("1", "491", "x")); s != codec.StatusOK {
		t.Fatalf("submit after the writer caught up: %v", s)
	}
	if s := st.Stats(); s.Dropped != 0 || s.Backlogs != 1 {
		t.Fatalf("stream %+v, want nothing dropped, one backlog", s)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stLogs.String(), `"event":"cdr_backlog_cleared"`) {
		t.Fatalf("no cdr_backlog_cleared log line: %s", stLogs.String())
	}
}

// A user whose receivers are behind (SetReceiptBacklog) has its MT asking
// a receipt refused ESME_RTHROTTLED before anything is accepted, even
// from a session that may wait (it must keep reading its deliver_sm_resp);
// its MT without receipts, a later part of an HTTP message, and other
// users pass; once cleared, it is accepted again.
func TestReceiptBacklogRefusesOnlyReceiptsOfItsUser(t *testing.T) {
	th := newHub(t, hubSpec{})
	alice := newUser(t, "alice", userSpec{receipts: true})
	bob := newUser(t, "bob", userSpec{receipts: true})

	th.SetReceiptBacklog("alice", true)
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	th.HandleSubmit(&engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: "alice", Principal: alice.Bind,
		SubmitSM: askingReceipt("x"), MayWait: true}, res)
	if res.Wait || res.Status != codec.StatusThrottled {
		t.Fatalf("submit_sm asking a receipt during the backlog: %+v, want ESME_RTHROTTLED at once", res)
	}
	if s, r := th.SubmitDirect(&DirectRequest{User: alice.Bind.User(), SM: askingReceipt("x"), ID: th.NextID()}); s != codec.StatusThrottled || r != RefuseReceiptBacklog {
		t.Fatalf("HTTP submit asking a receipt during the backlog: %v %v", s, r)
	}
	if s, r := th.SubmitDirect(&DirectRequest{User: alice.Bind.User(), SM: askingReceipt("x"), ID: th.NextID(), Follows: true}); s != codec.StatusOK {
		t.Fatalf("a later part of an HTTP message during the backlog: %v %v, want it queued with its first part", s, r)
	}
	if s, _ := th.submit(alice, sm("1", "491", "x")); s != codec.StatusOK {
		t.Fatalf("submit without a receipt during the backlog: %v", s)
	}
	if s, _ := th.submit(bob, askingReceipt("x")); s != codec.StatusOK {
		t.Fatalf("another user's submit asking a receipt: %v", s)
	}
	if got := th.Stats().RefusedBy(RefuseReceiptBacklog); got != 2 {
		t.Fatalf("receipt_backlog refusals = %d, want 2", got)
	}
	th.SetReceiptBacklog("alice", false)
	if s, _ := th.submit(alice, askingReceipt("x")); s != codec.StatusOK {
		t.Fatalf("submit asking a receipt after the backlog: %v", s)
	}
}
