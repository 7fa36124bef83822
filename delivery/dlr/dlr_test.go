package dlr

import (
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

func TestWanted(t *testing.T) {
	f := func(reg byte, st msg.State, inter, want bool) {
		t.Helper()
		if got := Wanted(reg, st, inter); got != want {
			t.Fatalf("registered_delivery %#x state %v intermediate %v: %v", reg, st, inter, got)
		}
	}
	f(0x00, msg.StateDelivered, false, false)
	f(0x01, msg.StateDelivered, false, true)
	f(0x01, msg.StateUndeliverable, false, true)
	f(0x01, msg.StateEnroute, false, false)
	f(0x02, msg.StateDelivered, false, false)
	f(0x02, msg.StateExpired, false, true)
	f(0x02, msg.StateRejected, false, true)
	f(0x02, msg.StateAccepted, false, false)
	f(0x03, msg.StateDelivered, false, true)
	f(0x03, msg.StateUndeliverable, false, false)
	f(0x10, msg.StateEnroute, true, true)
	f(0x01, msg.StateEnroute, true, false)
	f(0x11, msg.StateDelivered, false, true)
	f(0x0c, msg.StateDelivered, false, false) // SME acks only
}

// A receipt goes from the message's destination to its source and names
// the message, its state and its first characters both in the text and in
// the TLVs; the text's id: is decimal on request, the TLV's always hex, and
// the dates are in the configured zone.
func TestEncode(t *testing.T) {
	zone := time.FixedZone("CET", 3600)
	submitted := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	rec := &storage.Record{ID: msg.ID(0x1122334455667788), SystemID: "alice", DataCoding: 0x08,
		SourceTON: 5, SourceNPI: 0, DestTON: 1, DestNPI: 1, Submitted: submitted.UnixNano()}
	rec.SetAddrs([]byte("INFO"), []byte("4915112345678"), []byte{0, 'h', 0, 'i'}) // UCS2 "hi"
	var e Encoder
	var p codec.SM
	r := &Report{State: msg.StateUndeliverable, Err: 34, NetErr: [3]byte{3, 0, 34}, HasNetErr: true,
		Done: submitted.Add(90 * time.Second).UnixNano()}
	e.Encode(&p, rec, r, true, zone)

	if string(p.SourceAddr) != "4915112345678" || p.SourceAddrTON != 1 || string(p.DestinationAddr) != "INFO" ||
		p.DestAddrTON != 5 || p.ESMClass != codec.ESMClassDeliveryReceipt || p.DataCoding != 0 {
		t.Fatalf("addresses or classes: %+v", p)
	}
	got, err := receipt.Parse(p.ShortMessage)
	if err != nil {
		t.Fatalf("text %q: %v", p.ShortMessage, err)
	}
	if string(got.ID) != "1234605616436508552" || got.Stat != receipt.StatUndeliverable || got.ErrCode != 34 ||
		string(got.Text) != "hi" || got.Dlvrd != 0 || !got.SubmitDate.Equal(wall(submitted.In(zone))) ||
		!got.DoneDate.Equal(wall(submitted.Add(time.Minute).In(zone))) {
		t.Fatalf("text %q read as %+v", p.ShortMessage, got)
	}
	if v, _ := p.TLVs.Get(codec.TagReceiptedMessageID); string(v) != "1122334455667788\x00" {
		t.Fatalf("receipted_message_id %q", v)
	}
	if v, _ := p.TLVs.Get(codec.TagMessageState); len(v) != 1 || v[0] != byte(msg.StateUndeliverable) {
		t.Fatalf("message_state %v", v)
	}
	if v, _ := p.TLVs.Get(codec.TagNetworkErrorCode); string(v) != "\x03\x00\x22" {
		t.Fatalf("network_error_code %v", v)
	}

	// Intermediate, delivered, hex id, no network error; the same
	// encoder and PDU are reused without keeping anything of the first.
	r = &Report{State: msg.StateDelivered, Intermediate: true}
	e.Encode(&p, rec, r, false, zone)
	if got, err = receipt.Parse(p.ShortMessage); err != nil || string(got.ID) != "1122334455667788" || got.Dlvrd != 1 ||
		!got.DoneDate.IsZero() || p.ESMClass != codec.ESMClassIntermediate {
		t.Fatalf("second receipt %q: %+v %v", p.ShortMessage, got, err)
	}
	if _, ok := p.TLVs.Get(codec.TagNetworkErrorCode); ok {
		t.Fatal("network_error_code kept from the first receipt")
	}
}

// wall is t's wall clock to the minute, read back as UTC: the text carries
// no zone.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
}

func TestEncodeAllocs(t *testing.T) {
	rec := &storage.Record{ID: 7, SystemID: "alice", Submitted: 1}
	rec.SetAddrs([]byte("1"), []byte("2"), []byte("hello"))
	var e Encoder
	var p codec.SM
	r := &Report{State: msg.StateDelivered, Done: 2}
	e.Encode(&p, rec, r, false, time.UTC)
	if n := testing.AllocsPerRun(100, func() { e.Encode(&p, rec, r, false, time.UTC) }); n != 0 {
		t.Fatalf("%v allocations per receipt", n)
	}
}
