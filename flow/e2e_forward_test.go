package flow

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/connector/smppout"
	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// cancel_sm and replace_sm forwarded upstream through the real smppout
// connector: the ESME's answer is the upstream's, given once it came.

// upstreamAccepted submits text as alice and waits until the upstream took
// it (its id is mapped), so cancel and replace must go upstream.
func upstreamAccepted(t *testing.T, e *env, c *esme, text string) string {
	t.Helper()
	p := sm("12345", "4915112345678", text)
	p.RegisteredDelivery = 1
	status, id := c.submit(p)
	wantStatus(t, status, codec.StatusOK)
	eventually(t, "upstream id kept", func() bool {
		_, ok := e.msgs.(*memory.Store).UpstreamOf(mustID(t, id), nil)
		return ok
	})
	return id
}

func queryState(t *testing.T, c *esme, id string) codec.MessageState {
	t.Helper()
	q := &codec.QuerySM{MessageID: []byte(id)}
	f := c.request(codec.QuerySMID, q.Append)
	var r codec.QuerySMResp
	if err := r.Decode(f.body); err != nil || f.h.Status != codec.StatusOK {
		t.Fatalf("query_sm: %v %v", f.h.Status, err)
	}
	return r.MessageState
}

func cancelStatus(c *esme, id string) codec.Status {
	cn := &codec.CancelSM{MessageID: []byte(id)}
	return c.request(codec.CancelSMID, cn.Append).h.Status
}

func replaceStatus(c *esme, r *codec.ReplaceSM) codec.Status {
	return c.request(codec.ReplaceSMID, r.Append).h.Status
}

// The upstream's cancel_sm_resp status is the ESME's; only ESME_ROK marks
// the message DELETED (before the answer, so a query right after sees it)
// and sends the receipt.
func TestRealUpstreamCancelOutcome(t *testing.T) {
	var answer atomic.Uint32
	e, srv, _ := startUpstream(t, smsctest.Options{Manage: func(codec.CommandID, []byte) codec.Status {
		return codec.Status(answer.Load())
	}}, defaultRoutes("up"))
	e.addUser(t, "alice", userSpec{receipts: true})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	id := upstreamAccepted(t, e, c, "to be cancelled")

	for _, refusal := range []codec.Status{codec.StatusCancelFail, codec.StatusInvMsgID} {
		answer.Store(uint32(refusal))
		wantStatus(t, cancelStatus(c, id), refusal)
		if st := queryState(t, c, id); st != codec.MessageStateEnroute {
			t.Fatalf("after an upstream %v: %v", refusal, st)
		}
	}
	c.noDeliver(50 * time.Millisecond)
	answer.Store(uint32(codec.StatusOK))
	wantStatus(t, cancelStatus(c, id), codec.StatusOK)
	if st := queryState(t, c, id); st != codec.MessageStateDeleted {
		t.Fatalf("after the upstream's yes: %v", st)
	}
	wantReceipt(t, c.deliver(codec.StatusOK), id, codec.MessageStateDeleted, receipt.StatDeleted)
	if n := srv.Cancels(); n != 3 {
		t.Fatalf("SMSC got %d cancel_sm", n)
	}
}

// An upstream that never answers: after the connector's response_timeout
// the ESME gets ESME_RCANCELFAIL / ESME_RREPLACEFAIL, the message stays as
// it was and the replacement's extra parts are refunded.
func TestRealUpstreamNoAnswer(t *testing.T) {
	block := make(chan struct{})
	const timeout = 300 * time.Millisecond
	routes := routing.Config{MT: []routing.MTRouteConfig{{Name: "paid", Kind: "default", Connectors: []string{"up"}, Rate: 1}}}
	e, _, _ := startUpstream(t, smsctest.Options{Manage: func(codec.CommandID, []byte) codec.Status {
		<-block // the SMSC hangs: no response
		return codec.StatusOK
	}}, routes, func(o *smppout.Options) { o.ResponseTimeout = timeout })
	t.Cleanup(func() { close(block) }) // before the connector stops
	p := e.addUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000)}})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	id := upstreamAccepted(t, e, c, "never answered")

	start := time.Now()
	wantStatus(t, cancelStatus(c, id), codec.StatusCancelFail)
	if d := time.Since(start); d < timeout {
		t.Fatalf("answered after %v, before the upstream's time ran out", d)
	}
	if st := queryState(t, c, id); st != codec.MessageStateEnroute {
		t.Fatalf("after no answer: %v", st)
	}
	r := &codec.ReplaceSM{MessageID: []byte(id)}
	r.TLVs.Add(codec.TagMessagePayload, []byte(strings.Repeat("a", 400))) // 3 parts: 2 more
	wantStatus(t, replaceStatus(c, r), codec.StatusReplaceFail)
	if b := balanceOf(p); b != 9_000_000 {
		t.Fatalf("balance %d: the extra parts were not refunded", b)
	}
	if rec := record(t, e, id); string(rec.TextPrefix()) != "never answered" || rec.Parts != 1 {
		t.Fatalf("record %+v", rec)
	}
}

// A forwarded replace_sm is checked here first, as a submit (route content
// filters, parts, charge); the upstream is asked only when that passes,
// and only its ESME_ROK updates the record and keeps the extra charge.
func TestRealUpstreamReplace(t *testing.T) {
	var answer atomic.Uint32
	routes := routing.Config{MT: []routing.MTRouteConfig{{Name: "codes", Kind: "static", Connectors: []string{"up"}, Rate: 1,
		FilterConfig: routing.FilterConfig{ContentRegex: "code"}}}}
	e, srv, _ := startUpstream(t, smsctest.Options{Manage: func(codec.CommandID, []byte) codec.Status {
		return codec.Status(answer.Load())
	}}, routes)
	p := e.addUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000)}})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	id := upstreamAccepted(t, e, c, "code 1")

	long := func(n int) *codec.ReplaceSM {
		r := &codec.ReplaceSM{MessageID: []byte(id)}
		r.TLVs.Add(codec.TagMessagePayload, []byte("code "+strings.Repeat("a", n-5)))
		return r
	}
	// Refused here: the upstream never hears of them.
	wantStatus(t, replaceStatus(c, &codec.ReplaceSM{MessageID: []byte(id), ShortMessage: []byte("no match")}), codec.StatusInvDstAdr)
	wantStatus(t, replaceStatus(c, long(3000)), codec.StatusSubmitFail) // 20 parts: 19 more, 9 paid for
	if n := srv.Replaces(); n != 0 || balanceOf(p) != 9_000_000 {
		t.Fatalf("SMSC got %d replace_sm; balance %d", n, balanceOf(p))
	}
	// The upstream says no: its status, the extra parts refunded.
	answer.Store(uint32(codec.StatusReplaceFail))
	wantStatus(t, replaceStatus(c, long(400)), codec.StatusReplaceFail)
	if b := balanceOf(p); b != 9_000_000 {
		t.Fatalf("balance %d after the upstream's refusal", b)
	}
	// The upstream says yes: 2 more parts paid, the record follows.
	answer.Store(uint32(codec.StatusOK))
	wantStatus(t, replaceStatus(c, long(400)), codec.StatusOK)
	if b := balanceOf(p); b != 7_000_000 {
		t.Fatalf("balance %d after the replacement", b)
	}
	if rec := record(t, e, id); string(rec.TextPrefix()) != "code aaaaaaaaaaaaaaa" || rec.Parts != 3 {
		t.Fatalf("record %q, %d parts", rec.TextPrefix(), rec.Parts)
	}
	if n := srv.Replaces(); n != 2 {
		t.Fatalf("SMSC got %d replace_sm", n)
	}
}

func record(t *testing.T, e *env, id string) storage.Record {
	t.Helper()
	var rec storage.Record
	if err := e.msgs.Get(mustID(t, id), &rec); err != nil {
		t.Fatalf("no record for %s: %v", id, err)
	}
	return rec
}

// The simulator holds a scheduled message unsent (it stays in the hub's
// live index): replace_sm edits it here, billed like a submit, and
// cancel_sm deletes it; the submit's charge and the replacement's extra
// parts are refunded together once the simulator reports it.
func TestRealSimScheduledReplaceCancel(t *testing.T) {
	var ahead atomic.Int64 // the simulator's clock runs this far ahead
	s := newRealSim(t, "sim", 0, sim.Options{ReceiptDelay: 20 * time.Millisecond,
		Clock: func() int64 { return time.Now().UnixNano() + ahead.Load() }})
	routes := routing.Config{MT: []routing.MTRouteConfig{{Name: "paid", Kind: "default", Connectors: []string{"sim"}, Rate: 1}}}
	e, _ := startReal(t, realSpec{routes: routes, connectors: []connector.Connector{s}})
	p := e.addUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000)}})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	m := sm("12345", "4915112345678", "later")
	m.RegisteredDelivery, m.ScheduleDeliveryTime = 1, []byte("000000010000000R") // in an hour
	status, id := c.submit(m)
	wantStatus(t, status, codec.StatusOK)
	eventually(t, "held by the simulator", func() bool { return s.Stats().Queued == 1 || e.hub.live.lookup(mustID(t, id)) != nil })

	r := &codec.ReplaceSM{MessageID: []byte(id), RegisteredDelivery: 1}
	r.TLVs.Add(codec.TagMessagePayload, []byte(strings.Repeat("a", 400)))
	wantStatus(t, replaceStatus(c, r), codec.StatusOK)
	if b := balanceOf(p); b != 7_000_000 {
		t.Fatalf("balance %d after a 3-part replacement", b)
	}
	r = &codec.ReplaceSM{MessageID: []byte(id), RegisteredDelivery: 1, ShortMessage: []byte("shorter")}
	wantStatus(t, replaceStatus(c, r), codec.StatusOK)
	if rec := record(t, e, id); string(rec.TextPrefix()) != "shorter" || rec.Parts != 3 ||
		e.hub.live.lookup(mustID(t, id)) == nil || balanceOf(p) != 7_000_000 {
		t.Fatalf("record %+v, balance %d", rec, balanceOf(p))
	}
	wantStatus(t, cancelStatus(c, id), codec.StatusOK)
	if st := queryState(t, c, id); st != codec.MessageStateDeleted {
		t.Fatalf("after cancel: %v", st)
	}
	// The simulator reports the cancelled message when it next looks at it:
	// at its schedule.
	ahead.Store(int64(2 * time.Hour))
	s.Poke()
	wantReceipt(t, c.deliver(codec.StatusOK), id, codec.MessageStateDeleted, receipt.StatDeleted)
	eventually(t, "refund", func() bool { return balanceOf(p) == 10_000_000 })
}
