package flow

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/charset"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/connector/smppout"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// End-to-end tests with the real components: storage/memory, connector/sim
// and connector/smppout against internal/smsctest, through the engine over
// TCP. The fakes of fakes_test.go stay for the unit tests.

// smppout is a whole connector.Connector.
var _ connector.Connector = (*smppout.Connector)(nil)

// realSpec is a routing table over real connectors and a real store.
type realSpec struct {
	routes     routing.Config
	connectors []connector.Connector
	mod        func(*Options)
	dmod       func(*delivery.Options)
	engineMod  func(*engine.Options)
}

func startReal(t *testing.T, spec realSpec) (*env, *memory.Store) {
	t.Helper()
	st := memory.New(memory.Options{MaxRecords: 10_000, MaxUpstream: 10_000, MaxHeld: 1000})
	e := startEnv(t, envSpec{routes: spec.routes, connectors: spec.connectors, msgs: st, holds: st.Holds(), mod: spec.mod, dmod: spec.dmod,
		engineMod: spec.engineMod})
	return e, st
}

func newRealSim(t *testing.T, name string, id int, o sim.Options) *sim.Connector {
	t.Helper()
	o.ID = id
	c, err := sim.New(name, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantReceipt checks a receipt deliver_sm: esm_class, receipted_message_id,
// message_state and the Appendix B text all name id and state.
func wantReceipt(t *testing.T, d *codec.SM, id string, state codec.MessageState, stat receipt.Stat) {
	t.Helper()
	if d.ESMClass != codec.ESMClassDeliveryReceipt {
		t.Fatalf("esm_class %#x, want 0x04", d.ESMClass)
	}
	rid, _ := d.TLVs.CString(codec.TagReceiptedMessageID)
	ms, ok := d.TLVs.Uint8(codec.TagMessageState)
	r, err := receipt.Parse(d.ShortMessage)
	if err != nil || string(rid) != id || string(r.ID) != id || !ok || codec.MessageState(ms) != state || r.Stat != stat {
		t.Fatalf("receipt %q (receipted_message_id %q, message_state %d %v) for id %q, want %v/%v",
			d.ShortMessage, rid, ms, ok, id, state, stat)
	}
}

func TestRealSimReceiptMatchesSubmitID(t *testing.T) {
	s := newRealSim(t, "sim", 0, sim.Options{ReceiptDelay: 20 * time.Millisecond})
	e, _ := startReal(t, realSpec{routes: defaultRoutes("sim"), connectors: []connector.Connector{s}})
	e.addUser(t, "alice", userSpec{receipts: true})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	p := sm("12345", "4915112345678", "hello sim")
	p.RegisteredDelivery = 1
	status, id := c.submit(p)
	wantStatus(t, status, codec.StatusOK)
	wantReceipt(t, c.deliver(codec.StatusOK), id, codec.MessageStateDelivered, receipt.StatDelivered)
	q := &codec.QuerySM{MessageID: []byte(id), SourceAddr: []byte("12345")}
	f := c.request(codec.QuerySMID, q.Append)
	var qr codec.QuerySMResp
	if err := qr.Decode(f.body); err != nil || f.h.Status != codec.StatusOK || qr.MessageState != codec.MessageStateDelivered ||
		string(qr.MessageID) != id {
		t.Fatalf("query_sm after the receipt: %v %+v %v", f.h.Status, qr, err)
	}
	eventually(t, "receipt acknowledged", func() bool { return e.stats().ReceiptsDelivered == 1 })
}

// Texts go out through the simulator's MO echo and come back unchanged:
// the hub copies short_message and data_coding, never transcodes them.
func TestRealSimCodingsRoundTrip(t *testing.T) {
	s := newRealSim(t, "sim", 0, sim.Options{MOEchoPrefixes: []string{"99"}})
	e, _ := startReal(t, realSpec{routes: defaultRoutes("sim"), connectors: []connector.Connector{s}})
	e.addUser(t, "alice", userSpec{})
	c := e.bind(t, codec.BindTransceiverID, "alice")

	gsm, ok := charset.AppendGSM7(nil, "€[]{}~^\\| @£$¥ Ä")
	if !ok {
		t.Fatal("GSM7 encode")
	}
	if bytes.Count(gsm, []byte{0x1B}) != 9 {
		t.Fatalf("GSM7 %x: want the 9 extension characters escaped", gsm)
	}
	// A packed copy proves the unpacked form is what our codec packs from.
	packed, err := charset.PackSeptets(nil, gsm, 0)
	if err != nil {
		t.Fatal(err)
	}
	if un, err := charset.UnpackSeptets(nil, packed, 0, len(gsm)); err != nil || !bytes.Equal(un, gsm) {
		t.Fatalf("pack/unpack: %x %v", un, err)
	}
	for _, tc := range []struct {
		name string
		dc   byte
		text []byte
		utf8 string
	}{
		{"GSM7 extension", 0x00, gsm, "€[]{}~^\\| @£$¥ Ä"},
		{"UCS2", 0x08, charset.AppendUCS2(nil, "Привет, 世界 😀 €"), "Привет, 世界 😀 €"},
	} {
		p := sm("4917000", "9912345", "")
		p.DataCoding, p.ShortMessage = tc.dc, tc.text
		status, _ := c.submit(p)
		wantStatus(t, status, codec.StatusOK)
		d := c.deliver(codec.StatusOK)
		if !bytes.Equal(d.ShortMessage, tc.text) || d.DataCoding != tc.dc || d.ESMClass != 0 ||
			string(d.SourceAddr) != "9912345" || string(d.DestinationAddr) != "4917000" {
			t.Fatalf("%s: MO %x dc %#x esm %#x %s->%s, want %x", tc.name, d.ShortMessage, d.DataCoding, d.ESMClass,
				d.SourceAddr, d.DestinationAddr, tc.text)
		}
		if got, err := charset.Decode(nil, d.DataCoding, d.ShortMessage); err != nil || string(got) != tc.utf8 {
			t.Fatalf("%s: decoded %q %v", tc.name, got, err)
		}
	}
}

// A 3-part UDH message: every part charged, every part on the connector
// the first went to, although the route round-robins.
func TestRealSimConcatenatedMT(t *testing.T) {
	a := newRealSim(t, "a", 0, sim.Options{})
	b := newRealSim(t, "b", 1, sim.Options{})
	routes := routing.Config{MT: []routing.MTRouteConfig{{Name: "rr", Kind: "roundrobin", Connectors: []string{"a", "b"}, Rate: 1}}}
	e, _ := startReal(t, realSpec{routes: routes, connectors: []connector.Connector{a, b}})
	p := e.addUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000)}})
	c := e.bind(t, codec.BindTransmitterID, "alice")
	status, _ := c.submit(sm("1", "2", "moves the rotation"))
	wantStatus(t, status, codec.StatusOK)
	for seq := byte(1); seq <= 3; seq++ {
		part := sm("1", "4915112345678", string([]byte{5, 0, 3, 0x5b, 3, seq})+"part text")
		part.ESMClass = codec.ESMClassUDHI
		status, _ := c.submit(part)
		wantStatus(t, status, codec.StatusOK)
	}
	eventually(t, "four accepted", func() bool { return a.Stats().Accepted+b.Stats().Accepted == 4 })
	if na, nb := a.Stats().Accepted, b.Stats().Accepted; !(na == 3 && nb == 1) && !(na == 1 && nb == 3) {
		t.Fatalf("parts spread: a=%d b=%d", na, nb)
	}
	if bal := p.User().Limits.Credit().Balance().Micros(); bal != 6_000_000 {
		t.Fatalf("balance %d: want 4 parts charged", bal)
	}
	if s := e.stats(); s.Refunds != 0 {
		t.Fatalf("refunds %d", s.Refunds)
	}
}

// An MO (the simulator's echo) for a user with only a transmitter bound
// is held in the store and delivered when a receiver binds.
func TestRealSimHeldMODeliveredAtBind(t *testing.T) {
	s := newRealSim(t, "sim", 0, sim.Options{MOEchoPrefixes: []string{"99"}})
	e, st := startReal(t, realSpec{routes: defaultRoutes("sim"), connectors: []connector.Connector{s}})
	e.addUser(t, "alice", userSpec{})
	tx := e.bind(t, codec.BindTransmitterID, "alice")
	status, _ := tx.submit(sm("4917000", "9900", "held echo"))
	wantStatus(t, status, codec.StatusOK)
	eventually(t, "MO held", func() bool { return e.stats().MOHeld == 1 && st.Holds().Len() == 1 })
	rx := e.bind(t, codec.BindReceiverID, "alice")
	d := rx.deliver(codec.StatusOK)
	if string(d.ShortMessage) != "held echo" || string(d.SourceAddr) != "9900" {
		t.Fatalf("MO %+v", d)
	}
	eventually(t, "MO acknowledged", func() bool { return e.stats().MODelivered == 1 && st.Holds().Len() == 0 })
}

// A held MO whose lifetime passes is counted as expired and never
// delivered, even when a receiver binds later.
func TestRealSimHoldExpiry(t *testing.T) {
	s := newRealSim(t, "sim", 0, sim.Options{MOEchoPrefixes: []string{"99"}})
	e, st := startReal(t, realSpec{routes: defaultRoutes("sim"), connectors: []connector.Connector{s},
		dmod: func(o *delivery.Options) { o.HoldLifetime = 100 * time.Millisecond }})
	e.addUser(t, "alice", userSpec{})
	tx := e.bind(t, codec.BindTransmitterID, "alice")
	status, _ := tx.submit(sm("4917000", "9900", "too late"))
	wantStatus(t, status, codec.StatusOK)
	eventually(t, "MO expired", func() bool {
		s := e.stats()
		return s.MOExpired == 1 && s.HeldNow == 0 && st.Holds().Len() == 0
	})
	rx := e.bind(t, codec.BindReceiverID, "alice")
	rx.noDeliver(200 * time.Millisecond)
	if s := e.stats(); s.MODelivered != 0 || s.MOHeld != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// upstream is an smppout connector (routing id 0) against an in-process
// SMSC, mapping ids in the real store; mods adjust the connector's options.
func startUpstream(t *testing.T, so smsctest.Options, routes routing.Config, mods ...func(*smppout.Options)) (*env, *smsctest.Server, *smppout.Connector) {
	t.Helper()
	if so.IDFormat == 0 {
		so.IDFormat = smsctest.IDHexUpper // letters: the id differs from ours in form as well as value
	}
	srv, err := smsctest.Start(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	st := memory.New(memory.Options{MaxRecords: 10_000, MaxUpstream: 10_000, MaxHeld: 1000})
	o := smppout.Options{Name: "up", ID: 0, Host: srv.Host(), Port: srv.Port(), SystemID: "us", Password: "pw",
		IDMap: storage.ConnectorIDs{IDs: st}, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		ReconnectMin: 10 * time.Millisecond, ReconnectMax: 100 * time.Millisecond}
	for _, mod := range mods {
		mod(&o)
	}
	up, err := smppout.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, envSpec{routes: routes, connectors: []connector.Connector{up}, msgs: st, holds: st.Holds()})
	eventually(t, "upstream bound", up.Up)
	return e, srv, up
}

// The upstream's receipt overtakes its submit_sm_resp; the ESME still gets
// one receipt naming our id, not the upstream's.
func TestRealUpstreamReceiptBeforeResponse(t *testing.T) {
	e, srv, up := startUpstream(t, smsctest.Options{Default: smsctest.Action{
		Receipt: smsctest.Receipt{Send: true, Before: true}}}, defaultRoutes("up"))
	e.addUser(t, "alice", userSpec{receipts: true})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	p := sm("12345", "4915112345678", "via upstream")
	p.RegisteredDelivery = 1
	status, id := c.submit(p)
	wantStatus(t, status, codec.StatusOK)
	wantReceipt(t, c.deliver(codec.StatusOK), id, codec.MessageStateDelivered, receipt.StatDelivered)
	if srv.SubmitCount() != 1 || srv.ReceiptsSent() != 1 || up.Stats().Receipts != 1 {
		t.Fatalf("SMSC submits %d receipts %d, connector receipts %d", srv.SubmitCount(), srv.ReceiptsSent(), up.Stats().Receipts)
	}
	c.noDeliver(100 * time.Millisecond)
}

// ESME_RTHROTTLED from the upstream is retried until it accepts; the
// ESME's answer was ESME_ROK from the start and its receipt follows.
func TestRealUpstreamThrottledRetried(t *testing.T) {
	var calls atomic.Int32
	e, srv, up := startUpstream(t, smsctest.Options{Script: func(*smsctest.Submit) smsctest.Action {
		if calls.Add(1) <= 3 {
			return smsctest.Action{Status: codec.StatusThrottled}
		}
		return smsctest.Action{Receipt: smsctest.Receipt{Send: true}}
	}}, defaultRoutes("up"))
	e.addUser(t, "alice", userSpec{receipts: true})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	p := sm("12345", "4915112345678", "try again")
	p.RegisteredDelivery = 1
	status, id := c.submit(p)
	wantStatus(t, status, codec.StatusOK)
	wantReceipt(t, c.deliver(codec.StatusOK), id, codec.MessageStateDelivered, receipt.StatDelivered)
	if s := up.Stats(); s.Retried != 3 || s.Accepted != 1 || srv.SubmitCount() != 4 {
		t.Fatalf("retried %d accepted %d, SMSC submits %d", s.Retried, s.Accepted, srv.SubmitCount())
	}
}

// A permanent refusal becomes a REJECTD receipt (asked for: failures only)
// and the charge is refunded.
func TestRealUpstreamPermanentRefusal(t *testing.T) {
	routes := routing.Config{MT: []routing.MTRouteConfig{{Name: "paid", Kind: "default", Connectors: []string{"up"}, Rate: 1}}}
	e, _, up := startUpstream(t, smsctest.Options{Default: smsctest.Action{Status: codec.StatusInvDstAdr}}, routes)
	p := e.addUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{Balance: accounts.Micros(5_000_000)}})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	s := sm("12345", "4915112345678", "refused upstream")
	s.RegisteredDelivery = 2 // failure only
	status, id := c.submit(s)
	wantStatus(t, status, codec.StatusOK)
	d := c.deliver(codec.StatusOK)
	wantReceipt(t, d, id, codec.MessageStateRejected, receipt.StatRejected)
	if r, _ := receipt.Parse(d.ShortMessage); r.ErrCode != int(codec.StatusInvDstAdr) {
		t.Fatalf("err: %d, want the upstream's status", r.ErrCode)
	}
	eventually(t, "refund", func() bool {
		return p.User().Limits.Credit().Balance().Micros() == 5_000_000 && e.stats().Refunds == 1
	})
	if s := up.Stats(); s.Refused != 1 || s.Retried != 0 {
		t.Fatalf("connector stats %+v", s)
	}
}

// cancel_sm for a message the upstream already took goes upstream under
// the upstream's id; once honoured the ESME gets a DELETED receipt.
func TestRealUpstreamCancel(t *testing.T) {
	seen := make(chan string, 4)
	e, _, _ := startUpstream(t, smsctest.Options{Manage: func(cmd codec.CommandID, id []byte) codec.Status {
		seen <- cmd.String() + " " + string(id)
		return codec.StatusOK
	}}, defaultRoutes("up"))
	e.addUser(t, "alice", userSpec{receipts: true})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	p := sm("12345", "4915112345678", "to be cancelled")
	p.RegisteredDelivery = 1
	status, id := c.submit(p)
	wantStatus(t, status, codec.StatusOK)
	var upID []byte
	eventually(t, "upstream id kept", func() bool {
		var ok bool
		upID, ok = e.msgs.(*memory.Store).UpstreamOf(mustID(t, id), nil)
		return ok
	})
	cn := &codec.CancelSM{MessageID: []byte(id)}
	if f := c.request(codec.CancelSMID, cn.Append); f.h.Status != codec.StatusOK {
		t.Fatalf("cancel_sm: %v", f.h.Status)
	}
	select {
	case got := <-seen:
		if got != "cancel_sm "+string(upID) || string(upID) == id {
			t.Fatalf("SMSC got %q; upstream id %q, ours %q", got, upID, id)
		}
	case <-time.After(wait):
		t.Fatal("cancel_sm never reached the SMSC")
	}
	wantReceipt(t, c.deliver(codec.StatusOK), id, codec.MessageStateDeleted, receipt.StatDeleted)
	// Final now: a second cancel_sm is refused here, not sent upstream.
	if f := c.request(codec.CancelSMID, cn.Append); f.h.Status != codec.StatusCancelFail {
		t.Fatalf("second cancel_sm: %v", f.h.Status)
	}
}

// An ESME that lets deliver_sm pile up fills its window and queue; the
// receipts behind them wait for room (not retried, not lost) and all
// arrive once it answers.
func TestRealSimReceiptsWaitForASlowESME(t *testing.T) {
	const n = 300
	s := newRealSim(t, "sim", 0, sim.Options{ReceiptDelay: sim.ReceiptsAtOnce})
	e, _ := startReal(t, realSpec{routes: defaultRoutes("sim"), connectors: []connector.Connector{s},
		engineMod: func(o *engine.Options) { o.DeliverWindow, o.DeliverQueue, o.ResponseTimeout = 2, 2, time.Minute }})
	e.addUser(t, "alice", userSpec{receipts: true})
	c := e.bind(t, codec.BindTransceiverID, "alice")
	ids := map[string]bool{}
	for range n {
		p := sm("12345", "4915112345678", "wait for room")
		p.RegisteredDelivery = 1
		st, id := c.submit(p) // receipts arriving meanwhile stay unanswered
		wantStatus(t, st, codec.StatusOK)
		ids[id] = true
	}
	eventually(t, "receipts waiting for room", func() bool { return e.stats().WaitingNow > 0 })
	for range n {
		d := c.deliver(codec.StatusOK)
		rid, _ := d.TLVs.CString(codec.TagReceiptedMessageID)
		if !ids[string(rid)] {
			t.Fatalf("receipt for %q: unknown or twice", rid)
		}
		delete(ids, string(rid))
	}
	eventually(t, "every receipt acknowledged", func() bool { return e.stats().ReceiptsDelivered == n })
	if st := e.stats(); st.DeliveriesWaited == 0 || st.WaitingNow != 0 || st.ReceiptsExpired != 0 || st.ReceiptsHeld != 0 {
		t.Fatalf("stats %+v", st)
	}
}
