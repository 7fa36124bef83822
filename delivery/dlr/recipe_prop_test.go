package dlr

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // zones with daylight saving time, whatever the host has

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// TestRecipeBodyRandom: for many random records and reports (any data
// coding, text and address octets, ids small and large, decimal or hex,
// intermediate or final, any err and network error, dates across zones
// with daylight saving time and its changes), the body Body builds from
// the recipe is the body Encode built, octet for octet. The encoder is
// reused, as delivery's pooled ones are, so its date cache is exercised;
// Body's is always fresh.
func TestRecipeBodyRandom(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("W", -12*3600), time.FixedZone("E", 14*3600),
		time.FixedZone("odd", 5*3600+45*60+7)}
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
		"America/St_Johns", "Pacific/Chatham", "Africa/Casablanca"} {
		z, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, z)
	}
	// Around a daylight saving change in Berlin (2026-10-25 01:00 UTC) and
	// at the extremes of what a record's int64 can say.
	dst := time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC).UnixNano()
	codings := []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0e, 0x10, 0x18, 0x20, 0xf0, 0xf4, 0xff}
	rng := rand.New(rand.NewPCG(1, 2))
	octets := func(max int) []byte {
		b := make([]byte, rng.IntN(max+1))
		for i := range b {
			switch rng.IntN(3) {
			case 0:
				b[i] = byte(rng.IntN(256))
			case 1:
				b[i] = byte(' ' + rng.IntN(95))
			default:
				b[i] = "0123456789 "[rng.IntN(11)]
			}
		}
		return b
	}
	when := func() int64 {
		switch rng.IntN(6) {
		case 0:
			return dst + rng.Int64N(4*int64(time.Hour)) - 2*int64(time.Hour)
		case 1:
			return []int64{0, 1, -1, math.MinInt64, math.MaxInt64, -int64(time.Second)}[rng.IntN(6)]
		default:
			return rng.Int64()
		}
	}
	var e Encoder // reused: the pooled encoder's caches carry over
	var p codec.SM
	var last, lastDone int64
	for i := range 50_000 {
		rec := storage.Record{DataCoding: codings[rng.IntN(len(codings))], SourceTON: byte(rng.IntN(256)),
			SourceNPI: byte(rng.IntN(256)), DestTON: byte(rng.IntN(256)), DestNPI: byte(rng.IntN(256)), Submitted: when()}
		switch rng.IntN(3) {
		case 0:
			rec.ID = msg.ID(rng.IntN(1000))
		case 1:
			rec.ID = msg.ID(math.MaxUint64 - rng.Uint64N(1000))
		default:
			rec.ID = msg.ID(rng.Uint64())
		}
		rec.SetAddrs(octets(storage.MaxAddr), octets(storage.MaxAddr), octets(storage.MaxText))
		r := Report{State: msg.State(rng.IntN(12)), Err: uint16(rng.IntN(1 << 16)), HasNetErr: rng.IntN(2) == 0,
			NetErr: [3]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}, Intermediate: rng.IntN(3) == 0}
		if rng.IntN(2) == 0 {
			r.Err = uint16(rng.IntN(1000))
		}
		if rng.IntN(4) != 0 {
			r.Done = when()
		}
		decimal, zone := rng.IntN(2) == 0, zones[rng.IntN(len(zones))]
		if rng.IntN(4) == 0 { // the last dates again, another zone: the date cache must not answer
			rec.Submitted, r.Done = last, lastDone
		}
		last, lastDone = rec.Submitted, r.Done
		e.Encode(&p, &rec, &r, decimal, zone)
		pdu, err := p.Append(nil, codec.Header{CommandID: codec.DeliverSMID})
		if err != nil { // an address with a NUL: never held (buildReceipt drops it)
			if _, berr := Body(nil, e.Recipe()); berr == nil {
				t.Fatalf("case %d: Encode's body fails (%v), Body's does not", i, err)
			}
			continue
		}
		want := pdu[codec.HeaderLen:]
		got, err := Body(nil, e.Recipe())
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("case %d: %+v %+v decimal %v zone %s:\nbuilt %q (%v)\nwant  %q", i, rec, r, decimal, zone, got, err, want)
		}
	}
}
