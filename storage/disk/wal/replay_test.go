package wal

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
)

func appendFile(t *testing.T, name string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func fileSize(t *testing.T, name string) int64 {
	t.Helper()
	st, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestTornTailTruncated(t *testing.T) {
	// A frame header claiming 100 bytes with 10 of them; half a frame
	// header; zeros (a preallocated or never-written tail); a whole frame
	// with a bad checksum.
	full := make([]byte, frameHeader+10)
	putFrameHeader(full, 3, 10, frameCRC(3, make([]byte, 10))^1)
	short := make([]byte, frameHeader+10)
	putFrameHeader(short, 3, 100, 0)
	for name, tail := range map[string][]byte{
		"cut payload": short, "cut header": {5, 0, 0}, "zeros": make([]byte, 64), "bad checksum": full,
	} {
		t.Run(name, func(t *testing.T) {
			lb := &logBuf{}
			o := opts(t, lb)
			l := mustOpen(t, o)
			want := fillSegments(t, l, 20, 50)
			closeLog(t, l)
			seg := segName(o.Dir, 1)
			good := fileSize(t, seg)
			appendFile(t, seg, tail)

			l2, got, rs := replayAll(t, o)
			if len(got) != len(want) || rs.TornBytes != int64(len(tail)) || rs.CorruptSegments != 0 {
				t.Fatalf("replay: %d entries (want %d), %+v", len(got), len(want), rs)
			}
			if fileSize(t, seg) != good {
				t.Fatalf("file is %d bytes after the cut, want %d", fileSize(t, seg), good)
			}
			if !strings.Contains(lb.String(), "wal_torn_tail") {
				t.Fatal("the cut was not logged")
			}
			// New entries go where the torn one was, and replay.
			pos, err := l2.Append(4, []byte("after"), false)
			if err != nil || pos != mkpos(1, good+frameHeader+5) {
				t.Fatalf("Append after the cut: %x, %v", pos, err)
			}
			closeLog(t, l2)
			l3, got3, rs3 := replayAll(t, o)
			defer closeLog(t, l3)
			if len(got3) != len(want)+1 || string(got3[len(got3)-1].payload) != "after" || rs3.TornBytes != 0 {
				t.Fatalf("second replay: %d entries, %+v", len(got3), rs3)
			}
		})
	}
}

func TestCorruptMiddleSegmentSkipped(t *testing.T) {
	lb := &logBuf{}
	o := opts(t, lb)
	o.SegmentSize, o.BufferSize = MinSegmentSize, MinSegmentSize
	l := mustOpen(t, o)
	want := fillSegments(t, l, 150, 100) // 109-byte frames: 37 a segment, 5 segments
	closeLog(t, l)
	// Damage the 6th entry of segment 2.
	corruptAt(t, segName(o.Dir, 2), headerSize+5*109+40)
	var expect []entry
	skipped := 0
	for _, e := range want {
		if e.pos.Segment() == 2 && e.pos.Offset() > headerSize+5*109 {
			skipped++
			continue
		}
		expect = append(expect, e)
	}
	// Twice: a corrupt segment is reported at every start, never fatal.
	for round := range 2 {
		l2, got, rs := replayAll(t, o)
		if rs.CorruptSegments != 1 || rs.SkippedBytes != int64(skipped*109) || rs.TornBytes != 0 {
			t.Fatalf("round %d: %+v (want %d entries skipped)", round, rs, skipped)
		}
		if len(got) != len(expect) {
			t.Fatalf("round %d: %d entries, want %d", round, len(got), len(expect))
		}
		for i := range got {
			if got[i].pos != expect[i].pos {
				t.Fatalf("round %d: entry %d at %x, want %x", round, i, got[i].pos, expect[i].pos)
			}
		}
		var corrupt []uint64
		for _, s := range l2.Segments() {
			if s.Corrupt {
				corrupt = append(corrupt, s.Seq)
			}
		}
		if len(corrupt) != 1 || corrupt[0] != 2 {
			t.Fatalf("Segments marks %v corrupt", corrupt)
		}
		closeLog(t, l2)
	}
	if !strings.Contains(lb.String(), "wal_corrupt_segment") || !strings.Contains(lb.String(), "0000000002.wal") {
		t.Fatal("the corrupt segment was not logged with its file")
	}
}

func TestCorruptHeaders(t *testing.T) {
	o := opts(t, nil)
	o.SegmentSize, o.BufferSize = MinSegmentSize, MinSegmentSize
	l := mustOpen(t, o)
	want := fillSegments(t, l, 100, 100) // 3 segments
	closeLog(t, l)
	n := len(l.Segments())
	corruptAt(t, segName(o.Dir, 2), 2)          // magic of a middle segment
	corruptAt(t, segName(o.Dir, uint64(n)), 20) // checksum of the last
	l2, got, rs := replayAll(t, o)
	if rs.CorruptSegments != 2 {
		t.Fatalf("%+v", rs)
	}
	for _, e := range got {
		if s := e.pos.Segment(); s == 2 || s == uint64(n) {
			t.Fatalf("entry from corrupt segment %d", s)
		}
	}
	if len(got) == 0 || len(got) >= len(want) {
		t.Fatalf("%d entries of %d", len(got), len(want))
	}
	// The last segment is unreadable: appends go to a new one after it.
	pos, err := l2.Append(1, []byte("x"), false)
	if err != nil || pos.Segment() != uint64(n)+1 {
		t.Fatalf("Append after a corrupt last segment: %x, %v", pos, err)
	}
	closeLog(t, l2)
	l3, got3, _ := replayAll(t, o)
	defer closeLog(t, l3)
	if string(got3[len(got3)-1].payload) != "x" {
		t.Fatal("the entry after the corrupt segment did not replay")
	}
}

func TestTornSegmentCreation(t *testing.T) {
	o := opts(t, nil)
	l := mustOpen(t, o)
	want := fillSegments(t, l, 5, 20)
	closeLog(t, l)
	// The process stopped while creating segment 2: 7 bytes of its header.
	if err := os.WriteFile(segName(o.Dir, 2), []byte("SMPPDLO"), 0o640); err != nil {
		t.Fatal(err)
	}
	l2, got, rs := replayAll(t, o)
	defer closeLog(t, l2)
	if len(got) != len(want) || rs.CorruptSegments != 0 {
		t.Fatalf("%d entries, %+v", len(got), rs)
	}
	pos, err := l2.Append(1, []byte("y"), false)
	if err != nil || pos != mkpos(2, headerSize+frameHeader+1) {
		t.Fatalf("Append: %x, %v", pos, err)
	}
}

func TestNewerFormatRefused(t *testing.T) {
	o := opts(t, nil)
	l := mustOpen(t, o)
	fillSegments(t, l, 3, 10)
	closeLog(t, l)
	name := segName(o.Dir, 1)
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var v [4]byte
	binary.LittleEndian.PutUint32(v[:], 3)
	f.WriteAt(v[:], 8)
	f.Close()
	_, err = Open(o)
	if !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "version 3") {
		t.Fatalf("Open of a newer format: %v", err)
	}
	// Refused without taking the lock for good.
	binary.LittleEndian.PutUint32(v[:], 2)
	f, _ = os.OpenFile(name, os.O_RDWR, 0)
	f.WriteAt(v[:], 8)
	f.Close()
	l2, got, _ := replayAll(t, o)
	defer closeLog(t, l2)
	if len(got) != 3 {
		t.Fatalf("%d entries after restoring the version", len(got))
	}
}

func TestDamagedLastSegmentKeptNotCut(t *testing.T) {
	o := opts(t, nil)
	o.BufferSize, o.SegmentSize = MinBufferSize, 1<<20
	l := mustOpen(t, o)
	fillSegments(t, l, 200, 100) // 21.8 KB in segment 1
	closeLog(t, l)
	seg := segName(o.Dir, 1)
	size := fileSize(t, seg)
	corruptAt(t, seg, headerSize+10*109+50) // 18 KB of entries after it: not a torn write
	l2, got, rs := replayAll(t, o)
	if len(got) != 10 || rs.CorruptSegments != 1 || rs.TornBytes != 0 || rs.SkippedBytes != size-headerSize-10*109 {
		t.Fatalf("%d entries, %+v", len(got), rs)
	}
	if fileSize(t, seg) != size {
		t.Fatal("the damaged segment was cut")
	}
	pos, err := l2.Append(1, []byte("z"), false)
	if err != nil || pos.Segment() != 2 {
		t.Fatalf("Append after a damaged last segment: %x, %v", pos, err)
	}
	closeLog(t, l2)
	l3, got3, rs3 := replayAll(t, o)
	defer closeLog(t, l3)
	if len(got3) != 11 || rs3.CorruptSegments != 1 || got3[10].pos != pos {
		t.Fatalf("second replay: %d entries, %+v", len(got3), rs3)
	}
}

func TestLongZeroTailCut(t *testing.T) {
	o := opts(t, nil)
	o.BufferSize = MinBufferSize
	l := mustOpen(t, o)
	want := fillSegments(t, l, 10, 100)
	closeLog(t, l)
	appendFile(t, segName(o.Dir, 1), make([]byte, 5*MinBufferSize)) // a size flushed before its data
	l2, got, rs := replayAll(t, o)
	defer closeLog(t, l2)
	if len(got) != len(want) || rs.TornBytes != 5*MinBufferSize || rs.CorruptSegments != 0 {
		t.Fatalf("%d entries, %+v", len(got), rs)
	}
}
