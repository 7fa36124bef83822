package cdr

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// getOnly hides the store's GetStored: the writer reads through Get.
type getOnly struct{ storage.Messages }

// The writer reads records with GetStored, which skips the view Get puts
// over a state decided at acceptance. A line takes its state from the
// event, so the files are byte for byte those of a writer reading with
// Get: random records, states decided at acceptance before and after the
// clock, rewritten addresses, upstream ids from the store, missing ones.
func TestGetStoredWritesTheLinesGetWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	clk := newClock()
	store := memory.New(memory.Options{MaxRecords: 1 << 14, MaxUpstream: 1 << 14, TTL: 365 * 24 * time.Hour, Now: clk.nowNs})
	open := func(m storage.Messages) (*Stream, string) {
		dir := t.TempDir()
		s, err := Open(Options{Dir: dir, Messages: m, UpstreamIDs: store, Connectors: []string{"sim", "smsc-a"},
			Logger: zerolog.Nop(), Now: clk.now})
		if err != nil {
			t.Fatal(err)
		}
		return s, dir
	}
	viaStored, dirStored := open(store)
	viaGet, dirGet := open(getOnly{store})
	finals := []msg.State{msg.StateDelivered, msg.StateExpired, msg.StateUndeliverable, msg.StateRejected}
	views := 0 // records Get shows otherwise than stored: the case under test
	const n = 4000
	for i := uint64(1); i <= n; i++ {
		id := msg.ID(i)
		if rng.IntN(20) == 0 {
			continue // no record: the line says so
		}
		r := storage.Record{ID: id, SystemID: string(randomBytes(rng, 1+rng.IntN(12))), State: msg.StateEnroute,
			RegisteredDelivery: byte(rng.IntN(2)), DataCoding: byte(rng.IntN(9)), SourceTON: byte(rng.IntN(7)),
			DestTON: 1, DestNPI: 1, Connector: int32(rng.IntN(3)) - 1, Submitted: clk.nowNs() - rng.Int64N(int64(time.Minute)),
			Parts: uint8(1 + rng.IntN(3)), Charge: rng.Int64N(100) * 10_000, ChargeParts: uint16(rng.IntN(3)),
			MTRoute: string(randomBytes(rng, rng.IntN(8)))}
		r.SetAddrs(randomBytes(rng, rng.IntN(storage.MaxAddr+1)), randomBytes(rng, rng.IntN(storage.MaxAddr+1)),
			randomBytes(rng, rng.IntN(storage.MaxText+1)))
		if rng.IntN(4) == 0 {
			r.Rewritten = true
			r.UpSourceTON, r.UpDestNPI = byte(rng.IntN(7)), byte(rng.IntN(19))
			r.UpSourceLen = uint8(copy(r.UpSource[:], randomBytes(rng, rng.IntN(storage.MaxAddr+1))))
			r.UpDestLen = uint8(copy(r.UpDest[:], randomBytes(rng, rng.IntN(storage.MaxAddr+1))))
		}
		if rng.IntN(2) == 0 {
			r.Expires = r.Submitted + int64(time.Hour)
		}
		if err := store.Put(&r); err != nil {
			t.Fatal(err)
		}
		switch rng.IntN(3) {
		case 0: // decided at acceptance, shown from a time before or after now
			at := clk.nowNs() + rng.Int64N(int64(2*time.Second)) - int64(time.Second)
			if err := store.SetAccepted(id, finals[rng.IntN(len(finals))], uint16(rng.IntN(3)), at); err != nil {
				t.Fatal(err)
			}
		case 1:
			if err := store.SetState(id, finals[rng.IntN(len(finals))], uint16(rng.IntN(3)), clk.nowNs()); err != nil {
				t.Fatal(err)
			}
		}
		if rng.IntN(3) == 0 {
			if err := store.PutUpstreamOf(id, randomBytes(rng, 1+rng.IntN(12))); err != nil {
				t.Fatal(err)
			}
		}
		var got, stored storage.Record
		if store.Get(id, &got) == nil && store.GetStored(id, &stored) == nil && got != stored {
			views++
		}
	}
	if views == 0 {
		t.Fatal("no record read otherwise through Get than through GetStored: the test proves nothing")
	}
	for i := uint64(1); i <= n; i++ {
		f := msg.Final{ID: msg.ID(i), State: finals[rng.IntN(len(finals))], Err: uint16(rng.IntN(70000)),
			Done: clk.nowNs() + rng.Int64N(int64(time.Second)), Refunded: rng.IntN(2) == 0}
		if rng.IntN(2) == 0 {
			f.UpstreamID = randomBytes(rng, rng.IntN(storage.MaxUpstreamID+1))
		}
		viaStored.Final(f)
		viaGet.Final(f)
		if i%700 == 0 {
			for _, s := range []*Stream{viaStored, viaGet} {
				s.mu.Lock()
				s.step(clk.nowNs())
				s.mu.Unlock()
			}
			clk.advance(time.Millisecond)
		}
	}
	for _, s := range []*Stream{viaStored, viaGet} {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := viaStored.Stats(), viaGet.Stats(); a.Written != n || a.Written != b.Written || a.Missing != b.Missing || a.Missing == 0 {
		t.Fatalf("GetStored: %d lines, %d missing; Get: %d lines, %d missing; want %d lines each, the same missing", a.Written, a.Missing, b.Written, b.Missing, n)
	}
	a, b := readAll(t, dirStored), readAll(t, dirGet)
	if !bytes.Equal(a, b) {
		i := 0
		for i < min(len(a), len(b)) && a[i] == b[i] {
			i++
		}
		t.Fatalf("the files differ at byte %d of %d/%d:\n GetStored %.200s\n Get       %.200s", i, len(a), len(b), a[max(0, i-100):], b[max(0, i-100):])
	}
}

// readAll returns the contents of dir's CDR files in name order.
func readAll(t *testing.T, dir string) []byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "cdr-*.jsonl"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no closed CDR file in %s (%v)", dir, err)
	}
	var out []byte
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}
