package wal

import (
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	h := appendHeader([]byte("prefix"), 42, false, 0)
	if string(h[:6]) != "prefix" || len(h) != 6+headerSize {
		t.Fatalf("appendHeader touched the prefix or has length %d", len(h))
	}
	h = h[6:]
	if string(h[:8]) != "SMPPDLOG" || binary.LittleEndian.Uint32(h[8:]) != 2 || binary.LittleEndian.Uint64(h[16:]) != 42 {
		t.Fatalf("header fields: % x", h)
	}
	if sh, he := checkHeader(h, 42); he != nil || sh != (segHeader{seed: frameSeed(42)}) {
		t.Fatalf("checkHeader of a good header: %+v, %v", sh, he)
	}
	r := appendHeader(nil, 43, true, 0x1234)
	if sh, he := checkHeader(r, 43); he != nil || sh != (segHeader{seed: frameSeed(43), recycled: true, stale: 0x1234}) {
		t.Fatalf("checkHeader of a recycled segment's header: %+v, %v", sh, he)
	}
	cases := []struct {
		name   string
		mut    func(b []byte)
		seq    uint64
		reason string
		newer  uint32
	}{
		{"magic", func(b []byte) { b[0] = 'X' }, 42, "no segment magic", 0},
		{"newer", func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 3) }, 42, "newer format", 3},
		{"version 0", func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 0) }, 42, "format version 0", 0},
		{"checksum", func(b []byte) { b[20] ^= 1 }, 42, "header checksum mismatch", 0},
		{"other segment", func([]byte) {}, 43, "header names segment 42", 0},
	}
	for _, c := range cases {
		b := append([]byte(nil), h...)
		c.mut(b)
		_, he := checkHeader(b, c.seq)
		if he == nil || he.reason != c.reason || he.version != c.newer {
			t.Errorf("%s: got %+v, want reason %q version %d", c.name, he, c.reason, c.newer)
		}
	}
}

// A version 1 header (the release before segments were recycled) still
// reads, its frames unseeded.
func TestVersion1HeaderReads(t *testing.T) {
	var h [headerSize]byte
	copy(h[:], "SMPPDLOG")
	binary.LittleEndian.PutUint32(h[8:], 1)
	binary.LittleEndian.PutUint64(h[16:], 9)
	binary.LittleEndian.PutUint32(h[24:], crc32.Checksum(h[:24], crc32.MakeTable(crc32.Castagnoli)))
	if sh, he := checkHeader(h[:], 9); he != nil || sh != (segHeader{}) {
		t.Fatalf("version 1 header: %+v, %v", sh, he)
	}
}

// Frame seeds differ per segment, are never 0 where a version 1 frame
// could be taken for a version 2 one at the same place, and never let a
// zero frame pass.
func TestFrameSeeds(t *testing.T) {
	seen := map[uint32]uint64{}
	for _, seq := range []uint64{1, 2, 3, 255, 256, 1 << 16, 1<<32 - 1} {
		s := frameSeed(seq)
		if s == zeroFrameCRC {
			t.Fatalf("segment %d: a zero frame would pass its seed", seq)
		}
		if o, ok := seen[s]; ok {
			t.Fatalf("segments %d and %d share seed %08x", o, seq, s)
		}
		seen[s] = seq
	}
}

func TestFrameCRCIsCastagnoliOverKindAndPayload(t *testing.T) {
	p := []byte("payload bytes")
	want := crc32.Checksum(append([]byte{7}, p...), crc32.MakeTable(crc32.Castagnoli))
	if got := frameCRC(7, p); got != want {
		t.Fatalf("frameCRC = %08x, want %08x", got, want)
	}
	// An all-zero frame (a hole, a preallocated tail) never passes.
	if frameCRC(0, nil) == 0 {
		t.Fatal("the checksum of an empty zero-kind entry is 0: zeros would read as an entry")
	}
}

func TestSegNames(t *testing.T) {
	n := segName("/d", 7)
	if !strings.HasSuffix(n, "/0000000007.wal") {
		t.Fatalf("segName = %q", n)
	}
	for name, want := range map[string]uint64{
		"0000000007.wal": 7, "4294967295.wal": 1<<32 - 1, "0000000000.wal": 0,
		"LOCK": 0, "000000007.wal": 0, "4294967296.wal": 0, "0000000007.tmp": 0, "00000000x7.wal": 0,
	} {
		got, ok := parseSegName(name)
		if ok != (want != 0) || got != want {
			t.Errorf("parseSegName(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
}

func TestPos(t *testing.T) {
	p := mkpos(5, 1234)
	if p.Segment() != 5 || p.Offset() != 1234 {
		t.Fatalf("Pos %x: segment %d offset %d", uint64(p), p.Segment(), p.Offset())
	}
	if mkpos(5, MaxSegmentSize) >= mkpos(6, headerSize) {
		t.Fatal("the end of a segment must sort before the start of the next")
	}
}
