package wal

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// fillSegments appends n entries of size bytes and returns them, waiting
// for the writer when the buffer is full.
func fillSegments(t *testing.T, l *Log, n, size int) []entry {
	t.Helper()
	var out []entry
	for i := range n {
		p := payloadFor(i, size)
		pos, err := l.Append(byte(i%7), p, false)
		for errors.Is(err, ErrBufferFull) { // a 4 KiB buffer: wait for the writer
			if err = l.WaitCommitted(l.Written()); err == nil {
				pos, err = l.Append(byte(i%7), p, false)
			}
		}
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		out = append(out, entry{pos, byte(i % 7), p})
	}
	if err := l.WaitCommitted(uint64(out[len(out)-1].pos)); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRotationRemoveAndReadSegment(t *testing.T) {
	o := opts(t, nil)
	fs := &faultFS{}
	o.FS, o.SegmentSize, o.BufferSize = fs, MinSegmentSize, MinSegmentSize
	l := mustOpen(t, o)
	_, _, dirSyncs0 := fs.count()
	want := fillSegments(t, l, 200, 100) // 109-byte frames, 37 a segment
	segs := l.Segments()
	if len(segs) < 5 {
		t.Fatalf("%d segments for 200 entries of 109 bytes in 4 KiB segments", len(segs))
	}
	for i, s := range segs {
		if s.Seq != uint64(i+1) || s.Bytes > MinSegmentSize || s.First != mkpos(s.Seq, headerSize) || s.End.Segment() != s.Seq {
			t.Fatalf("segment %d: %+v", i, s)
		}
		if s.Active != (i == len(segs)-1) {
			t.Fatalf("segment %d Active = %v", i, s.Active)
		}
		if st, err := os.Stat(segName(o.Dir, s.Seq)); err != nil || st.Size() != s.Bytes {
			t.Fatalf("segment %d file: %v, size %v, want %d", s.Seq, err, st, s.Bytes)
		}
	}
	// Every entry's position names its segment, and ends inside it.
	for _, e := range want {
		s := segs[e.pos.Segment()-1]
		if e.pos <= s.First || e.pos > s.End {
			t.Fatalf("entry at %x outside its segment %+v", e.pos, s)
		}
	}
	if _, _, ds := fs.count(); ds-dirSyncs0 != len(segs)-1 {
		t.Fatalf("%d directory fsyncs for %d new segments", ds-dirSyncs0, len(segs)-1)
	}

	// ReadSegment gives segment 2's entries with Append's positions.
	var got []entry
	if err := l.ReadSegment(2, func(pos Pos, kind byte, p []byte) error {
		got = append(got, entry{pos, kind, append([]byte(nil), p...)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var inTwo []entry
	for _, e := range want {
		if e.pos.Segment() == 2 {
			inTwo = append(inTwo, e)
		}
	}
	if len(got) != len(inTwo) || len(got) == 0 {
		t.Fatalf("ReadSegment(2): %d entries, want %d", len(got), len(inTwo))
	}
	for i := range got {
		if got[i].pos != inTwo[i].pos || got[i].kind != inTwo[i].kind || !bytes.Equal(got[i].payload, inTwo[i].payload) {
			t.Fatalf("ReadSegment entry %d differs", i)
		}
	}
	active := segs[len(segs)-1].Seq
	if err := l.ReadSegment(active, func(Pos, byte, []byte) error { return nil }); !errors.Is(err, ErrSegmentActive) {
		t.Fatalf("ReadSegment of the active segment: %v", err)
	}

	// Remove frees the budget and the file, with a directory fsync.
	before := l.Stats()
	_, _, ds0 := fs.count()
	if err := l.Remove(1); err != nil {
		t.Fatal(err)
	}
	if _, _, ds := fs.count(); ds != ds0+1 {
		t.Fatal("Remove did not fsync the directory")
	}
	if _, err := os.Stat(segName(o.Dir, 1)); !os.IsNotExist(err) {
		t.Fatalf("segment 1 still there: %v", err)
	}
	after := l.Stats()
	if after.BytesUsed != before.BytesUsed-segs[0].Bytes || after.Segments != before.Segments-1 || after.Removed != 1 {
		t.Fatalf("after Remove: %+v (before %+v)", after, before)
	}
	if err := l.Remove(1); err == nil {
		t.Fatal("second Remove of segment 1 succeeded")
	}
	if err := l.Remove(active); !errors.Is(err, ErrSegmentActive) {
		t.Fatalf("Remove of the active segment: %v", err)
	}
	closeLog(t, l)

	// The rest replays, from segment 2 on.
	l2, got2, rs := replayAll(t, o)
	defer closeLog(t, l2)
	var rest []entry
	for _, e := range want {
		if e.pos.Segment() > 1 {
			rest = append(rest, e)
		}
	}
	if len(got2) != len(rest) || rs.Segments != len(segs)-1 {
		t.Fatalf("replay after Remove: %d entries in %d segments, want %d in %d", len(got2), rs.Segments, len(rest), len(segs)-1)
	}
	for i := range rest {
		if got2[i].pos != rest[i].pos {
			t.Fatalf("entry %d at %x, want %x", i, got2[i].pos, rest[i].pos)
		}
	}
}

func TestReadSegmentCorrupt(t *testing.T) {
	o := opts(t, nil)
	o.SegmentSize, o.BufferSize = MinSegmentSize, MinSegmentSize
	l := mustOpen(t, o)
	defer closeLog(t, l)
	fillSegments(t, l, 100, 100)
	corruptAt(t, segName(o.Dir, 1), headerSize+3*109+20)
	n := 0
	err := l.ReadSegment(1, func(Pos, byte, []byte) error { n++; return nil })
	if !errors.Is(err, ErrCorrupt) || n != 3 {
		t.Fatalf("ReadSegment of a corrupt segment: %v after %d entries", err, n)
	}
}

// corruptAt flips one byte of the file.
func corruptAt(t *testing.T, name string, off int64) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}
