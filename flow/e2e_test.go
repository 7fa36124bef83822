package flow

import (
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

func defaultRoutes(conns ...string) routing.Config {
	return routing.Config{
		MT: []routing.MTRouteConfig{{Name: "all", Kind: "default", Connectors: conns[:1]}},
		MO: []routing.MORouteConfig{{Name: "mo", User: "alice"}},
	}
}

func TestE2EReceiptIDMatchesSubmit(t *testing.T) {
	st := newMemStore()
	e := startEnv(t, envSpec{routes: defaultRoutes("up"), msgs: st, holds: st,
		connectors: []connector.Connector{newChanConn("up", 64, msg.StateDelivered)}})
	e.addUser(t, "alice", userSpec{receipts: true})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	p := sm("12345", "4915112345678", "hello e2e")
	p.RegisteredDelivery = 1
	status, id := c.submit(p)
	wantStatus(t, status, codec.StatusOK)
	d := c.deliver(codec.StatusOK)
	if d.ESMClass != codec.ESMClassDeliveryReceipt {
		t.Fatalf("esm_class %#x", d.ESMClass)
	}
	rid, _ := d.TLVs.CString(codec.TagReceiptedMessageID)
	r, err := receipt.Parse(d.ShortMessage)
	if err != nil || string(rid) != id || string(r.ID) != id || r.Stat != receipt.StatDelivered {
		t.Fatalf("receipt %q (TLV id %q) for submit id %q", d.ShortMessage, rid, id)
	}
	eventually(t, "receipt acknowledged", func() bool { return e.stats().ReceiptsDelivered == 1 })
}

func TestE2ECreditRunsOut(t *testing.T) {
	st := newMemStore()
	routes := routing.Config{MT: []routing.MTRouteConfig{{Name: "paid", Kind: "default", Connectors: []string{"up"}, Rate: 0.25}}}
	e := startEnv(t, envSpec{routes: routes, msgs: st, holds: st, connectors: []connector.Connector{newChanConn("up", 64, 0)}})
	p := e.addUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(1_000_000)}}) // 4 parts
	c := e.bind(t, codec.BindTransmitterID, "alice")
	long := sm("1", "2", "")
	long.TLVs.Add(codec.TagMessagePayload, []byte(strings.Repeat("x", 200))) // 2 parts
	status, _ := c.submit(long)
	wantStatus(t, status, codec.StatusOK)
	for i := range 3 {
		status, id := c.submit(sm("1", "2", "one part"))
		if i < 2 {
			wantStatus(t, status, codec.StatusOK)
			continue
		}
		wantStatus(t, status, codec.StatusSubmitFail)
		if id != "" {
			t.Fatal("id on a refusal")
		}
	}
	if b := p.User().Limits.Credit().Balance().Micros(); b != 0 {
		t.Fatalf("balance %d", b)
	}
}

func TestE2EThrottleBurst(t *testing.T) {
	st := newMemStore()
	e := startEnv(t, envSpec{routes: defaultRoutes("up"), msgs: st, holds: st, connectors: []connector.Connector{newChanConn("up", 64, 0)}})
	// One part per hour after a burst of 3: the fourth is refused whatever the machine's speed.
	e.addUser(t, "alice", userSpec{limits: accounts.UserLimits{Throughput: 1.0 / 3600, Burst: 3}})
	c := e.bind(t, codec.BindTransmitterID, "alice")
	for i := range 4 {
		status, _ := c.submit(sm("1", "2", "x"))
		if i < 3 {
			wantStatus(t, status, codec.StatusOK)
		} else {
			wantStatus(t, status, codec.StatusThrottled)
		}
	}
}

func TestE2EFailover(t *testing.T) {
	st := newMemStore()
	a, b, c := newChanConn("a", 1, 0), newChanConn("b", 4, 0), newChanConn("c", 4, 0)
	a.release, b.release, c.release = make(chan struct{}), make(chan struct{}), make(chan struct{}) // nothing drains
	b.down = true
	routes := routing.Config{MT: []routing.MTRouteConfig{{Name: "fo", Kind: "failover", Connectors: []string{"a", "b", "c"}}}}
	e := startEnv(t, envSpec{routes: routes, msgs: st, holds: st, connectors: []connector.Connector{a, b, c}})
	e.addUser(t, "alice", userSpec{})
	cl := e.bind(t, codec.BindTransmitterID, "alice")
	for range 5 { // a takes 1 (its ring is then full), b is down, c takes 4
		status, _ := cl.submit(sm("1", "2", "x"))
		wantStatus(t, status, codec.StatusOK)
	}
	status, _ := cl.submit(sm("1", "2", "x"))
	wantStatus(t, status, codec.StatusMsgQFul)
	if len(a.ch) != 1 || len(b.ch) != 0 || len(c.ch) != 4 {
		t.Fatalf("queued a=%d b=%d c=%d", len(a.ch), len(b.ch), len(c.ch))
	}
	if s := e.stats(); s.Failovers != 4 || s.QueueFull != 1 {
		t.Fatalf("stats %+v", s)
	}
	close(a.release)
	close(b.release)
	close(c.release)
}

func TestE2EHeldMODeliveredAtBind(t *testing.T) {
	st := newMemStore()
	e := startEnv(t, envSpec{routes: defaultRoutes("up"), msgs: st, holds: st, connectors: []connector.Connector{newChanConn("up", 64, 0)}})
	e.addUser(t, "alice", userSpec{})
	tx := e.bind(t, codec.BindTransmitterID, "alice") // a transmitter cannot receive
	if err := e.dl.InjectMO(&msg.Inbound{Source: []byte("4917"), Dest: []byte("1234"), ShortMessage: []byte("held MO")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "MO held", func() bool { return e.stats().MOHeld == 1 })
	tx.noDeliver(0)
	rx := e.bind(t, codec.BindReceiverID, "alice")
	d := rx.deliver(codec.StatusOK)
	if string(d.ShortMessage) != "held MO" || string(d.SourceAddr) != "4917" {
		t.Fatalf("MO %+v", d)
	}
	eventually(t, "MO acknowledged", func() bool { return e.stats().MODelivered == 1 })
}

func TestE2EHoldExpiry(t *testing.T) {
	st := newMemStore()
	e := startEnv(t, envSpec{routes: defaultRoutes("up"), msgs: st, holds: st, connectors: []connector.Connector{newChanConn("up", 64, 0)},
		dmod: func(o *delivery.Options) { o.HoldLifetime = 200 * time.Millisecond }})
	e.addUser(t, "alice", userSpec{})
	if err := e.dl.InjectMO(&msg.Inbound{Source: []byte("4917"), Dest: []byte("1234"), ShortMessage: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "MO expired", func() bool { s := e.stats(); return s.MOExpired == 1 && s.HeldNow == 0 })
	rx := e.bind(t, codec.BindReceiverID, "alice")
	rx.noDeliver(300 * time.Millisecond)
}

func TestE2EConcatenatedMT(t *testing.T) {
	st := newMemStore()
	a, b := newChanConn("a", 64, 0), newChanConn("b", 64, 0)
	a.release, b.release = make(chan struct{}), make(chan struct{})
	routes := routing.Config{MT: []routing.MTRouteConfig{{Name: "rr", Kind: "roundrobin", Connectors: []string{"a", "b"}, Rate: 1}}}
	e := startEnv(t, envSpec{routes: routes, msgs: st, holds: st, connectors: []connector.Connector{a, b}})
	p := e.addUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000)}})
	c := e.bind(t, codec.BindTransmitterID, "alice")
	status, _ := c.submit(sm("1", "2", "warm up the rotation"))
	wantStatus(t, status, codec.StatusOK)
	for seq := byte(1); seq <= 3; seq++ {
		part := sm("1", "4915112345678", string([]byte{5, 0, 3, 0x5a, 3, seq})+strings.Repeat("p", 100))
		part.ESMClass = codec.ESMClassUDHI
		status, _ := c.submit(part)
		wantStatus(t, status, codec.StatusOK)
	}
	if !(len(a.ch) == 3 && len(b.ch) == 1) && !(len(a.ch) == 1 && len(b.ch) == 3) {
		t.Fatalf("parts spread: a=%d b=%d", len(a.ch), len(b.ch))
	}
	if bal := p.User().Limits.Credit().Balance().Micros(); bal != 6_000_000 {
		t.Fatalf("balance %d: want 4 charges", bal)
	}
	close(a.release)
	close(b.release)
}

func TestE2EMOReassembly(t *testing.T) {
	st := newMemStore()
	e := startEnv(t, envSpec{routes: defaultRoutes("up"), msgs: st, holds: st, connectors: []connector.Connector{newChanConn("up", 64, 0)},
		dmod: func(o *delivery.Options) { o.ReassembleMO = true }})
	e.addUser(t, "alice", userSpec{})
	rx := e.bind(t, codec.BindReceiverID, "alice")
	for _, seq := range []byte{2, 1} {
		if err := e.dl.InjectMO(&msg.Inbound{Source: []byte("4917"), Dest: []byte("1234"), ESMClass: codec.ESMClassUDHI,
			ShortMessage: udhPart(3, 2, seq, string(rune('A'+seq-1)))}); err != nil {
			t.Fatal(err)
		}
	}
	d := rx.deliver(codec.StatusOK)
	if string(d.ShortMessage) != "AB" || d.ESMClass&codec.ESMClassUDHI != 0 {
		t.Fatalf("reassembled MO %+v", d)
	}
}

func TestE2EQueryCancelReplace(t *testing.T) {
	st := newMemStore()
	up := newChanConn("up", 64, 0)
	up.release = make(chan struct{}) // keep messages queued here
	e := startEnv(t, envSpec{routes: defaultRoutes("up"), msgs: st, holds: st, connectors: []connector.Connector{up}})
	e.addUser(t, "alice", userSpec{receipts: true})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	status, id := c.submit(sm("1", "2", "first"))
	wantStatus(t, status, codec.StatusOK)
	q := &codec.QuerySM{MessageID: []byte(id)}
	f := c.request(codec.QuerySMID, q.Append)
	var qr codec.QuerySMResp
	if err := qr.Decode(f.body); err != nil || f.h.Status != codec.StatusOK || qr.MessageState != codec.MessageStateEnroute {
		t.Fatalf("query: %v %+v %v", f.h.Status, qr, err)
	}
	r := &codec.ReplaceSM{MessageID: []byte(id), ShortMessage: []byte("replaced")}
	if f := c.request(codec.ReplaceSMID, r.Append); f.h.Status != codec.StatusOK {
		t.Fatalf("replace: %v", f.h.Status)
	}
	cn := &codec.CancelSM{MessageID: []byte(id)}
	if f := c.request(codec.CancelSMID, cn.Append); f.h.Status != codec.StatusOK {
		t.Fatalf("cancel: %v", f.h.Status)
	}
	f = c.request(codec.QuerySMID, q.Append)
	if err := qr.Decode(f.body); err != nil || qr.MessageState != codec.MessageStateDeleted || len(qr.FinalDate) != 16 {
		t.Fatalf("query after cancel: %+v %v", qr, err)
	}
	if f := c.request(codec.CancelSMID, cn.Append); f.h.Status != codec.StatusCancelFail {
		t.Fatalf("second cancel: %v", f.h.Status)
	}
	close(up.release)
}

func TestE2ESubmitMultiUnsuccess(t *testing.T) {
	st := newMemStore()
	routes := routing.Config{MT: []routing.MTRouteConfig{{Name: "de", Kind: "static", Connectors: []string{"up"},
		FilterConfig: routing.FilterConfig{DestPrefixes: []string{"49"}}}}}
	e := startEnv(t, envSpec{routes: routes, msgs: st, holds: st, connectors: []connector.Connector{newChanConn("up", 64, 0)}})
	e.addUser(t, "alice", userSpec{})
	c := e.bind(t, codec.BindTransmitterID, "alice")
	m := &codec.SubmitMulti{SourceAddr: []byte("1"), ShortMessage: []byte("to many")}
	m.Dests.AddSME(1, 1, []byte("4911"))
	m.Dests.AddSME(1, 1, []byte("3311"))
	m.Dests.AddSME(1, 1, []byte("4922"))
	f := c.request(codec.SubmitMultiID, m.Append)
	var r codec.SubmitMultiResp
	if err := r.Decode(f.body); err != nil || f.h.Status != codec.StatusOK {
		t.Fatalf("submit_multi: %v %v", f.h.Status, err)
	}
	if len(r.MessageID) != 16 || r.Unsuccess.Len() != 1 {
		t.Fatalf("resp %q unsuccess %d", r.MessageID, r.Unsuccess.Len())
	}
	if u := r.Unsuccess.At(0); string(u.Addr) != "3311" || u.Status != codec.StatusInvDstAdr {
		t.Fatalf("unsuccess %+v", u)
	}
}

func TestE2EPermanentRefusalReceiptAndRefund(t *testing.T) {
	st := newMemStore()
	up := newChanConn("up", 64, 0)
	up.refuse = uint32(codec.StatusInvDstAdr)
	routes := routing.Config{MT: []routing.MTRouteConfig{{Name: "paid", Kind: "default", Connectors: []string{"up"}, Rate: 1}}}
	e := startEnv(t, envSpec{routes: routes, msgs: st, holds: st, connectors: []connector.Connector{up}})
	p := e.addUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{Balance: accounts.Micros(5_000_000)}})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	s := sm("1", "2", "refused upstream")
	s.RegisteredDelivery = 2 // failure only
	status, id := c.submit(s)
	wantStatus(t, status, codec.StatusOK)
	d := c.deliver(codec.StatusOK)
	r, _ := receipt.Parse(d.ShortMessage)
	if string(r.ID) != id || r.Stat != receipt.StatRejected || r.ErrCode != int(codec.StatusInvDstAdr) {
		t.Fatalf("receipt %q", d.ShortMessage)
	}
	eventually(t, "refund", func() bool { return p.User().Limits.Credit().Balance().Micros() == 5_000_000 })
}
