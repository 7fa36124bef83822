package cdr

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// The queue's slots are resident once it has gone round: an event stays
// 40 octets (ring.MPSC adds 8 a slot).
func TestEventSize(t *testing.T) {
	if n := unsafe.Sizeof(event{}); n != 40 {
		t.Fatalf("event is %d octets, want 40", n)
	}
}

func TestUpstreamIDForms(t *testing.T) {
	long := strings.Repeat("x", storage.MaxUpstreamID)
	cases := []struct {
		id   string
		form uint8
	}{
		{"", upNone},
		{"7", upRaw},
		{"5F3A21", upRaw},
		{"0123456789abcdef", upRaw},                   // the simulator's: 16 hex digits
		{"ab\x00\"\\é", upRaw},                        // any octets
		{"0123456789abcdef0", upHexLo},                // 17, odd
		{"00000000000000000000000000000000", upHexLo}, // digits only, leading zeros
		{"12345678901234567890", upHexLo},             // 20 decimal digits
		{"DEADBEEF0123456789ABCDEF01234567", upHexUp},
		{"deadbeef0123456789abcdef012345678", upSpill}, // 33 digits
		{"DEADbeef0123456789abcdef", upSpill},          // mixed case
		{"0123456789abcdefg", upSpill},                 // not hex
		{"f47ac10b-58cc-4372-a567-0e02b2c3d479", upUUIDLo},
		{"F47AC10B-58CC-4372-A567-0E02B2C3D479", upUUIDUp},
		{"F47AC10B-58cc-4372-A567-0E02B2C3D479", upSpill}, // mixed case
		{"f47ac10b_58cc-4372-a567-0e02b2c3d479", upSpill}, // no dash
		{"f47ac10b-58cc-4372-a567-0e02b2c3d47-", upSpill}, // dash for a digit
		{"f47ac10b58cc4372a5670e02b2c3d479abcd", upSpill}, // 36 digits, no dashes
		{long, upSpill},
	}
	sp := newSpill(64)
	var buf []byte
	for _, c := range cases {
		var u upID
		if !u.set([]byte(c.id), sp) {
			t.Fatalf("%q: not kept", c.id)
		}
		if u.form != c.form {
			t.Errorf("%q: form %d, want %d", c.id, u.form, c.form)
		}
		if buf = u.get(buf, sp); string(buf) != c.id {
			t.Errorf("%q: read back %q", c.id, buf)
		}
	}
	if n := sp.inUse(); n != 0 {
		t.Fatalf("%d spill slots still taken after every id was read", n)
	}
	var u upID // longer than the store keeps: cut as before
	u.set([]byte(long+"yz"), sp)
	if buf = u.get(buf, sp); string(buf) != long {
		t.Fatalf("an id past MaxUpstreamID read back as %q", buf)
	}
}

func TestSpillTakesTheLowestFreeSlot(t *testing.T) {
	sp := newSpill(200) // 4 words: 256 slots
	id := []byte(strings.Repeat("z", 40))
	for i := range 256 {
		if got, ok := sp.put(id); !ok || got != i {
			t.Fatalf("put %d: slot %d %v", i, got, ok)
		}
	}
	if _, ok := sp.put(id); ok {
		t.Fatal("a full slab took another id")
	}
	sp.release(130)
	sp.release(5)
	if got, _ := sp.put(id); got != 5 {
		t.Fatalf("after freeing 5 and 130 put took %d, want 5", got)
	}
	if got, _ := sp.put(id); got != 130 {
		t.Fatalf("then %d, want 130", got)
	}
}

// Spilled ids taken and given back from several goroutines at once: each
// reads back its own, and the slab ends empty.
func TestSpillConcurrent(t *testing.T) {
	sp := newSpill(64)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			var u upID
			var buf []byte
			for i := range 5000 {
				id := fmt.Sprintf("g%d-%0*d", g, 20+i%30, i)
				for !u.set([]byte(id), sp) {
				}
				if buf = u.get(buf, sp); string(buf) != id {
					t.Errorf("read back %q, want %q", buf, id)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := sp.inUse(); n != 0 {
		t.Fatalf("%d slots taken at the end", n)
	}
}

// Through the stream: each form's id is on its line, a full queue gives
// back the spilled id it refused, and the writer gives back the rest.
func TestUpstreamIDsOnTheLines(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.QueueSize = 4 })
	ups := []string{"0123456789abcdef", "f47ac10b-58cc-4372-a567-0e02b2c3d479", "98765432109876543210",
		"SMSC:" + strings.Repeat("Ab", 20)}
	for i, up := range ups {
		e.put(uint64(i+1), "alice", "ACME", "4917012345678", "hi")
		e.s.Final(msg.Final{ID: msg.ID(i + 1), State: msg.StateDelivered, Done: e.clk.nowNs(), UpstreamID: []byte(up)})
	}
	e.s.Final(msg.Final{ID: 9, State: msg.StateDelivered, Done: e.clk.nowNs(), UpstreamID: bytes.Repeat([]byte("q-"), 30)})
	if st := e.s.Stats(); st.Dropped != 1 {
		t.Fatalf("dropped %d, want the fifth on a queue of 4", st.Dropped)
	}
	if n := e.s.sp.inUse(); n != 1 {
		t.Fatalf("%d spill slots taken, want the one queued id's", n)
	}
	e.step()
	got := e.lines()
	if len(got) != len(ups) {
		t.Fatalf("%d lines, want %d", len(got), len(ups))
	}
	for i, up := range ups {
		if got[i]["upstream_id"] != up {
			t.Errorf("line %d: upstream_id %v, want %q", i, got[i]["upstream_id"], up)
		}
	}
	if n := e.s.sp.inUse(); n != 0 {
		t.Fatalf("%d spill slots taken after the writer's step", n)
	}
}

// The slab makes a chunk when one of its slots is first taken, and keeps
// it: a long id spilled and read back allocates nothing once warm.
func TestSpillChunksMadeOnFirstUse(t *testing.T) {
	sp := newSpill(1 << 16)
	for w := range sp.chunks {
		if sp.chunks[w].Load() != nil {
			t.Fatalf("chunk %d made before any id", w)
		}
	}
	id := []byte(strings.Repeat("Ab", 20))
	var u upID
	buf := make([]byte, 0, storage.MaxUpstreamID)
	spillOne := func() {
		if !u.set(id, sp) || u.form != upSpill {
			t.Fatalf("not spilled: form %d", u.form)
		}
		buf = u.get(buf, sp)
	}
	if n := testing.AllocsPerRun(1000, spillOne); n != 0 {
		t.Fatalf("a spilled id allocates %v times once its chunk is made", n)
	}
	for w := range sp.chunks {
		if made := sp.chunks[w].Load() != nil; made != (w == 0) {
			t.Fatalf("chunk %d made: %v; want only the first", w, made)
		}
	}
}
