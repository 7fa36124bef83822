package concat

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzUDH: ParseUDH never panics, what it accepts iterates cleanly within
// its UDHL, and rebuilding the accepted header with AppendUDH parses back
// to the same concatenation IE and the same other IEs.
func FuzzUDH(f *testing.F) {
	for _, s := range []string{
		"050003010201", "060804beef0302", "0b05040b8423f0000307020141", "00", "",
		"05000301020341", "0500030100", "04000301", "ff", "0a0003010201080401020303",
	} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		h, body, err := ParseUDH(p)
		if err != nil {
			if KindOf(err) == KindNone {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if h.Len()+len(body) != len(p) {
			t.Fatalf("UDH %d + body %d != %d", h.Len(), len(body), len(p))
		}
		var extra []byte
		size := 1
		for it := h.IEs(); ; {
			ie, ok := it.Next()
			if !ok {
				break
			}
			size += 2 + len(ie.Data)
			if ie.ID != IEIConcat8 && ie.ID != IEIConcat16 {
				extra, _ = AppendIE(extra, ie.ID, ie.Data)
			}
		}
		if size != h.Len() {
			t.Fatalf("IEs cover %d octets of a %d-octet UDH", size, h.Len())
		}
		if !h.HasConcat {
			return
		}
		b, err := AppendUDH(nil, h.Concat, h.Ref16, extra)
		if err != nil {
			if errors.Is(err, ErrUDHOverflow) { // input UDH larger than an SMS
				return
			}
			t.Fatalf("rebuild: %v", err)
		}
		h2, rest, err := ParseUDH(b)
		if err != nil || len(rest) != 0 || h2.Concat != h.Concat || h2.Ref16 != h.Ref16 {
			t.Fatalf("round trip: %x → %+v %v", b, h2, err)
		}
		if int(b[0]) != len(b)-1 || !bytes.Equal(b[1:1+len(extra)], extra) {
			t.Fatalf("other IEs not kept: %x vs %x", b, extra)
		}
	})
}

// fuzzConfig is small so the fuzzer hits every bound quickly.
var fuzzConfig = Config{MaxSets: 4, MaxBytes: 1500, Timeout: 10 * time.Second}

// fuzzOriginal is the message Split-derived parts for key i, ref j belong
// to; each pair mixes alphabet and method differently.
func fuzzOriginal(t *testing.T, i, j int) []Part {
	n := 161 + 97*(i*4+j)
	payload := make([]byte, n)
	for k := range payload {
		payload[k] = byte('a' + (k+i+j)%26)
		if k%11 == 10 {
			payload[k] = 0x1B // ESC pairs straddle boundaries at several offsets
		}
	}
	a, m := Alphabet((i+j)%3), Method(j%3)
	if a == UCS2 && len(payload)%2 == 1 {
		payload = payload[:len(payload)-1]
	}
	parts, _, err := Split(nil, nil, payload, a, m, uint16(j))
	if err != nil {
		t.Fatal(err)
	}
	return parts
}

// FuzzReassembler drives a Reassembler with an op stream: advance time,
// Expire, add a part of a known Split message (keys 0-3), or add an
// arbitrary part (keys 4-7, never mixed with the known ones). It checks
// the bounds after every op and that every completed known message equals
// its original.
func FuzzReassembler(f *testing.F) {
	f.Add([]byte{2, 0, 2, 1, 2, 2, 2, 3})
	f.Add([]byte{2, 0x11, 2, 0x10, 0, 20, 1, 2, 0x12, 3, 0x44, 1, 2, 0})
	f.Add([]byte{3, 0x01, 0x03, 0x01, 0x40, 3, 0x01, 0x03, 0x02, 0x40, 3, 0x05, 0x03, 0x03, 0xff})
	f.Add(bytes.Repeat([]byte{2, 0x21, 2, 0x22, 2, 0x23, 2, 0x31, 0, 3}, 20))
	f.Fuzz(func(t *testing.T, ops []byte) {
		var originals [4][4][]Part
		var joined [4][4][]byte
		for i := range 4 {
			for j := range 4 {
				originals[i][j] = fuzzOriginal(t, i, j)
				for _, p := range originals[i][j] {
					joined[i][j] = append(joined[i][j], p.Body...)
				}
			}
		}
		drops := 0
		r := New(fuzzConfig, func(d *Dropped[addrKey]) {
			drops++
			if d.Received < 1 || d.Received > int(d.Total) || d.Reason == 0 {
				t.Fatalf("bad drop report %+v", *d)
			}
		})
		keys := [8]addrKey{key("0", "d"), key("1", "d"), key("2", "d"), key("3", "d"),
			key("4", "d"), key("5", "d"), key("6", "d"), key("7", "d")}
		now := t0
		next := func() byte {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return b
		}
		for len(ops) > 0 {
			switch op := next(); op & 3 {
			case 0:
				now = now.Add(time.Duration(next()) * 100 * time.Millisecond)
			case 1:
				r.Expire(now)
			case 2:
				sel := next()
				i, j := int(sel>>4)&3, int(sel>>2)&3
				parts := originals[i][j]
				p := parts[int(next())%len(parts)]
				m, done, err := r.Add(now, keys[i], p.Segment, p.Body)
				if err != nil && !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("known part %d/%d: %v", p.Seq, p.Total, err)
				}
				if done && !bytes.Equal(m.Body, joined[i][j]) {
					t.Fatalf("key %d ref %d reassembled wrong body", i, j)
				}
			case 3:
				k := keys[4+int(op>>2)&3]
				s := Segment{Ref: uint16(next() & 3), Total: next() & 7, Seq: next() & 7}
				body := make([]byte, int(next())*4)
				_, _, err := r.Add(now, k, s, body)
				if err != nil && KindOf(err) == KindNone {
					t.Fatalf("untyped error %v", err)
				}
			}
			if r.Bytes() > fuzzConfig.MaxBytes || r.Bytes() < 0 || r.Len() > fuzzConfig.MaxSets {
				t.Fatalf("bounds broken: %d bytes, %d sets", r.Bytes(), r.Len())
			}
		}
		st := r.Stats()
		if dropped := st.Expired + st.EvictedSets + st.EvictedBytes; dropped > uint64(drops) {
			t.Fatalf("%d drops counted, %d reported", dropped, drops)
		}
		r.Expire(now.Add(time.Hour))
		if r.Len() != 0 || r.Bytes() != 0 {
			t.Fatalf("after final expire: %d sets, %d bytes", r.Len(), r.Bytes())
		}
	})
}

// FuzzSplit: Split either rejects the payload with a typed error or yields
// parts that fit their SMS, cut only on unit boundaries, are as long as
// allowed, and reassemble (through UDH or SAR TLVs) to the payload.
func FuzzSplit(f *testing.F) {
	f.Add(bytes.Repeat([]byte{'a'}, 161), byte(0), byte(0), uint16(7))
	f.Add(gsm(200, map[int]byte{152: 0x1B, 153: 0x65}), byte(0), byte(0), uint16(1))
	f.Add(gsm(400, map[int]byte{150: 0x1B, 151: 0x1B, 152: 0x1B}), byte(0), byte(2), uint16(2))
	f.Add(ucs2(80, 66), byte(2), byte(0), uint16(0xBEEF))
	f.Add(ucs2(150, 65, 131), byte(2), byte(1), uint16(3))
	f.Add(make([]byte, 300), byte(1), byte(1), uint16(9))
	f.Add([]byte("short"), byte(0), byte(2), uint16(4))
	f.Add(bytes.Repeat([]byte{'a'}, 160), byte(0), byte(1), uint16(5))
	f.Fuzz(func(t *testing.T, payload []byte, ab, mb byte, ref uint16) {
		a, m := Alphabet(ab%3), Method(mb%3)
		parts, _, err := Split(nil, nil, payload, a, m, ref)
		if err != nil {
			if KindOf(err) == KindNone {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		bounds := unitBounds(payload, a)
		capacity := Capacity(a, 0)
		if len(parts) > 1 {
			capacity = Capacity(a, map[Method]int{UDH8: 6, UDH16: 7, SAR: 6}[m])
		}
		off := 0
		for i, p := range parts {
			// On the air: the UDH (built by the SMSC for SAR) plus the
			// text, GSM7 in septets after the UDH's septets incl. fill.
			udh := len(p.UDH)
			if m == SAR && len(parts) > 1 {
				udh = Concat8UDHLen
			}
			air, limit := udh+len(p.Body), UserDataOctets
			if a == GSM7 {
				air, limit = (udh*8+6)/7+len(p.Body), 160
			}
			if len(p.Body) > capacity || air > limit {
				t.Fatalf("part %d: %d+%d octets over capacity %d", i, len(p.UDH), len(p.Body), capacity)
			}
			off += len(p.Body)
			if !bounds[off] {
				t.Fatalf("part %d ends inside a unit at %d", i, off)
			}
			if i < len(parts)-1 {
				// Maximal: the next unit would not have fitted.
				nextEnd := off + 1
				for nextEnd < len(payload) && !bounds[nextEnd] {
					nextEnd++
				}
				if nextEnd-(off-len(p.Body)) <= capacity {
					t.Fatalf("part %d is short: %d, next unit ends at %d", i, len(p.Body), nextEnd)
				}
			}
		}
		r := New[addrKey](Config{MaxBytes: 1 << 20}, nil)
		var got []byte
		completed := false
		for i := len(parts) - 1; i >= 0; i-- {
			p := parts[i]
			seg := p.Segment
			body := p.Body
			if len(parts) > 1 && m != SAR {
				h, b, err := ParseUDH(append(append([]byte(nil), p.UDH...), p.Body...))
				if err != nil || !h.HasConcat {
					t.Fatalf("part %d UDH %x: %v", i, p.UDH, err)
				}
				seg, body = h.Concat, b
			} else if len(parts) > 1 {
				tlv, _ := AppendSAR(nil, p.Segment)
				s, ok, err := ParseSAR(tlv[4:6], tlv[10:11], tlv[15:16])
				if !ok || err != nil {
					t.Fatalf("SAR round trip: %v", err)
				}
				seg = s
			}
			msg, done, err := r.Add(t0, key("s", "d"), seg, body)
			if err != nil {
				t.Fatal(err)
			}
			if done {
				got, completed = append(got, msg.Body...), true
			}
		}
		if !completed || !bytes.Equal(got, payload) {
			t.Fatalf("reassembled %d octets, want %d (completed %v)", len(got), len(payload), completed)
		}
	})
}

// unitBounds is the oracle for cut: walk the payload left to right in
// units (GSM7 ESC+code, UTF-16 surrogate pair) and mark where each ends.
func unitBounds(p []byte, a Alphabet) []bool {
	b := make([]bool, len(p)+1)
	b[0] = true
	for i := 0; i < len(p); {
		n := 1
		switch {
		case a == GSM7 && p[i] == 0x1B && i+1 < len(p):
			n = 2
		case a == UCS2:
			n = 2
			if i+3 < len(p) && p[i] >= 0xD8 && p[i] <= 0xDB && p[i+2] >= 0xDC && p[i+2] <= 0xDF {
				n = 4
			}
		}
		i += n
		b[i] = true
	}
	return b
}
