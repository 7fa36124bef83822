package jetstream

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/storagetest"
)

// testBatch is n kPut entries as the journal appends them.
func testBatch(n int) []byte {
	var b []byte
	for i := range n {
		r := storage.Record{ID: msg.ID(uint64(i+1)<<12 | 1), SystemID: "bob", State: msg.StateEnroute,
			Submitted: time.Now().UnixNano(), MTRoute: "default"}
		e := appendRecord([]byte{kPut}, &r)
		e = append(e, putBody)
		e = appendBytes(e, []byte("submit_sm body of message"))
		b = appendU32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b
}

// TestCompressBatch: a batch of journal entries goes out as one smaller
// kS2 entry that unwraps to the same bytes; a small or incompressible
// batch goes out as it is and unwraps to itself; a damaged kS2 entry is
// refused.
func TestCompressBatch(t *testing.T) {
	raw := testBatch(200)
	out := compressBatch(nil, raw)
	if len(out) >= len(raw)/2 || out[4] != kS2 {
		t.Fatalf("%d entries: %d bytes -> %d (kind %d): not compressed", 200, len(raw), len(out), out[4])
	}
	var buf []byte
	got, err := unwrap(&buf, out)
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("unwrap: %v, equal %v", err, bytes.Equal(got, raw))
	}
	// The decode buffer is kept: the next batch of that size reuses it.
	if cap(buf) < len(raw) {
		t.Fatalf("decode buffer not kept: cap %d", cap(buf))
	}

	small := testBatch(1)
	if got := compressBatch(nil, small); &got[0] != &small[0] {
		t.Fatal("a batch under minCompress was compressed")
	}
	noise := make([]byte, 4096)
	for i := range noise {
		noise[i] = byte(rand.Uint32())
	}
	noise[4] = kPut
	if got := compressBatch(nil, noise); &got[0] != &noise[0] {
		t.Fatal("an incompressible batch was replaced")
	}
	if got, err := unwrap(&buf, raw); err != nil || &got[0] != &raw[0] {
		t.Fatalf("unwrap of a plain batch: %v", err)
	}

	for name, bad := range map[string][]byte{
		"truncated":    out[:len(out)-3],
		"not s2":       append(append([]byte{}, out[:5]...), bytes.Repeat([]byte{0xff}, len(out)-5)...),
		"length wrong": append(append([]byte{}, out...), 0),
	} {
		if _, err := unwrap(&buf, bad); !errors.Is(err, errExpand) {
			t.Errorf("%s: unwrap err %v, want errExpand", name, err)
		}
	}
}

// TestOldReaderRefusesACompressedBatch: a reader that does not unwrap
// (an older node) sees one entry of an unknown kind, not entries made of
// compressed bytes.
func TestOldReaderRefusesACompressedBatch(t *testing.T) {
	out := compressBatch(nil, testBatch(200))
	var kinds []byte
	p := out
	for len(p) >= 5 {
		n := int(uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24)
		if n < 1 || len(p) < 4+n {
			t.Fatalf("the kS2 entry's length %d does not frame it (%d bytes)", n, len(p))
		}
		kinds = append(kinds, p[4])
		p = p[4+n:]
	}
	if len(kinds) != 1 || kinds[0] != kS2 {
		t.Fatalf("entry kinds %v, want one kS2", kinds)
	}
	var a applier
	if err := a.entry(1, kS2, out[5:]); err == nil {
		t.Fatal("a kS2 entry applied as an entry")
	}
}

// TestCompressedJournalReplays: a store's batches are published
// compressed (fewer bytes than appended) and a reopen replays them into
// the same records.
func TestCompressedJournalReplays(t *testing.T) {
	c := storagetest.Config{Dir: t.TempDir(), TTL: time.Hour, MaxHeld: 100, MaxDeadLetters: 10}
	s := openTest(t, c, 5)
	const n = 3000
	for i := uint64(1); i <= n; i++ {
		r := storage.Record{ID: msg.ID(i<<12 | 5), SystemID: "bob", State: msg.StateEnroute, Submitted: time.Now().UnixNano()}
		if err := s.PutMessage(&r, []byte("a body that the journal carries")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Committer().WaitCommitted(s.Committer().Written()); err != nil {
		t.Fatal(err)
	}
	js := s.Journal()
	if js.RawBytes == 0 || js.SentBytes*2 > js.RawBytes {
		t.Fatalf("published %d bytes for %d appended: not compressed", js.SentBytes, js.RawBytes)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, c, 5)
	defer s.Close()
	if s.Len() != n {
		t.Fatalf("replayed %d records, want %d", s.Len(), n)
	}
	var r storage.Record
	if err := s.Get(msg.ID(n<<12|5), &r); err != nil || r.SystemID != "bob" {
		t.Fatalf("record %d after the replay: %v %+v", n, err, r)
	}
}
