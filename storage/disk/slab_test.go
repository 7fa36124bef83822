package disk

import (
	"errors"
	"reflect"
	"runtime"
	"testing"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// The arena's chunks are zero, distinct and writable; past the first
// block they come from mapped blocks (on Linux), the next one mapped by
// prepare ahead of the burst that needs it, and unmapBlocks gives them
// back.
func TestSlabArenaChunks(t *testing.T) {
	a := &slabArena{mapped: new([][]byte)}
	linux := runtime.GOOS == "linux"
	seen := make(map[*[slabChunk]recSlot]bool)
	take := func(n int) {
		t.Helper()
		for range n {
			c := a.chunk()
			if seen[c] {
				t.Fatalf("chunk %d handed out twice", len(seen))
			}
			seen[c] = true
			for j := range c {
				if c[j] != (recSlot{}) {
					t.Fatalf("chunk %d slot %d is not zero", len(seen), j)
				}
			}
			c[0].id, c[slabChunk-1].id = 1, 2
		}
	}
	mapped := func(want int) {
		t.Helper()
		if !linux {
			want = 0
		}
		if got := len(*a.mapped); got != want {
			t.Fatalf("%d mapped blocks after %d chunks, want %d", got, len(seen), want)
		}
	}
	take(arenaFirst)
	mapped(0)
	a.prepare()
	mapped(1)
	a.prepare() // the next block is there already
	mapped(1)
	take(10) // from the prepared block
	mapped(1)
	a.prepare() // more than a chunk per shard left: not yet
	mapped(1)
	take(arenaBlock - 10 - (nShards - 1))
	a.prepare()
	mapped(2)
	take(nShards - 1 + arenaBlock + 1) // the rest, the prepared block, then one mapped at once
	mapped(3)
	unmapBlocks(a.mapped)
	if len(*a.mapped) != 0 {
		t.Fatal("unmapBlocks kept blocks")
	}
	var nilArena *slabArena
	nilArena.prepare()
	if c := nilArena.chunk(); c == nil || c[0] != (recSlot{}) {
		t.Fatal("a nil arena gave no zero chunk")
	}
}

// A store past its arena's first block (one chunk per shard) keeps and
// replays its records in the mapped blocks, and a dropped store's blocks
// are unmapped by its cleanup without harm.
func TestStorePastFirstBlock(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Sync: wal.SyncNever, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2*arenaFirst*slabChunk + 1
	for i := uint64(1); i <= n; i++ {
		r := benchRecord(i)
		err := s.Put(&r)
		if errors.Is(err, wal.ErrBufferFull) {
			// Puts outran the log's writer (a loaded machine): wait
			// for it, as a caller would.
			drain(t, s)
			err = s.Put(&r)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if runtime.GOOS == "linux" && len(*s.arena.mapped) == 0 {
		t.Fatalf("%d records, no mapped block", n)
	}
	check := func(s *Store) {
		t.Helper()
		var out storage.Record
		for _, i := range []uint64{1, arenaFirst * slabChunk, arenaFirst*slabChunk + 1, n} {
			if err := s.Get(benchRecord(i).ID, &out); err != nil || out.ID != benchRecord(i).ID || out.DestLen != 12 {
				t.Fatalf("record %d: %v, %+v", i, err, out)
			}
		}
		if got := s.Len(); got != n {
			t.Fatalf("Len %d, want %d", got, n)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = nil
	runtime.GC()
	runtime.GC()
	s2, err := Open(Options{Dir: dir, Sync: wal.SyncNever, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	check(s2)
}

// The mapped blocks are outside the Go heap, so the collector never sees
// a pointer stored in them: recSlot must hold none (a string or slice
// field added to it would point at memory the collector frees).
func TestRecSlotHoldsNoPointers(t *testing.T) {
	var has func(reflect.Type) bool
	has = func(ty reflect.Type) bool {
		switch ty.Kind() {
		case reflect.Array:
			return ty.Len() > 0 && has(ty.Elem())
		case reflect.Struct:
			for i := range ty.NumField() {
				if has(ty.Field(i).Type) {
					return true
				}
			}
			return false
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
			return false
		}
		return true // pointers, strings, slices, maps, channels, funcs, interfaces
	}
	if has(reflect.TypeFor[recSlot]()) {
		t.Fatal("recSlot holds a pointer: its slots live in memory the collector does not scan (slab_linux.go)")
	}
}
