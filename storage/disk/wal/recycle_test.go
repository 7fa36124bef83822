package wal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recycledOpen fills segments 1-3 from spares, removes segment 1 (kept
// for recycling), and rotates into segment 4, begun from it. It returns
// the entries still in the log.
func recycledOpen(t *testing.T, l *Log) []entry {
	t.Helper()
	all := fillPrepared(t, l, 2) // segments 1 and 2 closed, 3 open
	if err := l.Remove(1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.recycleName(0)); err != nil {
		t.Fatalf("segment 1 was not kept for recycling: %v", err)
	}
	all = append(all, fillHalf(t, l)...)
	waitSpare(t, l)
	if st := l.Stats(); st.PreallocRecycled != 1 {
		t.Fatalf("the spare was not made from segment 1: %+v", st)
	}
	for l.openSeq() == 3 {
		all = append(all, fillSegments(t, l, 1, 300)...)
	}
	var live []entry
	for _, e := range all {
		if e.pos.Segment() != 1 {
			live = append(live, e)
		}
	}
	return live
}

// crashCopy copies the log's directory as a kill -9 leaves it.
func crashCopy(t *testing.T, dir string) string {
	t.Helper()
	crashed := t.TempDir()
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n.Name() != "LOCK" {
			copyFile(t, filepath.Join(dir, n.Name()), filepath.Join(crashed, n.Name()))
		}
	}
	return crashed
}

// A kill while a recycled segment is written leaves segment 1's old
// entries after the new ones (the same payloads at the same offsets, the
// fill being the same): replay stops at the new entries' end, cuts the
// rest as a torn tail and replays none of the old ones.
func TestRecycledSegmentCrash(t *testing.T) {
	lb := &logBuf{}
	o := preallocOpts(t, lb)
	l := mustOpen(t, o)
	want := recycledOpen(t, l)
	want = append(want, fillSegments(t, l, 10, 300)...) // 3 KiB of segment 4's 64
	crashed := crashCopy(t, o.Dir)
	closeLog(t, l)
	seg := segName(crashed, 4)
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != int(o.SegmentSize) || strings.Count(string(b[40<<10:50<<10]), "\x00") > 5<<10 {
		t.Fatalf("segment 4's copy (%d bytes) does not hold segment 1's old entries past the new ones", len(b))
	}
	o.Dir = crashed
	l2, got, rs := replayAll(t, o)
	if len(got) != len(want) || rs.TornBytes == 0 || rs.CorruptSegments != 0 {
		t.Fatalf("replay after the kill: %d entries (want %d), %+v\n%s", len(got), len(want), rs, lb.String())
	}
	for i := range want {
		if got[i].pos != want[i].pos || string(got[i].payload) != string(want[i].payload) {
			t.Fatalf("entry %d: %x, want %x", i, got[i].pos, want[i].pos)
		}
	}
	more := fillSegments(t, l2, 10, 300)
	closeLog(t, l2)
	l3, got3, rs3 := replayAll(t, o)
	defer closeLog(t, l3)
	if len(got3) != len(want)+len(more) || rs3.TornBytes != 0 || rs3.CorruptSegments != 0 {
		t.Fatalf("second replay: %d entries (want %d), %+v", len(got3), len(want)+len(more), rs3)
	}
}

// Damage early in a recycled last segment, with more of its entries after
// it than a torn write explains, is still reported and the segment kept,
// not cut as a torn tail.
func TestRecycledSegmentDamageKept(t *testing.T) {
	lb := &logBuf{}
	o := preallocOpts(t, lb)
	l := mustOpen(t, o)
	recycledOpen(t, l)
	for l.Segments()[len(l.Segments())-1].End.Offset() < 2*int64(o.BufferSize)+8<<10 {
		fillSegments(t, l, 10, 300)
	}
	crashed := crashCopy(t, o.Dir)
	closeLog(t, l)
	seg := segName(crashed, 4)
	f, err := os.OpenFile(seg, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff, 0xfe}, headerSize+frameHeader+100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	o.Dir = crashed
	l2, _, rs := replayAll(t, o)
	defer closeLog(t, l2)
	if rs.CorruptSegments != 1 || rs.TornBytes != 0 || !strings.Contains(lb.String(), "wal_corrupt_segment") {
		t.Fatalf("damage in a recycled segment: %+v", rs)
	}
	if size := fileSize(t, seg); size != o.SegmentSize {
		t.Fatalf("the damaged segment was cut to %d bytes", size)
	}
}

// A removed segment is deleted when spares are not made.
func TestRemoveWithoutPreallocDeletes(t *testing.T) {
	o := opts(t, nil)
	o.SegmentSize, o.BufferSize = 64<<10, 16<<10
	l := mustOpen(t, o)
	defer closeLog(t, l)
	for l.openSeq() < 3 {
		fillSegments(t, l, 20, 300)
	}
	if err := l.Remove(1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.recycleName(0)); !os.IsNotExist(err) {
		t.Fatalf("a removed segment was kept without preallocation: %v", err)
	}
}
