package dlr

import (
	"bytes"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// TestRecipeBody: the body Body builds from a receipt's recipe is the
// body Encode built, octet for octet: zones east and west of UTC, the
// decimal id, an intermediate report, a network error, a UCS2 text, and a
// report without a done date.
func TestRecipeBody(t *testing.T) {
	submitted := time.Date(2026, 12, 31, 23, 30, 59, 999_000_000, time.UTC)
	ucs2 := &storage.Record{ID: msg.ID(0x1122334455667788), DataCoding: 0x08, SourceTON: 5, DestTON: 1, DestNPI: 1,
		Submitted: submitted.UnixNano()}
	ucs2.SetAddrs([]byte("INFO"), []byte("4915112345678"), []byte{0, 'h', 0x20, 0xac}) // "h€"
	gsm := &storage.Record{ID: 42, SourceTON: 1, SourceNPI: 1, Submitted: submitted.UnixNano()}
	gsm.SetAddrs([]byte("447700900123"), []byte("447700900456"), []byte("hello world, 20 ch.."))
	cases := []struct {
		rec     *storage.Record
		r       Report
		decimal bool
		zone    *time.Location
	}{
		{ucs2, Report{State: msg.StateUndeliverable, Err: 34, NetErr: [3]byte{3, 0, 34}, HasNetErr: true,
			Done: submitted.Add(90 * time.Second).UnixNano()}, true, time.FixedZone("CET", 3600)},
		{gsm, Report{State: msg.StateDelivered, Done: submitted.Add(time.Second).UnixNano()}, false, time.UTC},
		{gsm, Report{State: msg.StateEnroute, Intermediate: true}, false, time.FixedZone("EST", -5*3600)},
		{gsm, Report{State: msg.StateExpired, Err: 999, Done: submitted.Add(48 * time.Hour).UnixNano()}, true,
			time.FixedZone("IST", 5*3600+1800)},
	}
	var e Encoder
	for i, c := range cases {
		var p codec.SM
		e.Encode(&p, c.rec, &c.r, c.decimal, c.zone)
		pdu, err := p.Append(nil, codec.Header{CommandID: codec.DeliverSMID})
		if err != nil {
			t.Fatal(err)
		}
		want := pdu[codec.HeaderLen:]
		recipe := append([]byte(nil), e.Recipe()...)
		got, err := Body([]byte("x"), recipe)
		if err != nil || !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Fatalf("case %d: built %q (%v), want x%q", i, got, err, want)
		}
		if len(recipe) >= len(want)*3/4 {
			t.Errorf("case %d: recipe %d octets for a %d-octet body", i, len(recipe), len(want))
		}
		if _, err := Body(nil, recipe[:len(recipe)-1]); err == nil {
			t.Fatalf("case %d: a cut recipe decoded", i)
		}
	}
}
