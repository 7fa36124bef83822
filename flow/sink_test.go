package flow

import (
	"bytes"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

// submitted runs one submit_sm with registered_delivery reg and returns the
// queued message and its id.
func submitted(t *testing.T, th *testHub, p principal, reg byte, text string) (*msg.Message, msg.ID) {
	t.Helper()
	r := sm("4915100000", "4916200000", text)
	r.SourceAddrTON, r.DestAddrTON, r.RegisteredDelivery = 1, 2, reg
	st, id := th.submit(p, r)
	wantStatus(t, st, codec.StatusOK)
	return th.conns[0].pop(t), mustID(t, id)
}

func TestReceiptDelivered(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{receipts: true})
	m, id := submitted(t, th, p, 1, "Hello there, this is longer than twenty")
	submittedAt := th.clock.Now()
	if !m.Claim() {
		t.Fatal("claim")
	}
	th.Accepted(m, []byte("up-1"))
	m.Release()
	if rec := th.store.record(t, id); th.live.lookup(id) != nil || rec.State != msg.StateEnroute {
		t.Fatalf("after Accepted: %+v", rec)
	}
	th.clock.Add(90 * time.Second)
	done := th.clock.Now()
	th.Receipt(&msg.Receipt{ID: id, State: msg.StateDelivered, Done: done.UnixNano(),
		NetworkError: [3]byte{3, 0, 0}, HasNetErr: true})
	rec := th.store.record(t, id)
	if rec.State != msg.StateDelivered || rec.Done != done.UnixNano() {
		t.Fatalf("record after receipt: %+v", rec)
	}
	got := th.out.take()
	if len(got) != 1 || got[0].user != "alice" {
		t.Fatalf("deliveries %+v", got)
	}
	p2 := decodeDeliver(t, got[0])
	if p2.ESMClass != codec.ESMClassDeliveryReceipt || string(p2.SourceAddr) != "4916200000" || p2.SourceAddrTON != 2 ||
		string(p2.DestinationAddr) != "4915100000" || p2.DestAddrTON != 1 || p2.DataCoding != 0 {
		t.Fatalf("receipt PDU %+v", p2)
	}
	if v, _ := p2.TLVs.CString(codec.TagReceiptedMessageID); string(v) != id.String() {
		t.Fatalf("receipted_message_id %q, want %q", v, id.String())
	}
	if v, _ := p2.TLVs.Uint8(codec.TagMessageState); v != uint8(msg.StateDelivered) {
		t.Fatalf("message_state %d", v)
	}
	if v, _ := p2.TLVs.Get(codec.TagNetworkErrorCode); !bytes.Equal(v, []byte{3, 0, 0}) {
		t.Fatalf("network_error_code %x", v)
	}
	r, err := receipt.Parse(p2.ShortMessage)
	if err != nil {
		t.Fatal(err)
	}
	if string(r.ID) != id.String() || r.Stat != receipt.StatDelivered || r.Sub != 1 || r.Dlvrd != 1 ||
		string(r.Text) != "Hello there, this is" || !r.SubmitDate.Equal(submittedAt.Truncate(time.Minute)) ||
		!r.DoneDate.Equal(done.Truncate(time.Minute)) {
		t.Fatalf("receipt text %q parsed %+v", p2.ShortMessage, r)
	}
	if s := th.Stats(); s.ReceiptsGenerated != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestReceiptRegisteredDeliveryHonoured(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{receipts: true})
	_, none := submitted(t, th, p, 0, "a")
	_, failOnly := submitted(t, th, p, 2, "b")
	_, inter := submitted(t, th, p, 0x10, "c")
	th.Receipt(&msg.Receipt{ID: none, State: msg.StateDelivered})
	th.Receipt(&msg.Receipt{ID: failOnly, State: msg.StateDelivered})
	if got := th.out.take(); len(got) != 0 {
		t.Fatalf("unwanted receipts: %d", len(got))
	}
	th.Receipt(&msg.Receipt{ID: inter, State: msg.StateEnroute, Intermediate: true})
	got := th.out.take()
	if len(got) != 1 || decodeDeliver(t, got[0]).ESMClass != codec.ESMClassIntermediate {
		t.Fatalf("intermediate notification: %+v", got)
	}
	if rec := th.store.record(t, inter); rec.State != msg.StateEnroute {
		t.Fatal("an intermediate notification changed the state")
	}
}

func TestReceiptDecimalID(t *testing.T) {
	th := newHub(t, hubSpec{dmod: func(o *delivery.Options) { o.ReceiptIDDecimal = true }})
	p := newUser(t, "alice", userSpec{receipts: true})
	_, id := submitted(t, th, p, 1, "x")
	th.Receipt(&msg.Receipt{ID: id, State: msg.StateUndeliverable, Err: 12})
	got := th.out.take()
	p2 := decodeDeliver(t, got[0])
	r, _ := receipt.Parse(p2.ShortMessage)
	if string(r.ID) != string(id.AppendDecimal(nil)) || r.ErrCode != 12 || r.Stat != receipt.StatUndeliverable || r.Dlvrd != 0 {
		t.Fatalf("receipt %q", p2.ShortMessage)
	}
	if v, _ := p2.TLVs.CString(codec.TagReceiptedMessageID); string(v) != id.String() {
		t.Fatalf("receipted_message_id %q must stay hex", v)
	}
}

func TestReceiptUnknownID(t *testing.T) {
	th := newHub(t, hubSpec{})
	th.Receipt(&msg.Receipt{ID: 12345, State: msg.StateDelivered})
	if th.Stats().ReceiptsUnknown != 1 || len(th.out.take()) != 0 {
		t.Fatal("unknown receipt not counted")
	}
}

func TestFailedRefundsAndReceipts(t *testing.T) {
	th := newHub(t, hubSpec{routes: routing.Config{
		MT: []routing.MTRouteConfig{{Name: "paid", Kind: "default", Connectors: []string{"a"}, Rate: 1}},
	}})
	p := newUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{Balance: accounts.Micros(5_000_000), Quota: 10}})
	lim := &p.User().Limits
	m, id := submitted(t, th, p, 2, "refused one")
	if lim.Credit().Balance().Micros() != 4_000_000 {
		t.Fatal("not charged")
	}
	th.Failed(m, 0x45, msg.StateRejected)
	m.Release()
	if lim.Credit().Balance().Micros() != 5_000_000 {
		t.Fatalf("balance %d, want a refund", lim.Credit().Balance().Micros())
	}
	if left, _ := lim.QuotaCounter().Left(); left != 10 {
		t.Fatalf("quota %d, want a refund", left)
	}
	rec := th.store.record(t, id)
	if rec.State != msg.StateRejected || rec.Err != 0x45 || rec.Done == 0 {
		t.Fatalf("record %+v", rec)
	}
	got := th.out.take()
	if len(got) != 1 {
		t.Fatalf("%d receipts for a permanent refusal", len(got))
	}
	r, _ := receipt.Parse(decodeDeliver(t, got[0]).ShortMessage)
	if r.Stat != receipt.StatRejected || r.ErrCode != 0x45 || string(r.Text) != "refused one" {
		t.Fatalf("receipt %+v", r)
	}
	if th.Stats().Refunds != 1 {
		t.Fatal("refund not counted")
	}
}

func TestReceiptTextDecoded(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{receipts: true})
	r := sm("1", "2", "")
	r.RegisteredDelivery, r.DataCoding = 1, codec.DataCodingUCS2
	r.ShortMessage = []byte{0, 'O', 0, 'K', 0x20, 0xAC} // "OK€"
	st, id := th.submit(p, r)
	wantStatus(t, st, codec.StatusOK)
	th.Receipt(&msg.Receipt{ID: mustID(t, id), State: msg.StateDelivered})
	rc, _ := receipt.Parse(decodeDeliver(t, th.out.take()[0]).ShortMessage)
	if string(rc.Text) != "OK?" {
		t.Fatalf("text %q", rc.Text)
	}
}

func TestAcceptedDoesNotOverwriteFinalState(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{receipts: true})
	m, id := submitted(t, th, p, 0, "x")
	th.Receipt(&msg.Receipt{ID: id, State: msg.StateDelivered}) // overtook the submit response
	m.Claim()
	th.Accepted(m, nil)
	m.Release()
	if rec := th.store.record(t, id); rec.State != msg.StateDelivered {
		t.Fatalf("state %v", rec.State)
	}
}
