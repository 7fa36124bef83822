package wal

import (
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	h := appendHeader([]byte("prefix"), 42)
	if string(h[:6]) != "prefix" || len(h) != 6+headerSize {
		t.Fatalf("appendHeader touched the prefix or has length %d", len(h))
	}
	h = h[6:]
	if string(h[:8]) != "SMPPDLOG" || binary.LittleEndian.Uint32(h[8:]) != 1 || binary.LittleEndian.Uint64(h[16:]) != 42 {
		t.Fatalf("header fields: % x", h)
	}
	if he := checkHeader(h, 42); he != nil {
		t.Fatalf("checkHeader of a good header: %v", he)
	}
	cases := []struct {
		name   string
		mut    func(b []byte)
		seq    uint64
		reason string
		newer  uint32
	}{
		{"magic", func(b []byte) { b[0] = 'X' }, 42, "no segment magic", 0},
		{"newer", func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 2) }, 42, "newer format", 2},
		{"version 0", func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 0) }, 42, "format version 0", 0},
		{"checksum", func(b []byte) { b[20] ^= 1 }, 42, "header checksum mismatch", 0},
		{"other segment", func([]byte) {}, 43, "header names segment 42", 0},
	}
	for _, c := range cases {
		b := append([]byte(nil), h...)
		c.mut(b)
		he := checkHeader(b, c.seq)
		if he == nil || he.reason != c.reason || he.version != c.newer {
			t.Errorf("%s: got %+v, want reason %q version %d", c.name, he, c.reason, c.newer)
		}
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
