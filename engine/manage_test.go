package engine

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// deferManage defers every cancel_sm and replace_sm whose message_id is
// "later" and hands the token to the test; "now" is answered at once.
// query_sm tries to defer too, which must have no effect.
type deferManage struct {
	tokens chan ManageToken
}

func (m *deferManage) HandleQuery(req *ManageRequest, res *QueryResult) {
	if _, ok := req.Token(); ok {
		res.Status = codec.StatusSysErr // the test sees the contract broken
		return
	}
	req.Defer()
	res.Status = codec.StatusQueryFail
}

func (m *deferManage) HandleCancel(req *ManageRequest) codec.Status {
	return m.decide(req, req.Cancel.MessageID, codec.StatusCancelFail)
}

func (m *deferManage) HandleReplace(req *ManageRequest) codec.Status {
	return m.decide(req, req.Replace.MessageID, codec.StatusReplaceFail)
}

func (m *deferManage) decide(req *ManageRequest, id []byte, fail codec.Status) codec.Status {
	if string(id) != "later" {
		return codec.StatusOK
	}
	tok, ok := req.Token()
	if !ok {
		return codec.StatusSysErr // the test sees the contract broken
	}
	req.Defer()
	m.tokens <- tok
	return fail // ignored: deferred
}

func (m *deferManage) token(t *testing.T) ManageToken {
	t.Helper()
	select {
	case tok := <-m.tokens:
		return tok
	case <-time.After(wait):
		t.Fatal("handler never deferred")
		return ManageToken{}
	}
}

// inFlight returns the only session's count of deferred requests, -1
// when there is not exactly one session.
func inFlight(t *testing.T, ts *testServer) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	s, err := ts.Sessions(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 1 {
		return -1
	}
	return s[0].InFlight
}

// respond answers tok (a full inbox is not expected here).
func respond(t *testing.T, tok ManageToken, st codec.Status) {
	t.Helper()
	if err := tok.Respond(st); err != nil {
		t.Fatal(err)
	}
}

// A deferred cancel_sm or replace_sm is answered with the status given to
// Respond, under its own sequence number, after answers given at once.
func TestManageDeferredAnswer(t *testing.T) {
	t.Parallel()
	m := &deferManage{tokens: make(chan ManageToken, 4)}
	ts := start(t, func(o *Options) { o.Manage = m })
	c := ts.bound(t, codec.BindTransceiverID)

	if err := c.Write(cancelFrame(t, 40, "later", "1")); err != nil {
		t.Fatal(err)
	}
	cancelTok := m.token(t)
	if err := c.Write(replaceFrame(t, 41, "later", "1", "x")); err != nil {
		t.Fatal(err)
	}
	replaceTok := m.token(t)
	// Meanwhile the session goes on: an immediate answer overtakes them.
	if got, want := roundTrip(t, c, cancelFrame(t, 42, "now", "1")), wantFrame(codec.CancelSMRespID, codec.StatusOK, 42); !bytes.Equal(got, want) {
		t.Fatalf("immediate cancel\n% x\nwant\n% x", got, want)
	}
	if n := inFlight(t, ts); n != 2 {
		t.Fatalf("%d in flight, want 2", n)
	}

	respond(t, replaceTok, codec.StatusInvMsgID)
	if _, got, err := c.ReadFrame(wait); err != nil || !bytes.Equal(got, wantFrame(codec.ReplaceSMRespID, codec.StatusInvMsgID, 41)) {
		t.Fatalf("deferred replace: % x %v", got, err)
	}
	respond(t, cancelTok, codec.StatusCancelFail)
	if _, got, err := c.ReadFrame(wait); err != nil || !bytes.Equal(got, wantFrame(codec.CancelSMRespID, codec.StatusCancelFail, 40)) {
		t.Fatalf("deferred cancel: % x %v", got, err)
	}
	if n := inFlight(t, ts); n != 0 {
		t.Fatalf("%d in flight after the answers", n)
	}

	// query_sm cannot be deferred: it is answered at once.
	got := roundTrip(t, c, queryFrame(t, 43, "later", "1"))
	if want := wantFrame(codec.QuerySMRespID, codec.StatusQueryFail, 43, cstr("later"), cstr(""), []byte{0, 0}); !bytes.Equal(got, want) {
		t.Fatalf("query\n% x\nwant\n% x", got, want)
	}
	select {
	case <-m.tokens:
		t.Fatal("query_sm produced a token")
	default:
	}
	if err := (ManageToken{}).Respond(codec.StatusOK); !errors.Is(err, ErrBadToken) {
		t.Fatalf("zero token: %v", err)
	}
}

// Deferred cancel_sm and replace_sm count against MaxInFlight like
// deferred submits: at the limit they are answered ESME_RTHROTTLED without
// reaching the handler, and an answer reopens the window.
func TestManageDeferredCountsInFlight(t *testing.T) {
	t.Parallel()
	m := &deferManage{tokens: make(chan ManageToken, 4)}
	ts := start(t, func(o *Options) {
		o.Manage = m
		o.Submit = &deferAll{}
		o.MaxInFlight = 2
	})
	c := ts.bound(t, codec.BindTransmitterID)
	if err := c.Write(cancelFrame(t, 50, "later", "1")); err != nil {
		t.Fatal(err)
	}
	tok := m.token(t)
	mustSend(t, c, codec.SubmitSMID, 51, smpptest.SubmitBody("1", "2", "t")) // deferred by deferAll: the second slot
	eventually(t, "two in flight", func() bool { return inFlight(t, ts) == 2 })
	for seq, f := range map[uint32][]byte{52: replaceFrame(t, 52, "later", "1", "x"), 53: cancelFrame(t, 53, "now", "1")} {
		if err := c.Write(f); err != nil {
			t.Fatal(err)
		}
		h, _, err := c.ReadFrame(wait)
		if err != nil || h.Status != codec.StatusThrottled || h.Sequence != seq {
			t.Fatalf("at the limit: %+v %v", h, err)
		}
	}
	select {
	case <-m.tokens:
		t.Fatal("the handler was called at the limit")
	default:
	}
	if n := ts.Stats().Throttled; n != 2 {
		t.Fatalf("throttled %d", n)
	}
	respond(t, tok, codec.StatusOK)
	mustExpect(t, c, codec.CancelSMRespID, codec.StatusOK)
	if got := roundTrip(t, c, cancelFrame(t, 54, "now", "1")); !bytes.Equal(got, wantFrame(codec.CancelSMRespID, codec.StatusOK, 54)) {
		t.Fatalf("after the answer: % x", got)
	}
}

// An answer for a session that closed is dropped, also when a new
// connection reuses the pooled session: the generation tells them apart.
func TestManageDeferredAnswerAfterClose(t *testing.T) {
	t.Parallel()
	m := &deferManage{tokens: make(chan ManageToken, 4)}
	ts := start(t, func(o *Options) {
		o.Manage = m
		o.EventLoops = 1 // the next session takes the closed one's struct
	})
	c := ts.bound(t, codec.BindTransmitterID)
	if err := c.Write(cancelFrame(t, 60, "later", "1")); err != nil {
		t.Fatal(err)
	}
	tok := m.token(t)
	_ = c.Close()
	eventually(t, "session closed", func() bool { return inFlight(t, ts) == -1 })
	c2 := ts.bound(t, codec.BindTransmitterID)
	respond(t, tok, codec.StatusOK)
	// The stale answer must not reach the new session: the next frame it
	// reads answers its own request.
	if got := roundTrip(t, c2, cancelFrame(t, 61, "now", "1")); !bytes.Equal(got, wantFrame(codec.CancelSMRespID, codec.StatusOK, 61)) {
		t.Fatalf("new session read % x", got)
	}
	if n := inFlight(t, ts); n != 0 {
		t.Fatalf("%d in flight on the new session", n)
	}
}
