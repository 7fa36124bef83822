//go:build !race

package concat

import (
	"testing"
	"time"
)

func TestAllocsParseUDH(t *testing.T) {
	p := unhex(t, "0B 0504 0B84 23F0 0003 07 02 01 414243")
	var sink int
	n := testing.AllocsPerRun(1000, func() {
		h, body, err := ParseUDH(p)
		if err != nil {
			t.Fatal(err)
		}
		for it := h.IEs(); ; {
			ie, ok := it.Next()
			if !ok {
				break
			}
			sink += len(ie.Data)
		}
		d, _, _ := h.Ports()
		sink += int(d) + len(body) + int(h.Concat.Seq)
	})
	if n != 0 {
		t.Fatalf("ParseUDH: %v allocs", n)
	}
	_ = sink
}

func TestAllocsSARAndUDHBuild(t *testing.T) {
	buf := make([]byte, 0, 64)
	ref, total, seq := []byte{1, 2}, []byte{3}, []byte{1}
	n := testing.AllocsPerRun(1000, func() {
		s, _, err := ParseSAR(ref, total, seq)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := AppendSAR(buf[:0], s)
		b, _ = AppendUDH(b, s, true, nil)
		if len(b) != SARTLVsLen+Concat16UDHLen {
			t.Fatal(len(b))
		}
	})
	if n != 0 {
		t.Fatalf("SAR/UDH build: %v allocs", n)
	}
}

func TestAllocsSplit(t *testing.T) {
	payload := gsm(1000, map[int]byte{152: 0x1B, 153: 0x65})
	dst := make([]Part, 0, MaxParts)
	buf := make([]byte, 0, MaxParts*Concat16UDHLen)
	for _, m := range []Method{UDH8, UDH16, SAR} {
		n := testing.AllocsPerRun(500, func() {
			parts, _, err := Split(dst[:0], buf[:0], payload, GSM7, m, 42)
			if err != nil || len(parts) != 7 {
				t.Fatal(len(parts), err)
			}
		})
		if n != 0 {
			t.Fatalf("Split %v: %v allocs", m, n)
		}
	}
}

// TestAllocsReassemblerSteadyState: once every slot has held a message of
// this size, a full message cycle (in order, shuffled, with a duplicate,
// plus an expired set) allocates nothing.
func TestAllocsReassemblerSteadyState(t *testing.T) {
	const sets = 8
	r := New[addrKey](Config{MaxSets: sets, Timeout: time.Minute}, nil)
	parts := mustSplit(t, text(1000, 1), GSM7, UDH8, 9)
	order := []int{3, 0, 6, 1, 5, 2, 4}
	keys := make([]addrKey, sets)
	for i := range keys {
		keys[i] = key(string(rune('a'+i)), "dest")
	}
	now := t0
	cycle := func() {
		for _, k := range keys { // in order, every slot in use at once
			for _, p := range parts[:len(parts)-1] {
				r.Add(now, k, p.Segment, p.Body)
			}
		}
		for _, k := range keys {
			p := parts[len(parts)-1]
			if _, done, err := r.Add(now, k, p.Segment, p.Body); !done || err != nil {
				t.Fatal("in-order set did not complete", err)
			}
		}
		for _, i := range order { // shuffled, plus a duplicate
			r.Add(now, keys[0], parts[i].Segment, parts[i].Body)
			if i == 0 {
				r.Add(now, keys[0], parts[i].Segment, parts[i].Body)
			}
		}
		r.Add(now, keys[1], parts[0].Segment, parts[0].Body)
		now = now.Add(2 * time.Minute)
		if r.Expire(now) != 1 {
			t.Fatal("expected one expiry")
		}
	}
	cycle() // warm-up: slot buffers and output scratch reach their size
	n := testing.AllocsPerRun(100, cycle)
	if n != 0 {
		t.Fatalf("reassembler steady state: %v allocs per cycle of %d parts", n, sets*len(parts)+len(parts)+2)
	}
}
