package flow

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

func TestSubmitQueuesAndRecords(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{group: "g1"})
	req := sm("12345", "+4915112345678", "hello")
	req.ServiceType, req.ProtocolID, req.DataCoding = []byte("CMT"), 7, 3
	req.TLVs.AddUint16(codec.TagUserMessageReference, 42)
	st, id := th.submit(p, req)
	wantStatus(t, st, codec.StatusOK)
	if len(id) != 16 {
		t.Fatalf("id %q is not 16 hex digits", id)
	}
	mid := mustID(t, id)
	m := th.conns[0].pop(t)
	if m.ID != mid || string(m.Source) != "12345" || string(m.Dest) != "+4915112345678" ||
		string(m.ShortMessage) != "hello" || string(m.ServiceType) != "CMT" || m.ProtocolID != 7 ||
		m.DataCoding != 3 || m.SystemID != "alice" || m.Group != "g1" || m.Parts != 1 || m.Connector != 0 {
		t.Fatalf("message %+v", m)
	}
	if v, ok := msg.FindTLV(m.TLVs, uint16(codec.TagUserMessageReference)); !ok || len(v) != 2 || v[1] != 42 {
		t.Fatalf("TLVs not copied: %x", m.TLVs)
	}
	if m.Owner != nil {
		t.Fatal("an unlimited user's message carries a charge")
	}
	if m.Expires != th.clock.Now().Add(DefaultValidity).UnixNano() || m.Schedule != 0 {
		t.Fatalf("expires %d schedule %d", m.Expires, m.Schedule)
	}
	rec := th.store.record(t, mid)
	if rec.SystemID != "alice" || rec.State != msg.StateEnroute || th.live.lookup(mid) != m ||
		string(rec.SourceAddr()) != "12345" || string(rec.TextPrefix()) != "hello" || rec.Connector != 0 {
		t.Fatalf("record %+v", rec)
	}
	if s := th.Stats(); s.SubmitsAccepted != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSubmitRefusals(t *testing.T) {
	th := newHub(t, hubSpec{routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "de", Kind: "static", Connectors: []string{"a"},
			FilterConfig: routing.FilterConfig{DestPrefixes: []string{"49"}}}},
	}})
	noRcpt := newUser(t, "bob", userSpec{sourceAddrs: []string{"1"}})
	f := func(name string, p principal, req *codec.SM, want codec.Status, r Refusal) {
		t.Helper()
		before := th.Stats().RefusedBy(r)
		st, id := th.submit(p, req)
		if st != want || id != "" {
			t.Fatalf("%s: status %v id %q, want %v", name, st, id, want)
		}
		if th.Stats().RefusedBy(r) != before+1 {
			t.Fatalf("%s: refusal %v not counted", name, r)
		}
	}
	r := sm("1", "491", "x")
	r.RegisteredDelivery = 1
	f("receipt without the right", noRcpt, r, codec.StatusInvRegDlvFlg, RefuseReceipts)
	f("source refused", noRcpt, sm("bad1", "491", "x"), codec.StatusInvSrcAdr, RefuseSource)
	f("no destination", noRcpt, sm("1", "", "x"), codec.StatusInvDstAdr, RefuseDest)
	f("no route", noRcpt, sm("1", "331", "x"), codec.StatusInvDstAdr, RefuseNoRoute)
	r = sm("1", "491", "x")
	r.ValidityPeriod = []byte("251331000000000+")
	f("bad validity", noRcpt, r, codec.StatusInvExpiry, RefuseValidity)
	r = sm("1", "491", "x")
	r.ValidityPeriod = []byte("250630110000000+") // an hour before the clock
	f("past validity", noRcpt, r, codec.StatusInvExpiry, RefuseValidity)
	r = sm("1", "491", "x")
	r.ScheduleDeliveryTime = []byte("25063012000000xR")
	f("bad schedule", noRcpt, r, codec.StatusInvSched, RefuseSchedule)
	r = sm("1", "491", "x")
	r.ScheduleDeliveryTime, r.ValidityPeriod = []byte("000002000000000R"), []byte("000001000000000R")
	f("schedule after validity", noRcpt, r, codec.StatusInvSched, RefuseSchedule)
	r = sm("1", "491", "\x05\x00\x03")
	r.ESMClass = codec.ESMClassUDHI
	f("truncated UDH", noRcpt, r, codec.StatusInvEsmClass, RefuseMessage)
	r = sm("1", "491", "x")
	r.TLVs.AddUint16(codec.TagSarMsgRefNum, 7)
	f("SAR incomplete", noRcpt, r, codec.StatusInvOptParamVal, RefuseMessage)
	r = sm("1", "491", "x")
	r.PriorityFlag = 4
	f("priority", noRcpt, r, codec.StatusInvPrtFlg, RefusePriority)
	if th.conns[0].queued() != 0 {
		t.Fatal("a refused request reached the connector")
	}
}

func TestSubmitDefaultSource(t *testing.T) {
	th := newHub(t, hubSpec{})
	// An empty source_addr takes the default; another source must pass the patterns.
	p := newUser(t, "carol", userSpec{defaultSource: "INFO", sourceAddrs: []string{"INFO"}})
	st, _ := th.submit(p, sm("", "491", "x"))
	wantStatus(t, st, codec.StatusOK)
	if m := th.conns[0].pop(t); string(m.Source) != "INFO" {
		t.Fatalf("source %q", m.Source)
	}
	st, _ = th.submit(p, sm("OTHER", "491", "x"))
	wantStatus(t, st, codec.StatusInvSrcAdr)
}

func TestSubmitTimes(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{})
	now := th.clock.Now()
	r := sm("1", "2", "x")
	r.ValidityPeriod = []byte("000000020000000R")       // 2 hours
	r.ScheduleDeliveryTime = []byte("250630140000004+") // 13:00 UTC
	st, _ := th.submit(p, r)
	wantStatus(t, st, codec.StatusOK)
	m := th.conns[0].pop(t)
	if m.Expires != now.Add(2*time.Hour).UnixNano() {
		t.Fatalf("expires %v", time.Unix(0, m.Expires).UTC())
	}
	if m.Schedule != now.Add(time.Hour).UnixNano() {
		t.Fatalf("schedule %v", time.Unix(0, m.Schedule).UTC())
	}
	if string(m.ValidityPeriod) != "000000020000000R" || string(m.ScheduleDeliveryTime) != "250630140000004+" {
		t.Fatal("times not passed on as received")
	}
	// A schedule beyond the default validity carries the default along.
	r = sm("1", "2", "x")
	r.ScheduleDeliveryTime = []byte("000003000000000R")
	st, _ = th.submit(p, r)
	wantStatus(t, st, codec.StatusOK)
	m = th.conns[0].pop(t)
	if m.Expires != now.Add(72*time.Hour+DefaultValidity).UnixNano() {
		t.Fatalf("expires %v", time.Unix(0, m.Expires).UTC())
	}
}

func TestSubmitParts(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{})
	f := func(name string, req *codec.SM, parts int, ref uint16, num, total uint8) {
		t.Helper()
		st, _ := th.submit(p, req)
		wantStatus(t, st, codec.StatusOK)
		m := th.conns[0].pop(t)
		if m.Parts != parts || m.PartRef != ref || m.PartNum != num || m.PartTotal != total {
			t.Fatalf("%s: parts %d ref %d %d/%d", name, m.Parts, m.PartRef, m.PartNum, m.PartTotal)
		}
	}
	r := sm("1", "2", "\x05\x00\x03\x2a\x03\x02part two")
	r.ESMClass = codec.ESMClassUDHI
	f("UDH8", r, 1, 0x2a, 2, 3)
	r = sm("1", "2", "\x06\x08\x04\x01\x02\x02\x01one")
	r.ESMClass = codec.ESMClassUDHI
	f("UDH16", r, 1, 0x0102, 1, 2)
	r = sm("1", "2", "sar part")
	r.TLVs.AddUint16(codec.TagSarMsgRefNum, 300)
	r.TLVs.AddUint8(codec.TagSarTotalSegments, 4)
	r.TLVs.AddUint8(codec.TagSarSegmentSeqnum, 4)
	f("SAR", r, 1, 300, 4, 4)
	r = sm("1", "2", "")
	r.TLVs.Add(codec.TagMessagePayload, []byte(strings.Repeat("a", 400)))
	f("GSM7 payload of 400", r, 3, 0, 0, 0)
	r = sm("1", "2", "")
	r.DataCoding = codec.DataCodingUCS2
	r.TLVs.Add(codec.TagMessagePayload, bytes.Repeat([]byte{0, 'a'}, 71))
	f("UCS2 payload of 71 units", r, 2, 0, 0, 0)
	r = sm("1", "2", "")
	r.TLVs.Add(codec.TagMessagePayload, bytes.Repeat([]byte{0xe9}, 161))
	f("Latin-1 octets in a GSM7 payload count as octets", r, 2, 0, 0, 0)
	r = sm("1", "2", strings.Repeat("b", 160))
	f("short_message is one part", r, 1, 0, 0, 0)
	r = sm("1", "2", "")
	r.TLVs.Add(codec.TagMessagePayload, []byte(strings.Repeat("a", 153*255+1)))
	st, _ := th.submit(p, r)
	wantStatus(t, st, codec.StatusInvMsgLen)
}

func TestSubmitCharging(t *testing.T) {
	th := newHub(t, hubSpec{routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "paid", Kind: "default", Connectors: []string{"a"}, Rate: 0.5}},
	}})
	p := newUser(t, "payer", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(2_000_000)}}) // 2.0
	credit := p.User().Limits.Credit()
	r := sm("1", "2", "")
	r.TLVs.Add(codec.TagMessagePayload, []byte(strings.Repeat("a", 300))) // 2 parts: 1.0
	st, _ := th.submit(p, r)
	wantStatus(t, st, codec.StatusOK)
	if b := credit.Balance().Micros(); b != 1_000_000 {
		t.Fatalf("balance %d after 2 parts at 0.5", b)
	}
	m := th.conns[0].pop(t)
	if _, ok := m.Owner.(*chargeBox); !ok {
		t.Fatal("charge not kept with the message")
	}
	// The upstream refuses it: the charge comes back.
	th.Failed(m, 0x45, msg.StateRejected)
	m.Release()
	if b := credit.Balance().Micros(); b != 2_000_000 {
		t.Fatalf("balance %d after refund", b)
	}
	// Credit runs out after 4 single parts.
	for i := range 5 {
		st, _ := th.submit(p, sm("1", "2", "x"))
		if want := codec.StatusOK; i == 4 {
			wantStatus(t, st, codec.StatusSubmitFail)
		} else {
			wantStatus(t, st, want)
		}
	}
	if got := th.Stats().RefusedBy(RefuseBalance); got != 1 {
		t.Fatalf("balance refusals %d", got)
	}
}

func TestSubmitThrottleBurst(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "fast", userSpec{limits: accounts.UserLimits{Throughput: 1, Burst: 3}})
	for i := range 3 {
		st, _ := th.submit(p, sm("1", "2", "x"))
		if st != codec.StatusOK {
			t.Fatalf("burst message %d: %v", i, st)
		}
	}
	st, _ := th.submit(p, sm("1", "2", "x"))
	wantStatus(t, st, codec.StatusThrottled)
	th.clock.Add(time.Second)
	st, _ = th.submit(p, sm("1", "2", "x"))
	wantStatus(t, st, codec.StatusOK)
}

func TestSubmitQueueFullFailover(t *testing.T) {
	th := newHub(t, hubSpec{conns: 3, routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "fo", Kind: "failover", Connectors: []string{"a", "b", "c"}, Rate: 1}},
	}})
	p := newUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000)}})
	credit := p.User().Limits.Credit()
	a, b, c := th.conns[0], th.conns[1], th.conns[2]
	a.cap, b.cap, c.cap = 1, 1, 1
	b.down = true
	st, _ := th.submit(p, sm("1", "2", "first"))
	wantStatus(t, st, codec.StatusOK)
	st, id := th.submit(p, sm("1", "2", "second")) // a full, b down: c
	wantStatus(t, st, codec.StatusOK)
	if c.queued() != 1 || b.queued() != 0 {
		t.Fatalf("failover went to b=%d c=%d", b.queued(), c.queued())
	}
	if rec := th.store.record(t, mustID(t, id)); rec.Connector != 2 {
		t.Fatalf("record connector %d", rec.Connector)
	}
	puts := th.store.puts
	st, id = th.submit(p, sm("1", "2", "third")) // every ring full
	wantStatus(t, st, codec.StatusMsgQFul)
	if id != "" {
		t.Fatal("an id for a refused message")
	}
	// Refused before anything was stored or charged: a bounded store
	// evicts nothing for it, and there is nothing to refund.
	s := th.Stats()
	if s.Failovers != 1 || s.QueueFull != 1 || s.RefusedBy(RefuseQueueFull) != 1 || s.Refunds != 0 {
		t.Fatalf("stats %+v", s)
	}
	if bal := credit.Balance().Micros(); bal != 8_000_000 {
		t.Fatalf("balance %d: the refused message was charged", bal)
	}
	if th.store.puts != puts || th.store.deletes != 0 {
		t.Fatalf("%d records stored, %d deleted for a refused message", th.store.puts-puts, th.store.deletes)
	}

	// A ring that fills between the check and the push (the race the
	// check cannot close): stored, then refused, refunded and deleted.
	a.cap, c.cap = 0, 0
	a.racing, c.racing = true, true
	st, _ = th.submit(p, sm("1", "2", "fourth"))
	wantStatus(t, st, codec.StatusMsgQFul)
	if s := th.Stats(); s.Refunds != 1 || th.store.deletes != 1 || credit.Balance().Micros() != 8_000_000 {
		t.Fatalf("refunds %d, deletes %d, balance %d", s.Refunds, th.store.deletes, credit.Balance().Micros())
	}
}

func TestSubmitConcatenatedAffinity(t *testing.T) {
	th := newHub(t, hubSpec{conns: 2, routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "rr", Kind: "roundrobin", Connectors: []string{"a", "b"}}},
	}})
	p := newUser(t, "alice", userSpec{})
	part := func(ref, seq byte, dst string) *codec.SM {
		r := sm("1", dst, string([]byte{5, 0, 3, ref, 3, seq})+"text")
		r.ESMClass = codec.ESMClassUDHI
		return r
	}
	for seq := byte(1); seq <= 3; seq++ {
		st, _ := th.submit(p, part(9, seq, "491"))
		wantStatus(t, st, codec.StatusOK)
	}
	a, b := th.conns[0].queued(), th.conns[1].queued()
	if a+b != 3 || (a != 3 && b != 3) {
		t.Fatalf("parts split over connectors: a=%d b=%d", a, b)
	}
	// Plain messages still alternate; another ref or destination is routed afresh.
	for range 2 {
		st, _ := th.submit(p, sm("1", "2", "x"))
		wantStatus(t, st, codec.StatusOK)
	}
	if th.conns[0].queued()+th.conns[1].queued() != 5 || th.conns[0].queued() == 5 || th.conns[1].queued() == 5 {
		t.Fatalf("round robin stuck: a=%d b=%d", th.conns[0].queued(), th.conns[1].queued())
	}
	// After the affinity lifetime the key is routed afresh.
	key := th.aff.key("alice", []byte("491"), 9)
	if _, ok := th.aff.get(key, th.clock.Now()); !ok {
		t.Fatal("affinity not remembered")
	}
	if _, ok := th.aff.get(key, th.clock.Now().Add(affinityTTL*time.Minute)); ok {
		t.Fatal("affinity outlived its TTL")
	}
}

func TestSubmitAllDownStillQueues(t *testing.T) {
	th := newHub(t, hubSpec{})
	th.conns[0].down = true
	p := newUser(t, "alice", userSpec{})
	st, _ := th.submit(p, sm("1", "2", "x"))
	wantStatus(t, st, codec.StatusOK)
	if th.conns[0].queued() != 1 {
		t.Fatal("message not queued on its down connector")
	}
}

func TestDataSM(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{})
	d := &codec.DataSM{SourceAddr: []byte("1"), DestinationAddr: []byte("2"), DataCoding: codec.DataCodingUCS2}
	d.TLVs.Add(codec.TagMessagePayload, []byte{0, 'h', 0, 'i'})
	d.TLVs.AddUint32(codec.TagQOSTimeToLive, 600)
	req := &engine.SubmitRequest{Command: codec.DataSMID, SystemID: "alice", DataSM: d, Principal: p.Bind}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	th.HandleSubmit(req, res)
	wantStatus(t, res.Status, codec.StatusOK)
	m := th.conns[0].pop(t)
	if m.Command != uint32(codec.DataSMID) || len(m.ShortMessage) != 0 || m.Expires != th.clock.Now().Add(10*time.Minute).UnixNano() {
		t.Fatalf("data_sm message %+v", m)
	}
	rec := th.store.record(t, m.ID)
	if string(rec.TextPrefix()) != "\x00h\x00i" {
		t.Fatalf("record text %q", rec.TextPrefix())
	}
}

func TestSubmitMulti(t *testing.T) {
	th := newHub(t, hubSpec{routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "de", Kind: "static", Connectors: []string{"a"},
			FilterConfig: routing.FilterConfig{DestPrefixes: []string{"49"}}}},
	}})
	p := newUser(t, "alice", userSpec{})
	mk := func(dests ...string) *codec.SubmitMulti {
		sm := &codec.SubmitMulti{SourceAddr: []byte("1"), ShortMessage: []byte("hi all")}
		for _, d := range dests {
			if strings.HasPrefix(d, "dl:") {
				sm.Dests.AddDL([]byte(d[3:]))
			} else {
				sm.Dests.AddSME(1, 1, []byte(d))
			}
		}
		return sm
	}
	run := func(m *codec.SubmitMulti) *engine.SubmitResult {
		res := &engine.SubmitResult{MessageID: make([]byte, 0, 65), Unsuccess: new(codec.UnsuccessList)}
		th.HandleSubmit(&engine.SubmitRequest{Command: codec.SubmitMultiID, SystemID: "alice", SubmitMulti: m, Principal: p.Bind}, res)
		return res
	}
	res := run(mk("491", "dl:friends", "331", "492"))
	wantStatus(t, res.Status, codec.StatusOK)
	if res.Unsuccess.Len() != 2 {
		t.Fatalf("unsuccess %d", res.Unsuccess.Len())
	}
	if u := res.Unsuccess.At(0); string(u.Addr) != "friends" || u.Status != codec.StatusInvDLName {
		t.Fatalf("unsuccess 0: %+v", u)
	}
	if u := res.Unsuccess.At(1); string(u.Addr) != "331" || u.Status != codec.StatusInvDstAdr || u.TON != 1 {
		t.Fatalf("unsuccess 1: %+v", u)
	}
	id := mustID(t, string(res.MessageID))
	m1, m2 := th.conns[0].pop(t), th.conns[0].pop(t)
	if m1.ID != id || m2.ID != id || string(m1.Dest) != "491" || string(m2.Dest) != "492" {
		t.Fatal("destinations do not share the id")
	}
	if rec := th.store.record(t, id); th.live.lookup(id) != nil || string(rec.DestAddr()) != "491" {
		t.Fatalf("multi record %+v", rec)
	}
	res = run(mk("331", "dl:x"))
	wantStatus(t, res.Status, codec.StatusInvDstAdr)
	if len(res.MessageID) != 0 {
		t.Fatal("id for a refused submit_multi")
	}
}

func TestSubmitFromDisabledUserRefused(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "dora", userSpec{})
	st, _ := th.submit(p, sm("1", "491", "x"))
	wantStatus(t, st, codec.StatusOK)
	p.setEnabled(t, false) // the Store publishes a disabled record to the bound session
	before := th.Stats().RefusedBy(RefuseDisabled)
	st, id := th.submit(p, sm("1", "491", "x"))
	wantStatus(t, st, codec.StatusSubmitFail)
	if id != "" || th.Stats().RefusedBy(RefuseDisabled) != before+1 {
		t.Fatalf("id %q, refusals %d", id, th.Stats().RefusedBy(RefuseDisabled))
	}
}

// With MayWait a full ring is not a refusal: the hub undoes its work (record,
// charge, throughput tokens) and asks the engine to hold the request.
func TestSubmitQueueFullWaits(t *testing.T) {
	th := newHub(t, hubSpec{conns: 1, routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "d", Kind: "default", Connectors: []string{"a"}, Rate: 1}},
	}})
	p := newUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000), Throughput: 1, Burst: 2}})
	credit := p.User().Limits.Credit()
	th.conns[0].cap = 1
	st, _ := th.submit(p, sm("1", "2", "first"))
	wantStatus(t, st, codec.StatusOK)
	waitOnce := func() *engine.SubmitResult {
		req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: p.SystemID(), SubmitSM: sm("1", "2", "second"),
			Principal: p.Bind, MayWait: true}
		res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
		th.HandleSubmit(req, res)
		return res
	}
	for range 3 { // every retry finds the ring full
		if res := waitOnce(); !res.Wait || len(res.MessageID) != 0 {
			t.Fatalf("full ring with MayWait: Wait %v id %q", res.Wait, res.MessageID)
		}
	}
	s := th.Stats()
	if s.QueueFull != 0 || s.RefusedBy(RefuseQueueFull) != 0 {
		t.Fatalf("a wait counted as a refusal: %+v", s)
	}
	if bal := credit.Balance().Micros(); bal != 9_000_000 {
		t.Fatalf("balance %d: a held message stayed charged", bal)
	}
	if th.store.puts != 1 || th.store.deletes != 0 {
		t.Fatalf("%d records put, %d deleted: a wait must not touch the store", th.store.puts, th.store.deletes)
	}
	// The burst of 2 still has its second token: the waits took none.
	th.conns[0].cap = 2
	st, _ = th.submit(p, sm("1", "2", "second"))
	wantStatus(t, st, codec.StatusOK)
	// A stopped connector is no reason to wait: answered at once.
	th.conns[0].closed = true
	th.clock.Add(time.Second) // a token again
	if res := waitOnce(); res.Wait || res.Status != codec.StatusMsgQFul {
		t.Fatalf("stopped connector: Wait %v status %v", res.Wait, res.Status)
	}
	if s := th.Stats(); s.QueueFull != 1 || s.RefusedBy(RefuseQueueFull) != 1 {
		t.Fatalf("stopped connector refusal not counted: %+v", s)
	}
}

// With TurnEnd a Helped connector gets the message quietly; EndTurn helps
// it once for the batch, and not again until another message.
func TestSubmitHelpsAtEndTurn(t *testing.T) {
	th := newHub(t, hubSpec{helped: true})
	p := newUser(t, "alice", userSpec{})
	hc := th.helped[0]
	for range 3 {
		req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: p.SystemID(), SubmitSM: sm("1", "2", "x"),
			Principal: p.Bind, TurnEnd: true}
		res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
		th.HandleSubmit(req, res)
		wantStatus(t, res.Status, codec.StatusOK)
	}
	if hc.quietSubs.Load() != 3 || hc.helps.Load() != 0 {
		t.Fatalf("before EndTurn: %d quiet submits, %d helps", hc.quietSubs.Load(), hc.helps.Load())
	}
	th.EndTurn()
	th.EndTurn()
	if hc.helps.Load() != 1 {
		t.Fatalf("%d helps after two EndTurns, want 1", hc.helps.Load())
	}
	// Without TurnEnd (a caller that never ends turns) the plain Submit wakes.
	st, _ := th.submit(p, sm("1", "2", "y"))
	wantStatus(t, st, codec.StatusOK)
	if hc.quietSubs.Load() != 3 || th.conns[0].queued() != 4 {
		t.Fatalf("plain submit went quiet: %d quiet, %d queued", hc.quietSubs.Load(), th.conns[0].queued())
	}
}
