package cdr

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// randomBytes returns n octets drawn mostly from printable ASCII, with
// quotes, backslashes, control characters, UTF-8 and invalid octets.
func randomBytes(rng *rand.Rand, n int) []byte {
	pool := [][]byte{[]byte("a"), []byte("Z"), []byte("7"), []byte(" "), []byte("+"), []byte(`"`), []byte(`\`),
		[]byte("\n"), []byte("\t"), []byte("\x00"), []byte("\x1b"), []byte("\x7f"), []byte("@"), []byte("$"),
		[]byte("é"), []byte("€"), []byte("\u2028"), []byte("\xff"), []byte("\xc3"), []byte("[")}
	var b []byte
	for len(b) < n {
		if rng.IntN(3) == 0 {
			b = append(b, pool[rng.IntN(len(pool))]...)
		} else {
			b = append(b, byte(0x20+rng.IntN(0x5f)))
		}
	}
	if rng.IntN(10) == 0 {
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
	}
	return b[:n]
}

// randomTime returns a time near base most often, so both encoders'
// cached seconds (and the encoder's milliseconds) are hit and missed;
// sometimes anything, 0 or negative.
func randomTime(rng *rand.Rand, base int64) int64 {
	switch rng.IntN(8) {
	case 0:
		return rng.Int64() - rng.Int64()
	case 1:
		return 0
	case 2:
		return []int64{math.MinInt64, math.MaxInt64, -1, 1}[rng.IntN(4)]
	case 3:
		return base + rng.Int64N(int64(2*time.Millisecond))
	}
	return base + rng.Int64N(int64(3*time.Second))
}

// The encoder writes what the encoder before it (encode_ref_test.go) wrote,
// byte for byte, for random records and events, with each encoder's
// state carried from line to line as in the writer.
func TestEncoderMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 42))
	conns := []string{"sim", "upstream-1", `q"uote`, "ünï", "sam"} // "sim" and "sam": one segment way (strWay)
	named := func(id int32) string {
		if id == 2 {
			return "live\tconnector"
		}
		return ""
	}
	codings := []byte{0, 1, 2, 3, 4, 8, 0x10, 0x11, 0x14, 0x18, 0x20, 0xC0, 0xE0, 0xF0, 0xF1, 0xF4, 5, 0x0B}
	base := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC).UnixNano()
	users := []string{"alice", "bob", `q"uote`, ""}
	var got, want []byte
	for round := range 4 {
		mask := round%2 == 1
		enc := encoder{connectors: conns, maskContent: mask}
		ref := refEncoder{connectors: conns, maskContent: mask}
		if round >= 2 {
			enc.name, ref.name = named, named
		}
		for i := range 50_000 {
			var r storage.Record
			r.ID = msg.ID(rng.Uint64())
			r.SystemID = string(randomBytes(rng, rng.IntN(17)))
			r.MTRoute = string(randomBytes(rng, rng.IntN(12)))
			r.SourceTON, r.SourceNPI, r.DestTON, r.DestNPI = byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(7)), byte(rng.IntN(19))
			r.DataCoding = codings[rng.IntN(len(codings))]
			if rng.IntN(8) == 0 {
				r.DataCoding = byte(rng.IntN(256))
			}
			text := randomBytes(rng, rng.IntN(storage.MaxText+1))
			if rng.IntN(3) == 0 { // septets and ASCII only: the copied path
				for j := range text {
					text[j] = byte(0x20 + rng.IntN(0x5f))
				}
			}
			r.SetAddrs(randomBytes(rng, rng.IntN(storage.MaxAddr+1)), randomBytes(rng, rng.IntN(storage.MaxAddr+1)), text)
			if rng.IntN(4) == 0 {
				r.Rewritten = true
				r.UpSourceTON, r.UpDestNPI = byte(rng.IntN(256)), byte(rng.IntN(256))
				r.UpSourceLen = uint8(copy(r.UpSource[:], randomBytes(rng, rng.IntN(storage.MaxAddr+1))))
				r.UpDestLen = uint8(copy(r.UpDest[:], randomBytes(rng, rng.IntN(storage.MaxAddr+1))))
			}
			r.Connector = int32(rng.IntN(7)) - 1
			r.Parts = uint8(rng.IntN(256))
			r.Submitted = randomTime(rng, base)
			if rng.IntN(2) == 0 {
				r.Expires = randomTime(rng, base)
			}
			switch rng.IntN(4) {
			case 0:
				r.Charge = rng.Int64() - rng.Int64()
			case 1:
				r.Charge = rng.Int64N(100) * 10_000
			case 2:
				r.Charge = rng.Int64N(1_000_000_000)
			}
			if r.Charge == math.MinInt64 { // the reference wrote nonsense for it: TestAppendAmountExtremes
				r.Charge++
			}
			r.ChargeParts = uint16(rng.IntN(65536))
			r.RegisteredDelivery = byte(rng.IntN(256))
			if rng.IntN(2) == 0 { // values like the line before's: the encoder's segments (segments.go) are reused
				r.SystemID, r.MTRoute = users[rng.IntN(len(users))], users[rng.IntN(len(users))]
				r.SourceTON, r.SourceNPI, r.DestNPI, r.Parts = 1, 1, 1, byte(1+rng.IntN(2))
				// Values 8 apart in each term of a way's hash, so that entries
				// are found holding other values and every key check counts.
				r.Charge, r.ChargeParts = 50_000+80_000*int64(rng.IntN(2)), uint16(8*rng.IntN(2))
				r.RegisteredDelivery, r.DataCoding = byte(rng.IntN(2)+8*rng.IntN(2)), byte(8*rng.IntN(2))
				r.Connector = int32(4 * rng.IntN(2))
			}
			v := view{rec: &r, state: msg.State(rng.IntN(12)), err: uint16(rng.IntN(65536)),
				refunded: rng.IntN(2) == 0, cdr: rng.IntN(3) != 0, missing: rng.IntN(10) == 0}
			if rng.IntN(4) != 0 {
				v.done = randomTime(rng, base)
			}
			if rng.IntN(3) != 0 {
				v.upstreamID = randomBytes(rng, rng.IntN(storage.MaxUpstreamID+1))
			}
			base += rng.Int64N(int64(2 * time.Millisecond))
			got = enc.appendView(got[:0], &v)
			want = ref.refAppendView(want[:0], &v)
			if !bytes.Equal(got, want) {
				t.Fatalf("round %d line %d:\n got %s\nwant %s", round, i, got, want)
			}
		}
	}
}

// The extremes of a charge are exact decimals (the encoder before wrote
// MinInt64 as two minus signs and garbage).
func TestAppendAmountExtremes(t *testing.T) {
	cases := map[int64]string{math.MaxInt64: "9223372036854.775807", math.MinInt64: "-9223372036854.775808",
		-1: "-0.000001", 999_999: "0.999999", 100_000_000: "100", 1_010_000: "1.01"}
	for micros, want := range cases {
		out := appendAmount(nil, micros)
		if string(out) != want {
			t.Errorf("appendAmount(%d) = %s, want %s", micros, out, want)
		}
		var n json.Number
		if err := json.Unmarshal(out, &n); err != nil {
			t.Errorf("appendAmount(%d) = %s: not a JSON number: %v", micros, out, err)
		}
	}
}
