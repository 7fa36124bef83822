package smppout

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/concat"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/msg"
)

// The SMSC answers in upper-case hex and reports receipts with the same
// number in decimal in the text: the receipt must still find our id.
func TestAcceptAndReceiptMappedAcrossBases(t *testing.T) {
	e := setup(t, smsctest.Options{
		IDFormat: smsctest.IDHexUpper, SystemType: "vas", Record: true,
		Default: smsctest.Action{Receipt: smsctest.Receipt{Send: true, Form: smsctest.ReceiptText, IDFormat: smsctest.IDDecimal, Err: 7}},
	}, Options{SystemType: "vas"})
	e.waitUp(t)
	e.submit(t, newMsg(0xA1, "491701111111", "hello"))
	eventually(t, "accept and receipt", func() bool { a, _, r, _ := e.sink.counts(); return a == 1 && r == 1 })

	acc := e.sink.accepted()[0]
	rec := e.srv.Submits()
	if len(rec) != 1 || acc.id != 0xA1 || acc.up != rec[0].ID || acc.attempts != 1 {
		t.Fatalf("accepted %+v, SMSC answered %+v", acc, rec)
	}
	if strings.ToUpper(acc.up) != acc.up || !strings.ContainsAny(acc.up, "ABCDEF") {
		t.Fatalf("SMSC id %q is not upper-case hex: the test does not exercise the mapping", acc.up)
	}
	if got, ok := e.ids.Upstream(7, []byte(acc.up)); !ok || got != 0xA1 {
		t.Fatalf("IDMap[%q] = %v %v", acc.up, got, ok)
	}
	r := e.sink.receipts()[0]
	if r.ID != 0xA1 || r.Connector != 7 || r.State != msg.StateDelivered || r.Err != 7 || r.Done == 0 || r.Intermediate || r.HasNetErr {
		t.Fatalf("receipt %+v", r)
	}
	if got := e.sink.events(0xA1); len(got) != 2 || got[0] != "accepted" {
		t.Fatalf("events %v", got)
	}
	if lb := e.srv.LastBind(); lb.Kind != codec.BindTransceiverID || lb.SystemType != "vas" {
		t.Fatalf("bind %+v", lb)
	}
	st := e.c.Stats()
	if st.Submitted != 1 || st.Accepted != 1 || st.Receipts != 1 || st.Binds != 1 || st.Queued != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TLV-only receipts (decimal resp ids) carry the state and network error.
func TestReceiptFromTLVs(t *testing.T) {
	e := setup(t, smsctest.Options{
		IDFormat: smsctest.IDDecimal, IDWidth: 12,
		Default: smsctest.Action{Receipt: smsctest.Receipt{Send: true, Form: smsctest.ReceiptTLV,
			State: codec.MessageStateUndeliverable, HasNetErr: true, NetworkError: [3]byte{3, 0, 0x22}, IDFormat: smsctest.IDHexLower}},
	}, Options{})
	e.waitUp(t)
	e.submit(t, newMsg(0xB2, "491702222222", "x"))
	eventually(t, "receipt", func() bool { _, _, r, _ := e.sink.counts(); return r == 1 })
	r := e.sink.receipts()[0]
	if r.ID != 0xB2 || r.State != msg.StateUndeliverable || !r.HasNetErr || r.NetworkError != [3]byte{3, 0, 0x22} || r.Done != 0 {
		t.Fatalf("receipt %+v", r)
	}
}

func TestReceiptBeforeResponse(t *testing.T) {
	e := setup(t, smsctest.Options{
		IDFormat: smsctest.IDHexUpper,
		Default:  smsctest.Action{Delay: 20 * time.Millisecond, Receipt: smsctest.Receipt{Send: true, Before: true}},
	}, Options{})
	e.waitUp(t)
	e.submit(t, newMsg(0xC3, "491703333333", "early"))
	eventually(t, "receipt resolved", func() bool { a, _, r, _ := e.sink.counts(); return a == 1 && r == 1 })
	if got := e.sink.events(0xC3); len(got) != 2 || got[0] != "accepted" || got[1] != "receipt" {
		t.Fatalf("events %v: the parked receipt must follow the accept", got)
	}
	if e.c.c.parkedLen() != 0 {
		t.Fatalf("%d receipts still parked", e.c.c.parkedLen())
	}
	// Its deliver_sm is answered once the sink kept it, after Sync.
	eventually(t, "parked receipt answered", func() bool { ok, _ := e.srv.DeliverResps(); return ok == 1 })
	if e.sink.syncCount() == 0 {
		t.Fatal("parked receipt answered before the sink's Sync")
	}
}

func TestTxRxBinds(t *testing.T) {
	e := setup(t, smsctest.Options{
		Record: true, IDFormat: smsctest.IDHexLower,
		Default: smsctest.Action{Receipt: smsctest.Receipt{Send: true}},
	}, Options{BindMode: TxRx, Binds: 2})
	eventually(t, "two transmitters and two receivers", func() bool {
		return e.srv.BoundOf(codec.BindTransmitterID) == 2 && e.srv.BoundOf(codec.BindReceiverID) == 2
	})
	for i := 1; i <= 10; i++ {
		e.submit(t, newMsg(msg.ID(0x100+i), "4917000000", "m"))
	}
	eventually(t, "ten receipts", func() bool { a, _, r, _ := e.sink.counts(); return a == 10 && r == 10 })
	for _, r := range e.srv.Submits() {
		if r.Bind != codec.BindTransmitterID {
			t.Fatalf("submit_sm on a %v session", r.Bind)
		}
	}
	seen := map[msg.ID]bool{}
	for _, r := range e.sink.receipts() {
		seen[r.ID] = true
	}
	if len(seen) != 10 {
		t.Fatalf("receipts mapped to %d distinct ids", len(seen))
	}
	if err := e.srv.DeliverMO(smsctest.MO{Source: "491709999", Dest: "5555", ShortMessage: []byte("hi there")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "MO", func() bool { _, _, _, mo := e.sink.counts(); return mo == 1 })
	if st := e.c.Stats(); st.Binds != 4 || st.MO != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// Several transceivers share the queue; with one-slot windows and held
// responses, three messages are outstanding at once, one per bind.
func TestSeveralBindsAndWindow(t *testing.T) {
	e := setup(t, smsctest.Options{Default: smsctest.Action{Hold: true}}, Options{Binds: 3, Window: 2})
	eventually(t, "three binds", func() bool { return e.srv.Bound() == 3 && e.c.Stats().Binds == 3 })
	for i := 1; i <= 20; i++ {
		e.submit(t, newMsg(msg.ID(i), "4917", "w"))
	}
	eventually(t, "six held", func() bool { return e.srv.Held() == 6 })
	// The windows are full: nothing more can be outstanding until a
	// response comes, however long we look.
	if n := e.srv.Outstanding(); n != 6 {
		t.Fatalf("outstanding %d, want 6", n)
	}
	for {
		a, _, _, _ := e.sink.counts()
		if a == 20 {
			break
		}
		if e.srv.ReleaseHeld() == 0 {
			time.Sleep(time.Millisecond)
		}
		if e.srv.Outstanding() > 6 {
			t.Fatalf("outstanding %d > Binds*Window", e.srv.Outstanding())
		}
	}
	if m := e.srv.MaxOutstanding(); m != 2 {
		t.Fatalf("max outstanding per connection %d, want the window 2", m)
	}
}

func TestTemporaryRefusalRetried(t *testing.T) {
	var tries atomic.Int64
	e := setup(t, smsctest.Options{Script: func(s *smsctest.Submit) smsctest.Action {
		switch tries.Add(1) {
		case 1:
			return smsctest.Action{Status: codec.StatusThrottled}
		case 2:
			return smsctest.Action{Status: codec.StatusMsgQFul}
		case 3:
			return smsctest.Action{Status: codec.StatusThrottled, Nack: true}
		}
		return smsctest.Action{}
	}}, Options{})
	e.waitUp(t)
	e.submit(t, newMsg(0xD4, "4917", "again"))
	eventually(t, "accepted after retries", func() bool { a, _, _, _ := e.sink.counts(); return a == 1 })
	if acc := e.sink.accepted()[0]; acc.attempts != 4 {
		t.Fatalf("attempts %d, want 4", acc.attempts)
	}
	if st := e.c.Stats(); st.Retried != 3 || st.Submitted != 4 || st.Refused != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPermanentRefusal(t *testing.T) {
	e := setup(t, smsctest.Options{Script: func(s *smsctest.Submit) smsctest.Action {
		return smsctest.Action{Status: codec.StatusInvDstAdr}
	}}, Options{})
	e.waitUp(t)
	e.submit(t, newMsg(0xE5, "bad", "x"))
	eventually(t, "failed", func() bool { _, f, _, _ := e.sink.counts(); return f == 1 })
	f := e.sink.failures()[0]
	if f.id != 0xE5 || f.status != uint32(codec.StatusInvDstAdr) || f.state != msg.StateRejected {
		t.Fatalf("failed %+v", f)
	}
	if st := e.c.Stats(); st.Refused != 1 || st.Retried != 0 || e.srv.SubmitCount() != 1 {
		t.Fatalf("stats %+v, SMSC saw %d", st, e.srv.SubmitCount())
	}
}

// With no upstream, messages wait and expire by the injected clock; a
// message cancelled while waiting is reported deleted.
func TestExpiryWhileUpstreamDown(t *testing.T) {
	clk := newFakeClock()
	port := closedPort(t)
	sink := newSink()
	c, err := New(Options{Name: "down", Host: "127.0.0.1", Port: port, IDMap: newMapIDs(), Now: clk.Now,
		ReconnectMin: 5 * time.Millisecond, ReconnectMax: 20 * time.Millisecond, DefaultValidity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(sink); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Stop(context.Background()) }()

	m1 := newMsg(1, "4917", "soon")
	m1.Expires = clk.at(10 * time.Second)
	m2 := newMsg(2, "4917", "default validity")
	m2.Received = clk.nanos()
	m3 := newMsg(3, "4917", "cancelled")
	m3.Expires = clk.at(time.Hour * 2)
	for _, m := range []*msg.Message{m1, m2, m3} {
		if !c.Submit(m) {
			t.Fatal("Submit refused")
		}
	}
	eventually(t, "queued", func() bool { return c.Stats().Queued == 3 })
	if !m3.Cancel() {
		t.Fatal("could not cancel a waiting message")
	}
	eventually(t, "cancelled reported", func() bool { _, f, _, _ := sink.counts(); return f == 1 })
	if c.Up() {
		t.Fatal("Up with no upstream")
	}
	clk.add(11 * time.Second)
	eventually(t, "first expiry", func() bool { _, f, _, _ := sink.counts(); return f == 2 })
	clk.add(time.Hour)
	eventually(t, "second expiry", func() bool { _, f, _, _ := sink.counts(); return f == 3 })
	want := map[msg.ID]msg.State{1: msg.StateExpired, 2: msg.StateExpired, 3: msg.StateDeleted}
	for _, f := range sink.failures() {
		if want[f.id] != f.state || f.status != 0 {
			t.Fatalf("failure %+v", f)
		}
	}
	if st := c.Stats(); st.Expired != 2 || st.Queued != 0 || st.Reconnect == 0 || st.Submitted != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func closedPort(t *testing.T) int {
	t.Helper()
	s, err := smsctest.Start(smsctest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := s.Port()
	_ = s.Close()
	return p
}

// The SMSC drops the connection on the first submit (before answering),
// then all connections again: the connector reconnects and delivers.
func TestReconnectAfterDrop(t *testing.T) {
	var n atomic.Int64
	e := setup(t, smsctest.Options{Script: func(s *smsctest.Submit) smsctest.Action {
		return smsctest.Action{Drop: n.Add(1) == 1}
	}}, Options{})
	e.waitUp(t)
	e.submit(t, newMsg(0xF6, "4917", "drop me once"))
	eventually(t, "accepted after reconnect", func() bool { a, _, _, _ := e.sink.counts(); return a == 1 })
	if e.srv.Binds() < 2 || e.c.Stats().Reconnect < 1 || e.c.Stats().Retried != 1 {
		t.Fatalf("binds %d stats %+v", e.srv.Binds(), e.c.Stats())
	}
	binds := e.srv.Binds()
	e.srv.DropAll()
	eventually(t, "bound again", func() bool { return e.srv.Binds() > binds && e.c.Up() })
	e.submit(t, newMsg(0xF7, "4917", "after"))
	eventually(t, "second accepted", func() bool { a, _, _, _ := e.sink.counts(); return a == 2 })

	e.srv.UnbindAll()
	eventually(t, "bound after upstream unbind", func() bool { return e.srv.Binds() > binds+1 && e.c.Up() })
}

// No response within ResponseTimeout: retried, then accepted. (A loaded
// machine may time out later attempts too; every count below holds then.)
func TestResponseTimeoutRetried(t *testing.T) {
	var n atomic.Int64
	e := setup(t, smsctest.Options{Script: func(s *smsctest.Submit) smsctest.Action {
		return smsctest.Action{Hold: n.Add(1) == 1}
	}}, Options{ResponseTimeout: 50 * time.Millisecond, EnquireLink: time.Hour})
	e.waitUp(t)
	e.submit(t, newMsg(0x77, "4917", "slow"))
	eventually(t, "accepted", func() bool { a, _, _, _ := e.sink.counts(); return a == 1 })
	if st := e.c.Stats(); st.Retried < 1 || st.Submitted != st.Retried+1 {
		t.Fatalf("stats %+v", st)
	}
	if acc := e.sink.accepted()[0]; acc.attempts < 2 {
		t.Fatalf("attempts %d", acc.attempts)
	}
	// The late answer to the first attempt finds no slot and is ignored.
	e.srv.ReleaseHeld()
	eventually(t, "stray counted", func() bool { return e.c.c.stray.Load() >= 1 })
	if a, f, _, _ := e.sink.counts(); a != 1 || f != 0 {
		t.Fatalf("accepted %d failed %d", a, f)
	}
}

// Throughput by the injected clock: the i-th submit_sm reaches the SMSC no
// earlier than start + (i-burst+1)/rate, whatever the machine's speed.
func TestThroughputLimit(t *testing.T) {
	clk := newFakeClock()
	start := clk.nanos()
	e := setup(t, smsctest.Options{Record: true, Now: clk.Now}, Options{Throughput: 100, Burst: 3, Now: clk.Now, Binds: 2, Window: 5})
	e.waitUp(t)
	const n = 30
	for i := 1; i <= n; i++ {
		e.submit(t, newMsg(msg.ID(i), "4917", "t"))
	}
	// Frozen clock: only the burst goes out.
	eventually(t, "burst sent", func() bool { return e.srv.SubmitCount() >= 3 })
	if got := e.srv.SubmitCount(); got != 3 {
		t.Fatalf("%d submits at a frozen clock, want the burst 3", got)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		if a, _, _, _ := e.sink.counts(); a == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		clk.add(time.Millisecond)
		time.Sleep(200 * time.Microsecond)
	}
	interval := int64(10 * time.Millisecond)
	for i, r := range e.srv.Submits() {
		if earliest := start + int64(i-2)*interval; r.At.UnixNano() < earliest {
			t.Fatalf("submit %d at +%v, before the limit allows (+%v)", i, time.Duration(r.At.UnixNano()-start), time.Duration(earliest-start))
		}
	}
}

func TestPayloadSplitWithoutPayloadSupport(t *testing.T) {
	e := setup(t, smsctest.Options{Record: true, IDFormat: smsctest.IDHexUpper,
		Script: func(s *smsctest.Submit) smsctest.Action {
			// Receipt only for the part that asked for one.
			return smsctest.Action{Receipt: smsctest.Receipt{Send: s.SM.RegisteredDelivery&1 != 0}}
		}}, Options{SupportsPayload: false})
	e.waitUp(t)
	text := strings.Repeat("0123456789", 40) // 400 GSM septets: 3 parts of <= 153
	m := newMsg(0x1234, "4917", "")
	var tl codec.TLVs
	tl.Add(codec.TagMessagePayload, []byte(text))
	tl.AddUint16(codec.TagUserMessageReference, 42)
	m.TLVs = append(m.TLVs[:0], tl.Raw()...)
	e.submit(t, m)
	eventually(t, "accepted and receipt", func() bool { a, _, r, _ := e.sink.counts(); return a == 1 && r == 1 })
	rec := e.srv.Submits()
	if len(rec) != 3 {
		t.Fatalf("%d submits, want 3 parts", len(rec))
	}
	var joined []byte
	var ref byte
	for i, r := range rec {
		if r.ESMClass&codec.ESMClassUDHI == 0 {
			t.Fatalf("part %d without UDHI", i)
		}
		h, body, err := concat.ParseUDH(r.ShortMessage)
		if err != nil || !h.HasConcat || h.Concat.Total != 3 || int(h.Concat.Seq) != i+1 {
			t.Fatalf("part %d UDH %+v %v", i, h, err)
		}
		if i == 0 {
			ref = byte(h.Concat.Ref)
		} else if byte(h.Concat.Ref) != ref {
			t.Fatalf("part %d reference %d, want %d", i, h.Concat.Ref, ref)
		}
		joined = append(joined, body...)
		var got codec.TLVs
		if err := got.SetRaw(r.TLVs); err != nil || got.HasMessagePayload() || !got.Has(codec.TagUserMessageReference) {
			t.Fatalf("part %d TLVs %x", i, r.TLVs)
		}
		if wantRD := byte(0); i == 2 {
			wantRD = 1
			if r.RegisteredDelivery != wantRD {
				t.Fatalf("last part registered_delivery %d", r.RegisteredDelivery)
			}
		} else if r.RegisteredDelivery != wantRD {
			t.Fatalf("part %d registered_delivery %d, want 0", i, r.RegisteredDelivery)
		}
	}
	if string(joined) != text {
		t.Fatalf("parts rejoin to %q", joined)
	}
	for _, r := range rec {
		if id, ok := e.ids.Upstream(7, []byte(r.ID)); !ok || id != 0x1234 {
			t.Fatalf("part id %s maps to %v %v", r.ID, id, ok)
		}
	}
	if acc := e.sink.accepted()[0]; acc.up != rec[0].ID {
		t.Fatalf("Accepted with %q, want the first part's %q", acc.up, rec[0].ID)
	}
	if r := e.sink.receipts()[0]; r.ID != 0x1234 {
		t.Fatalf("receipt %+v", r)
	}
}

func TestPayloadPassedThroughWithSupport(t *testing.T) {
	e := setup(t, smsctest.Options{Record: true}, Options{SupportsPayload: true})
	e.waitUp(t)
	m := newMsg(0x55, "4917", "")
	var tl codec.TLVs
	tl.Add(codec.TagMessagePayload, bytes.Repeat([]byte("z"), 500))
	m.TLVs = append(m.TLVs[:0], tl.Raw()...)
	e.submit(t, m)
	eventually(t, "accepted", func() bool { a, _, _, _ := e.sink.counts(); return a == 1 })
	rec := e.srv.Submits()
	if len(rec) != 1 || !bytes.Equal(rec[0].TLVs, tl.Raw()) || len(rec[0].ShortMessage) != 0 {
		t.Fatalf("recorded %+v", rec)
	}
}

func TestMODelivered(t *testing.T) {
	e := setup(t, smsctest.Options{}, Options{Name: "mo-up"})
	e.waitUp(t)
	if err := e.srv.DeliverMO(smsctest.MO{Source: "491700001", Dest: "12345", ShortMessage: []byte("STOP"), DataCoding: 0}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "MO", func() bool { _, _, _, mo := e.sink.counts(); return mo == 1 })
	got := e.sink.mos()[0]
	if got != (moSeen{connector: "mo-up", src: "491700001", dst: "12345", text: "STOP"}) {
		t.Fatalf("MO %+v", got)
	}
	eventually(t, "deliver_sm_resp", func() bool { ok, _ := e.srv.DeliverResps(); return ok == 1 })
	if e.sink.syncCount() == 0 {
		t.Fatal("deliver_sm answered before the sink's Sync")
	}
	// A receipt nobody can map is parked (answered ESME_ROK), never
	// reaching the sink as an MO.
	if err := e.srv.SendReceipt("999", "1", "2", smsctest.Receipt{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "parked", func() bool { return e.c.c.parkedLen() == 1 })
	if _, _, r, mo := e.sink.counts(); r != 0 || mo != 1 {
		t.Fatalf("receipts %d mo %d", r, mo)
	}
}

// A parked receipt no submit claims within ParkTTL goes to the sink with
// no id of ours and the upstream id, which keeps it as a dead letter. Its
// copy is parked (Options.Parker) before its deliver_sm is answered, and
// goes once the sink has it; one the sink cannot keep stays parked.
func TestParkedReceiptExpires(t *testing.T) {
	pk := newMemParker()
	e := setup(t, smsctest.Options{}, Options{ParkTTL: 300 * time.Millisecond, Parker: pk})
	e.waitUp(t)
	if err := e.srv.SendReceipt("31337", "1", "2", smsctest.Receipt{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "parked and answered", func() bool { ok, _ := e.srv.DeliverResps(); return ok == 1 })
	if e.c.c.parkedLen() != 1 || pk.len() != 1 {
		t.Fatalf("parked %d, copies %d: the answer must follow the parked copy", e.c.c.parkedLen(), pk.len())
	}
	// The copy goes once the sink has it (handOn): wait for both.
	eventually(t, "handed on", func() bool {
		_, _, r, _ := e.sink.counts()
		return r == 1 && e.c.c.parkedLen() == 0 && pk.len() == 0
	})
	if r := e.sink.receipts()[0]; r.ID != 0 || string(r.UpstreamID) != "31337" {
		t.Fatalf("expired parked receipt reached the sink as %+v", r)
	}
	if e.c.c.parkExpired.Load() != 1 || pk.len() != 0 {
		t.Fatalf("parkExpired %d, copies %d", e.c.c.parkExpired.Load(), pk.len())
	}
	// One the sink cannot keep when it expires keeps its copy.
	if err := e.srv.SendReceipt("31338", "1", "2", smsctest.Receipt{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "second parked", func() bool { return pk.len() == 1 })
	e.sink.setRefuse(errors.New("store full"))
	eventually(t, "swept", func() bool { return e.c.c.parkedLen() == 0 })
	if pk.len() != 1 {
		t.Fatalf("copies %d: a receipt the sink refused lost its copy", pk.len())
	}
}

// A receipt whose copy cannot be parked (the store full) is refused
// ESME_RX_T_APPN; copies an earlier instance parked are taken up at Open:
// one whose id is mapped by now goes to the sink with our id.
func TestParkedCopiesTakenUp(t *testing.T) {
	pk := newMemParker()
	e := setup(t, smsctest.Options{}, Options{Parker: pk})
	e.waitUp(t)
	pk.setFail(errors.New("store full"))
	if err := e.srv.SendReceipt("u77", "1", "2", smsctest.Receipt{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "refused", func() bool { _, f := e.srv.DeliverResps(); return f == 1 })
	pk.setFail(nil)
	if err := e.srv.SendReceipt("u77", "1", "2", smsctest.Receipt{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "parked", func() bool { ok, _ := e.srv.DeliverResps(); return ok == 1 && pk.len() == 1 })
	// The next instance (a restart) finds the id mapped.
	if err := e.ids.PutUpstream(7, []byte("U77"), 0xE5); err != nil {
		t.Fatal(err)
	}
	sink := newSink()
	next, err := New(Options{Name: "up1", ID: 7, Host: "127.0.0.1", Port: closedPort(t), IDMap: e.ids, Parker: pk,
		ReconnectMin: time.Hour, ReconnectMax: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := next.Start(sink); err != nil {
		t.Fatal(err)
	}
	defer next.Stop(t.Context())
	eventually(t, "taken up", func() bool { _, _, r, _ := sink.counts(); return r == 1 })
	if r := sink.receipts()[0]; r.ID != 0xE5 || pk.len() != 0 {
		t.Fatalf("receipt %+v, copies %d", r, pk.len())
	}
}

// An MO or receipt the sink cannot keep (its store full) is answered
// ESME_RX_T_APPN so the upstream sends it again; a full park too.
func TestDeliverSMNotKeptAnsweredTemporary(t *testing.T) {
	e := setup(t, smsctest.Options{}, Options{ParkMax: 1})
	e.waitUp(t)
	e.sink.setRefuse(errors.New("store full"))
	if err := e.srv.DeliverMO(smsctest.MO{Source: "491700001", Dest: "12345", ShortMessage: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "refused MO answered", func() bool { _, f := e.srv.DeliverResps(); return f == 1 })
	e.sink.setRefuse(nil)
	if err := e.srv.DeliverMO(smsctest.MO{Source: "491700001", Dest: "12345", ShortMessage: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "kept MO answered", func() bool { ok, _ := e.srv.DeliverResps(); return ok == 1 })
	// The park holds one receipt; the second unknown one is refused.
	for _, id := range []string{"u1", "u2"} {
		if err := e.srv.SendReceipt(id, "1", "2", smsctest.Receipt{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "park full answered", func() bool { ok, f := e.srv.DeliverResps(); return ok == 2 && f == 2 })
	if e.c.c.parkFull.Load() != 1 || e.c.c.notKept.Load() != 2 {
		t.Fatalf("park full %d, not kept %d", e.c.c.parkFull.Load(), e.c.c.notKept.Load())
	}
}

func TestEnquireLinkKeepsSessionAlive(t *testing.T) {
	e := setup(t, smsctest.Options{}, Options{EnquireLink: 10 * time.Millisecond, ResponseTimeout: time.Second})
	e.waitUp(t)
	eventually(t, "enquire_links", func() bool { return e.srv.EnquireLinks() >= 3 })
	if e.srv.Binds() != 1 || e.c.Stats().Reconnect != 0 {
		t.Fatalf("binds %d reconnects %d", e.srv.Binds(), e.c.Stats().Reconnect)
	}
}

func TestBindRefusedKeepsRetrying(t *testing.T) {
	e := setup(t, smsctest.Options{}, Options{SystemID: "up", Password: "wrong"})
	eventually(t, "refusals", func() bool { return e.srv.BindFailures() >= 2 })
	if e.c.Up() || e.srv.LastBind().Status != codec.StatusInvPaswd {
		t.Fatalf("up %v last bind %+v", e.c.Up(), e.srv.LastBind())
	}
	eventually(t, "reconnect counted", func() bool { return e.c.Stats().Reconnect >= 1 })
}

// A scheduled message waits for its time (injected clock).
func TestScheduleHeld(t *testing.T) {
	clk := newFakeClock()
	e := setup(t, smsctest.Options{}, Options{Now: clk.Now})
	e.waitUp(t)
	later := newMsg(1, "4917", "later")
	later.Schedule = clk.at(time.Minute)
	e.submit(t, later)
	e.submit(t, newMsg(2, "4917", "now"))
	eventually(t, "immediate accepted", func() bool { a, _, _, _ := e.sink.counts(); return a == 1 })
	if e.sink.accepted()[0].id != 2 || e.srv.SubmitCount() != 1 || e.c.Stats().Queued != 1 {
		t.Fatalf("scheduled message went early: %+v, %d submits", e.sink.accepted(), e.srv.SubmitCount())
	}
	clk.add(time.Minute)
	eventually(t, "scheduled accepted", func() bool { a, _, _, _ := e.sink.counts(); return a == 2 })
}

// A relative validity_period is rewritten to what is left after waiting.
func TestRelativeValidityRewritten(t *testing.T) {
	clk := newFakeClock()
	e := setup(t, smsctest.Options{Record: true}, Options{Now: clk.Now})
	e.waitUp(t)
	m := newMsg(1, "4917", "vp")
	m.Received = clk.nanos() - int64(time.Hour)
	m.Expires = clk.at(2 * time.Hour)
	m.ValidityPeriod = append(m.ValidityPeriod[:0], "000000030000000R"...)
	fresh := newMsg(2, "4917", "vp")
	fresh.Received = clk.nanos()
	fresh.Expires = clk.at(3 * time.Hour)
	fresh.ValidityPeriod = append(fresh.ValidityPeriod[:0], "000000030000000R"...)
	e.submit(t, m)
	e.submit(t, fresh)
	eventually(t, "accepted", func() bool { a, _, _, _ := e.sink.counts(); return a == 2 })
	got := map[string]bool{}
	for _, r := range e.srv.Submits() {
		got[r.ValidityPeriod] = true
	}
	if !got["000000020000000R"] || !got["000000030000000R"] {
		t.Fatalf("validity periods %v", got)
	}
}

func TestTLS(t *testing.T) {
	srvCfg, cliCfg := selfSignedTLS(t)
	e := setup(t, smsctest.Options{TLS: srvCfg, Default: smsctest.Action{Receipt: smsctest.Receipt{Send: true}}}, Options{TLS: cliCfg})
	e.waitUp(t)
	e.submit(t, newMsg(0x7E5, "4917", "secure"))
	eventually(t, "accept and receipt over TLS", func() bool { a, _, r, _ := e.sink.counts(); return a == 1 && r == 1 })
}

func TestStopDrains(t *testing.T) {
	e := setup(t, smsctest.Options{Default: smsctest.Action{Delay: 5 * time.Millisecond}}, Options{})
	e.waitUp(t)
	for i := 1; i <= 20; i++ {
		e.submit(t, newMsg(msg.ID(i), "4917", "d"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := e.c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if a, f, _, _ := e.sink.counts(); a != 20 || f != 0 {
		t.Fatalf("accepted %d failed %d after a drained stop", a, f)
	}
	if e.c.Submit(newMsg(99, "4917", "late")) {
		t.Fatal("Submit accepted after Stop")
	}
	eventually(t, "unbound", func() bool { return e.srv.Unbinds() == 1 && e.srv.Bound() == 0 })
	if e.c.Up() || e.c.Stats().Binds != 0 {
		t.Fatalf("up after stop: %+v", e.c.Stats())
	}
}

func TestStopReportsShutdown(t *testing.T) {
	e := setup(t, smsctest.Options{Default: smsctest.Action{Hold: true}}, Options{Window: 2})
	e.waitUp(t)
	for i := 1; i <= 5; i++ {
		e.submit(t, newMsg(msg.ID(i), "4917", "s"))
	}
	eventually(t, "window full", func() bool { return e.srv.Held() == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := e.c.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop: %v, want the deadline", err)
	}
	fails := e.sink.failures()
	if len(fails) != 5 {
		t.Fatalf("%d failures, want 5", len(fails))
	}
	for _, f := range fails {
		if f.state != msg.StateUnknown || f.status != connector.StatusShutdown {
			t.Fatalf("failure %+v", f)
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	ids := newMapIDs()
	f := func(o Options, want error) {
		t.Helper()
		if _, err := New(o); !errors.Is(err, want) {
			t.Fatalf("New(%+v): %v, want %v", o, err, want)
		}
	}
	f(Options{IDMap: ids, Host: "h", Port: 1}, ErrNoName)
	f(Options{Name: "up", Host: "h", Port: 1}, ErrNoIDMap)
	f(Options{Name: "up", IDMap: ids, Port: 1}, ErrNoAddress)
	f(Options{Name: "up", IDMap: ids, Host: "h", Port: 70000}, ErrNoAddress)
	f(Options{Name: "up", IDMap: ids, Host: "h", Port: 1, BindMode: "receiver"}, ErrBindMode)
	f(Options{Name: "up", IDMap: ids, Host: "h", Port: 1, Window: -1}, ErrNegative)
	if _, err := New(Options{Name: "up", IDMap: ids, Host: "h", Port: 1, Password: "muchtoolongpassword"}); err == nil {
		t.Fatal("a password over 8 characters was accepted")
	}
	c, err := New(Options{Name: "up", IDMap: ids, Host: "h", Port: 1})
	if err != nil {
		t.Fatal(err)
	}
	o := c.c.opts
	if o.BindMode != Transceiver || o.Binds != 1 || o.Window != 10 || o.Queue != 4096 || o.ResponseTimeout != 30*time.Second ||
		o.DefaultValidity != 24*time.Hour || len(o.TemporaryStatuses) != 4 {
		t.Fatalf("defaults %+v", o)
	}
	if err := c.Start(nil); err == nil {
		t.Fatal("Start(nil) accepted")
	}
	// Nothing is queued before Start; Stop before Start is clean.
	early := newMsg(1, "1", "x")
	if c.Submit(early) {
		t.Fatal("Submit before Start took a message")
	}
	early.Release()
	if err := c.Stop(context.Background()); err != nil || c.Stats().Queued != 0 {
		t.Fatalf("Stop before Start: %v, queued %d", err, c.Stats().Queued)
	}
	if err := c.Start(newSink()); err == nil {
		t.Fatal("Start after Stop accepted")
	}
}

func TestSubmitFullRing(t *testing.T) {
	// No upstream listens: the jobs (2 + one window of 1) fill, then the
	// queue of 2, then Submit refuses.
	c, err := New(Options{Name: "up", IDMap: newMapIDs(), Host: "127.0.0.1", Port: 1, Queue: 2, Window: 1,
		ReconnectMin: time.Hour, ReconnectMax: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s := newSink()
	if err := c.Start(s); err != nil {
		t.Fatal(err)
	}
	taken := 0
	for i := 0; i < 100; i++ {
		m := newMsg(msg.ID(i), "1", "a")
		if !c.Submit(m) {
			m.Release()
			if c.QueueFull() {
				break
			}
			t.Fatal("Submit refused with room in the queue")
		}
		taken++
		eventually(t, "the worker to take what it has room for", func() bool {
			return c.Held() == min(taken, 3) && c.Stats().Queued == taken
		})
	}
	if taken != 5 || !c.QueueFull() {
		t.Fatalf("took %d (want 3 jobs + a queue of 2), full %v", taken, c.QueueFull())
	}
	// Nothing can drain without a bind: the deadline cuts the drain short.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop: %v, want the deadline", err)
	}
	if _, fail, _, _ := s.counts(); fail != taken {
		t.Fatalf("%d failed at Stop, want %d", fail, taken)
	}
}

func TestReceiptKeys(t *testing.T) {
	f := func(format IDFormat, id string, want ...string) {
		t.Helper()
		c := &client{opts: Options{ReceiptIDFormat: format}}
		var k idKeys
		c.receiptKeys(&k, []byte(id), make([]byte, 0, keyLen))
		var got []string
		for i := 0; i < k.n; i++ {
			got = append(got, string(k.key(i)))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%d %q: keys %v, want %v", format, id, got, want)
		}
	}
	f(IDAuto, "0001a2b", "1A2B", "6699")
	f(IDAuto, "6699", "6699", "1A2B", "26265")
	f(IDAuto, "abc-xyz", "ABC-XYZ")
	f(IDText, "6699", "6699")
	f(IDDecimal, "6699", "1A2B")
	f(IDHex, "0x1a2b", "1A2B")
	f(IDAuto, "")
	f(IDAuto, strings.Repeat("9", 70))
}

func TestBucket(t *testing.T) {
	var b bucket
	b.init(10, 2) // 100 ms per token, two at once
	const ms = int64(time.Millisecond)
	f := func(now int64, wantWait int64) {
		t.Helper()
		if got := b.take(now); got != wantWait {
			t.Fatalf("take at %d ms: wait %d ms, want %d ms", now/ms, got/ms, wantWait/ms)
		}
	}
	f(1000*ms, 0)
	f(1000*ms, 0)
	f(1000*ms, 100*ms)
	f(1100*ms, 0)
	f(1100*ms, 100*ms)
	f(1500*ms, 0)
	f(1500*ms, 0)
	f(1500*ms, 100*ms)
	var off bucket
	off.init(0, 1)
	if off.take(0) != 0 {
		t.Fatal("unlimited bucket made us wait")
	}
}

func TestBackoff(t *testing.T) {
	for n := 0; n < 40; n++ {
		d := backoff(10*time.Millisecond, time.Second, n)
		step := min(10*time.Millisecond<<min(n, 20), time.Second)
		if d < step/2 || d > step {
			t.Fatalf("backoff %d = %v, want within [%v, %v]", n, d, step/2, step)
		}
	}
}

func TestReceiptState(t *testing.T) {
	f := func(tlvState int, text string, intermediate bool, want msg.State) {
		t.Helper()
		var tl codec.TLVs
		if tlvState >= 0 {
			tl.AddUint8(codec.TagMessageState, uint8(tlvState))
		}
		rt, err := receipt.Parse([]byte(text))
		if got := receiptState(&tl, &rt, err == nil, intermediate); got != want {
			t.Fatalf("state %d text %q: %v, want %v", tlvState, text, got, want)
		}
	}
	f(5, "id:1 stat:DELIVRD", false, msg.StateUndeliverable)
	f(-1, "id:1 stat:DELIVRD", false, msg.StateDelivered)
	f(-1, "id:1 stat:FAILED", false, msg.StateUndeliverable)
	f(-1, "id:1 stat:EXPIRED", false, msg.StateExpired)
	f(0, "id:1", true, msg.StateEnroute)
	f(-1, "id:1", false, msg.StateUnknown)
	f(9, "nothing", false, msg.StateUnknown)
}

// sendCancel and sendReplace drive the forwarder's wire exchange directly
// and return the upstream's status (CancelUpstream reports it later).
func sendCancel(ctx context.Context, c *Connector, p *codec.CancelSM) (codec.Status, error) {
	frame, err := p.Append(nil, codec.Header{CommandID: codec.CancelSMID})
	if err != nil {
		return codec.StatusOf(err), err
	}
	return c.c.forward(ctx, frame)
}

func sendReplace(ctx context.Context, c *Connector, p *codec.ReplaceSM) (codec.Status, error) {
	frame, err := p.Append(nil, codec.Header{CommandID: codec.ReplaceSMID})
	if err != nil {
		return codec.StatusOf(err), err
	}
	return c.c.forward(ctx, frame)
}

func TestSendCancelAndReplace(t *testing.T) {
	e := setup(t, smsctest.Options{IDFormat: smsctest.IDHexUpper, Manage: func(cmd codec.CommandID, id []byte) codec.Status {
		if cmd == codec.ReplaceSMID {
			return codec.StatusReplaceFail
		}
		return codec.StatusOK
	}}, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	down, err := New(Options{Name: "down", Host: "127.0.0.1", Port: closedPort(t), IDMap: newMapIDs()})
	if err != nil {
		t.Fatal(err)
	}
	if err := down.Start(newSink()); err != nil {
		t.Fatal(err)
	}
	if _, err := sendCancel(ctx, down, &codec.CancelSM{MessageID: []byte("1")}); !errors.Is(err, ErrNotBound) {
		t.Fatalf("cancel with nothing bound: %v", err)
	}
	_ = down.Stop(ctx)
	e.waitUp(t)
	e.submit(t, newMsg(0x42, "4917", "to cancel"))
	eventually(t, "accepted", func() bool { a, _, _, _ := e.sink.counts(); return a == 1 })
	up := e.sink.accepted()[0].up
	st, err := sendCancel(ctx, e.c, &codec.CancelSM{MessageID: []byte(up), SourceAddr: []byte("4910"), DestinationAddr: []byte("4917")})
	if err != nil || st != codec.StatusOK {
		t.Fatalf("cancel: %v %v", st, err)
	}
	st, err = sendReplace(ctx, e.c, &codec.ReplaceSM{MessageID: []byte(up), SourceAddr: []byte("4910"), ShortMessage: []byte("new")})
	if err != nil || st != codec.StatusReplaceFail {
		t.Fatalf("replace: %v %v", st, err)
	}
	if e.srv.Cancels() != 1 || e.srv.Replaces() != 1 {
		t.Fatalf("SMSC saw %d cancels %d replaces", e.srv.Cancels(), e.srv.Replaces())
	}
	if _, err := sendCancel(ctx, e.c, &codec.CancelSM{MessageID: bytes.Repeat([]byte("x"), 80)}); err == nil {
		t.Fatal("an over-long message_id was sent")
	}
}

// Binds and refusals are logged; per-message events are not, and repeated
// refusals collapse into one rate-limited line.
func TestLogging(t *testing.T) {
	var buf lockedBuffer
	log := zerolog.New(&buf).Level(zerolog.InfoLevel)
	e := setup(t, smsctest.Options{Script: func(*smsctest.Submit) smsctest.Action {
		return smsctest.Action{Status: codec.StatusInvDstAdr}
	}}, Options{Logger: log, Name: "logged"})
	e.waitUp(t)
	for i := 1; i <= 30; i++ {
		e.submit(t, newMsg(msg.ID(i), "4917", "x"))
	}
	eventually(t, "refusals", func() bool { _, f, _, _ := e.sink.counts(); return f == 30 })
	out := buf.String()
	if !strings.Contains(out, `"connector":"logged"`) || !strings.Contains(out, "upstream bound") {
		t.Fatalf("no bind line in %s", out)
	}
	if n := strings.Count(out, "refused submit_sm permanently"); n != 1 {
		t.Fatalf("%d refusal lines for 30 refusals, want 1:\n%s", n, out)
	}
	if lines := strings.Count(out, "\n"); lines > 3 {
		t.Fatalf("%d log lines for 30 messages:\n%s", lines, out)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestParkTable(t *testing.T) {
	key := func(s string) *idKeys {
		var k idKeys
		k.add([]byte(s))
		return &k
	}
	rc := func(st msg.State) *msg.Receipt { return &msg.Receipt{State: st} }
	var p parkTable
	p.init(4)
	p.add(key("A"), rc(msg.StateEnroute), 1, 10)
	p.add(key("B"), rc(msg.StateDelivered), 2, 11)
	p.add(key("A"), rc(msg.StateAccepted), 3, 12)
	sc := newParkScratch()
	if p.take([]byte("B"), &sc); len(sc.r) != 1 || sc.r[0].State != msg.StateDelivered || sc.keys[0] != 2 {
		t.Fatalf("take B: %+v %+v", sc.r, sc.keys)
	}
	p.add(key("A"), rc(msg.StateDelivered), 4, 13) // lands in B's old slot, before the t=12 one
	sc.reset()
	p.take([]byte("A"), &sc)
	if got := sc.r; len(got) != 3 || got[0].State != msg.StateEnroute || got[1].State != msg.StateAccepted || got[2].State != msg.StateDelivered || p.n != 0 {
		t.Fatalf("take A: %+v (n %d), want arrival order", got, p.n)
	}
	if sc.keys[0] != 1 || sc.keys[1] != 3 || sc.keys[2] != 4 {
		t.Fatalf("copies %+v: want each with its receipt", sc.keys)
	}
	var small parkTable
	small.init(2)
	if !small.add(key("x"), rc(1), 5, 5) || !small.add(key("y"), rc(1), 6, 3) || small.add(key("z"), rc(1), 7, 7) {
		t.Fatal("a full park must refuse the next receipt")
	}
	sc.reset()
	if small.take([]byte("z"), &sc); len(sc.r) != 0 {
		t.Fatal("a refused receipt was parked")
	}
	if ids := small.sweep(4, &sc, nil); len(sc.r) != 1 || len(ids) != 1 || string(ids[0]) != "y" || sc.keys[0] != 6 || small.n != 1 {
		t.Fatalf("sweep handed on %d (%q), %d left", len(sc.r), ids, small.n)
	}
}

// An upstream id the IDMap cannot store (its store full) is kept in memory:
// the receipt naming it still reaches the sink with our id, and the id is
// stored once the IDMap takes it again; counted in Stats.
func TestUpstreamIDNotKeptStaysMapped(t *testing.T) {
	e := setup(t, smsctest.Options{
		IDFormat: smsctest.IDHexUpper,
		Default:  smsctest.Action{Receipt: smsctest.Receipt{Send: true, Delay: 20 * time.Millisecond}},
	}, Options{})
	e.waitUp(t)
	e.ids.setFail(errors.New("disk full"))
	e.submit(t, newMsg(0xD4, "491704444444", "x"))
	eventually(t, "accept and receipt", func() bool { a, _, r, _ := e.sink.counts(); return a == 1 && r == 1 })
	if r := e.sink.receipts()[0]; r.ID != 0xD4 {
		t.Fatalf("receipt %+v: want our id from the id kept in memory", r)
	}
	if st := e.c.Stats(); st.IDsNotKept != 1 || st.IDsPending != 1 || st.IDsLost != 0 {
		t.Fatalf("stats %+v", st)
	}
	up := e.sink.accepted()[0].up
	if _, ok := e.ids.Upstream(7, []byte(up)); ok {
		t.Fatal("a refused id was stored")
	}
	e.ids.setFail(nil)
	eventually(t, "id stored once the IDMap takes it", func() bool { return e.c.Stats().IDsPending == 0 })
	if id, ok := e.ids.Upstream(7, []byte(up)); !ok || id != 0xD4 {
		t.Fatalf("IDMap[%q] = %v %v", up, id, ok)
	}
}

// A parked copy reads back as it was written; anything else is refused.
func TestParkedCopyRoundTrip(t *testing.T) {
	var k, k2 idKeys
	k.add([]byte("1A2B"))
	k.add([]byte("6699"))
	r := msg.Receipt{State: msg.StateUndeliverable, Err: 0x123, NetworkError: [3]byte{3, 0, 0x22}, HasNetErr: true,
		Intermediate: true, Done: 1_751_284_800_000_000_123}
	b := appendParked(nil, &k, &r)
	var got msg.Receipt
	if !readParked(b, &k2, &got) || k2.n != 2 || string(k2.key(1)) != "6699" || !reflect.DeepEqual(got, r) {
		t.Fatalf("read back %+v keys %d", got, k2.n)
	}
	for _, bad := range [][]byte{nil, {2}, b[:len(b)-1], append(bytes.Clone(b), 0)} {
		if readParked(bad, &k2, &got) {
			t.Errorf("readParked(% x) accepted", bad)
		}
	}
}
