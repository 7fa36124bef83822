package concat_test

import (
	"fmt"
	"time"

	"github.com/smppd/smppd/codec/concat"
)

// A 200-septet GSM7 text becomes two UDH8 parts; each short_message is the
// UDH followed by the body, sent with esm_class UDHI. The receiving side
// parses the UDH and feeds the reassembler, here in reverse order.
func Example() {
	text := make([]byte, 200)
	for i := range text {
		text[i] = 'a' + byte(i%26)
	}
	parts, _, err := concat.Split(nil, nil, text, concat.GSM7, concat.UDH8, 0x2A)
	if err != nil {
		panic(err)
	}
	type addrs struct{ Src, Dst [21]byte }
	var from addrs
	copy(from.Src[:], "447700900001")
	copy(from.Dst[:], "1234")
	r := concat.New[addrs](concat.Config{MaxSets: 16, Timeout: time.Minute}, nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		shortMessage := append(append([]byte(nil), p.UDH...), p.Body...)
		fmt.Printf("part %d/%d: UDH % x, %d septets\n", p.Seq, p.Total, p.UDH, len(p.Body))

		h, body, err := concat.ParseUDH(shortMessage)
		if err != nil {
			panic(err)
		}
		m, done, err := r.Add(now, from, h.Concat, body)
		if err != nil {
			panic(err)
		}
		if done {
			fmt.Println("reassembled:", len(m.Body), "septets, equal:", string(m.Body) == string(text))
		}
	}
	// Output:
	// part 2/2: UDH 05 00 03 2a 02 02, 47 septets
	// part 1/2: UDH 05 00 03 2a 02 01, 153 septets
	// reassembled: 200 septets, equal: true
}
