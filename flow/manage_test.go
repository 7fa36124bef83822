package flow

import (
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

func query(th *testHub, p principal, id, src string) *engine.QueryResult {
	res := &engine.QueryResult{FinalDate: make([]byte, 0, 17)}
	th.HandleQuery(&engine.ManageRequest{SystemID: p.SystemID(), Principal: p.Bind,
		Query: &codec.QuerySM{MessageID: []byte(id), SourceAddr: []byte(src)}}, res)
	return res
}

func cancel(th *testHub, p principal, id, src, dst string) codec.Status {
	return th.HandleCancel(&engine.ManageRequest{SystemID: p.SystemID(), Principal: p.Bind,
		Cancel: &codec.CancelSM{MessageID: []byte(id), SourceAddr: []byte(src), DestinationAddr: []byte(dst)}})
}

func replace(th *testHub, p principal, r *codec.ReplaceSM) codec.Status {
	return th.HandleReplace(&engine.ManageRequest{SystemID: p.SystemID(), Principal: p.Bind, Replace: r})
}

func TestQuery(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{receipts: true})
	other := newUser(t, "bob", userSpec{})
	_, id := submitted(t, th, p, 0, "x")
	hex := id.String()
	res := query(th, p, hex, "")
	if res.Status != codec.StatusOK || res.State != codec.MessageStateEnroute || len(res.FinalDate) != 0 {
		t.Fatalf("queued: %+v", res)
	}
	wantStatus(t, query(th, p, hex, "4915100000").Status, codec.StatusOK)
	wantStatus(t, query(th, p, hex, "999").Status, codec.StatusQueryFail)
	wantStatus(t, query(th, other, hex, "").Status, codec.StatusQueryFail)
	wantStatus(t, query(th, p, "0000000000000001", "").Status, codec.StatusQueryFail)
	wantStatus(t, query(th, p, "not an id", "").Status, codec.StatusQueryFail)
	done := time.Date(2025, 6, 30, 12, 5, 0, 0, time.UTC)
	th.Receipt(&msg.Receipt{ID: id, State: msg.StateUndeliverable, Err: 300, Done: done.UnixNano()})
	res = query(th, p, string(id.AppendDecimal(nil)), "")
	if res.Status != codec.StatusOK || res.State != codec.MessageStateUndeliverable || res.ErrorCode != 255 ||
		string(res.FinalDate) != "250630120500000+" {
		t.Fatalf("final, by decimal id: %+v %q", res, res.FinalDate)
	}
}

func TestCancelQueued(t *testing.T) {
	th := newHub(t, hubSpec{routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "paid", Kind: "default", Connectors: []string{"a"}, Rate: 1}},
	}})
	p := newUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{Balance: accounts.Micros(3_000_000)}})
	credit := p.User().Limits.Credit()
	m, id := submitted(t, th, p, 1, "cancel me")
	wantStatus(t, cancel(th, p, id.String(), "", "999"), codec.StatusCancelFail) // destination differs
	wantStatus(t, cancel(th, newUser(t, "bob", userSpec{}), id.String(), "", ""), codec.StatusCancelFail)
	wantStatus(t, cancel(th, p, id.String(), "4915100000", "4916200000"), codec.StatusOK)
	if rec := th.store.record(t, id); rec.State != msg.StateDeleted {
		t.Fatalf("state %v", rec.State)
	}
	// The connector finds it cancelled and reports it: the refund and the receipt follow.
	if m.Claim() {
		t.Fatal("a cancelled message was claimed")
	}
	th.Failed(m, 0, msg.StateDeleted)
	m.Release()
	if credit.Balance().Micros() != 3_000_000 {
		t.Fatalf("balance %d after cancel", credit.Balance().Micros())
	}
	if got := th.out.take(); len(got) != 1 || decodeDeliver(t, got[0]).ESMClass != codec.ESMClassDeliveryReceipt {
		t.Fatalf("receipt for the cancelled message: %+v", got)
	}
	wantStatus(t, cancel(th, p, id.String(), "", ""), codec.StatusCancelFail) // already final
}

func TestCancelAfterClaim(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{})
	m, id := submitted(t, th, p, 0, "x")
	m.Claim()
	wantStatus(t, cancel(th, p, id.String(), "", ""), codec.StatusCancelFail)
	wantStatus(t, cancel(th, p, "", "4915100000", "4916200000"), codec.StatusCancelFail) // cancel-all form
	// A connector that can cancel upstream is asked only when the answer
	// can wait for the upstream's: a request the engine did not make (no
	// token) is refused here. The deferred forms run in e2e_real_test.go.
	asked := 0
	th.conns[0].cancelUp = func(msg.ID, *codec.CancelSM, connector.UpstreamDone) bool { asked++; return true }
	th.conns[0].replaceUp = func(msg.ID, *codec.ReplaceSM, connector.UpstreamDone) bool { asked++; return true }
	th.conns[0].caps = connector.Caps{Cancel: true, Replace: true}
	th.Hub.upIDs = newRevIDs()
	th.Hub.cs().forwards[0] = true
	th.Accepted(m, []byte("UP-77"))
	wantStatus(t, cancel(th, p, id.String(), "", ""), codec.StatusCancelFail)
	wantStatus(t, replace(th, p, &codec.ReplaceSM{MessageID: []byte(id.String()), ShortMessage: []byte("ok")}), codec.StatusReplaceFail)
	if asked != 0 {
		t.Fatalf("upstream asked %d times for requests that cannot be deferred", asked)
	}
	if rec := th.store.record(t, id); rec.State != msg.StateEnroute || string(rec.TextPrefix()) != "x" {
		t.Fatalf("record changed: %+v", rec)
	}
}

func TestCancelAfterHandOverLeavesMessageAlone(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{})
	m, id := submitted(t, th, p, 0, "x")
	// Once the connector reported it, the live index no longer names m
	// (the connector may recycle it at once): cancel must not reach it.
	th.Accepted(m, nil)
	wantStatus(t, cancel(th, p, id.String(), "", ""), codec.StatusCancelFail)
	if m.Phase() != msg.PhaseQueued {
		t.Fatal("a message the index had let go of was cancelled")
	}
}

func TestReplace(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{receipts: true})
	m, id := submitted(t, th, p, 0, "old text")
	r := &codec.ReplaceSM{MessageID: []byte(id.String()), ShortMessage: []byte("new text"), RegisteredDelivery: 1,
		SMDefaultMsgID: 3, ValidityPeriod: []byte("000000010000000R"), ScheduleDeliveryTime: []byte("000000000500000R")}
	th.clock.Add(time.Minute)
	wantStatus(t, replace(th, p, r), codec.StatusOK)
	now := th.clock.Now()
	if string(m.ShortMessage) != "new text" || m.RegisteredDelivery != 1 || m.SMDefaultMsgID != 3 ||
		m.Expires != now.Add(time.Hour).UnixNano() || m.Schedule != now.Add(5*time.Minute).UnixNano() ||
		string(m.ValidityPeriod) != "000000010000000R" || m.Phase() != msg.PhaseQueued {
		t.Fatalf("replaced %+v", m)
	}
	rec := th.store.record(t, id)
	if string(rec.TextPrefix()) != "new text" || rec.RegisteredDelivery != 1 || rec.Submitted != now.UnixNano() ||
		th.live.lookup(id) != m {
		t.Fatalf("record %+v", rec)
	}
	// Empty times keep the old ones; a payload replaces short_message.
	r2 := &codec.ReplaceSM{MessageID: []byte(id.String())}
	r2.TLVs.Add(codec.TagMessagePayload, []byte("payload text"))
	wantStatus(t, replace(th, p, r2), codec.StatusOK)
	if v, _ := m.Payload(); len(m.ShortMessage) != 0 || string(v) != "payload text" ||
		m.Expires != now.Add(time.Hour).UnixNano() {
		t.Fatalf("payload replace %+v", m)
	}
	r3 := &codec.ReplaceSM{MessageID: []byte(id.String()), ShortMessage: []byte("back")}
	wantStatus(t, replace(th, p, r3), codec.StatusOK)
	if _, ok := m.Payload(); ok || string(m.ShortMessage) != "back" {
		t.Fatal("payload kept next to a short_message")
	}

	bad := *r
	bad.ValidityPeriod = []byte("nonsense")
	wantStatus(t, replace(th, p, &bad), codec.StatusInvExpiry)
	bad = *r
	bad.ScheduleDeliveryTime = []byte("99")
	wantStatus(t, replace(th, p, &bad), codec.StatusInvSched)
	bad = *r
	bad.ScheduleDeliveryTime = []byte("000000020000000R") // after the new validity
	wantStatus(t, replace(th, p, &bad), codec.StatusInvSched)
	noRcpt := newUser(t, "alice2", userSpec{})
	wantStatus(t, replace(th, noRcpt, r), codec.StatusReplaceFail) // not the owner
	m.Claim()
	wantStatus(t, replace(th, p, r), codec.StatusReplaceFail)
}

func TestReplaceReceiptsRight(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{})
	_, id := submitted(t, th, p, 0, "x")
	wantStatus(t, replace(th, p, &codec.ReplaceSM{MessageID: []byte(id.String()), RegisteredDelivery: 1}), codec.StatusInvRegDlvFlg)
}

func TestAppendWithout(t *testing.T) {
	var tl codec.TLVs
	tl.AddUint16(codec.TagSourcePort, 1)
	tl.Add(codec.TagMessagePayload, []byte("pp"))
	tl.AddUint16(codec.TagDestinationPort, 2)
	b := append([]byte(nil), tl.Raw()...)
	b = appendWithout(b, codec.TagMessagePayload)
	var back codec.TLVs
	if err := back.SetRaw(b); err != nil || back.Len() != 2 || back.Has(codec.TagMessagePayload) {
		t.Fatalf("%x %v", b, err)
	}
}
