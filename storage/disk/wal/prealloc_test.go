package wal

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// preallocOpts: small segments, each next one prepared.
func preallocOpts(t *testing.T, lb *logBuf) Options {
	o := opts(t, lb)
	o.SegmentSize, o.BufferSize, o.Preallocate = 64<<10, 16<<10, true
	return o
}

// waitSpare waits until the spare of the segment after the open one is
// ready, so that the next rotation takes it.
func waitSpare(t *testing.T, l *Log) {
	t.Helper()
	eventually(t, "the spare segment", func() bool {
		l.prep.mu.Lock()
		defer l.prep.mu.Unlock()
		return l.prep.ready == l.openSeq()+1
	})
}

// fillPrepared appends entries over several segments, each begun from a
// ready spare: past half of one (when the spare is asked for) it waits for
// the spare.
func fillPrepared(t *testing.T, l *Log, segments int) []entry {
	t.Helper()
	var all []entry
	for range segments {
		seq := l.openSeq()
		all = append(all, fillHalf(t, l)...)
		waitSpare(t, l)
		for l.openSeq() == seq {
			all = append(all, fillSegments(t, l, 20, 300)...)
		}
	}
	return all
}

// fillHalf appends entries until the open segment is more than half
// written.
func fillHalf(t *testing.T, l *Log) []entry {
	t.Helper()
	var all []entry
	for {
		segs := l.Segments()
		if s := segs[len(segs)-1]; s.End.Offset() > l.o.SegmentSize/2 {
			return all
		}
		all = append(all, fillSegments(t, l, 20, 300)...)
	}
}

// A log that writes less than half a segment, in fewer than bareSyncs
// fsyncs, asks for no spare.
func TestPreallocOnlyPastHalf(t *testing.T) {
	o := preallocOpts(t, nil)
	l := mustOpen(t, o)
	fillSegments(t, l, 50, 300) // 15 KiB of 64
	time.Sleep(50 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(o.Dir, spareName)); !os.IsNotExist(err) {
		t.Fatalf("a spare was made for a log a quarter full: %v", err)
	}
	closeLog(t, l)
}

// appendEach appends n small entries, each committed (so fsynced, the log
// syncing always) before the next: window 1.
func appendEach(t *testing.T, l *Log, n int) []entry {
	t.Helper()
	out := make([]entry, 0, n)
	for i := range n {
		p := payloadFor(i, 40)
		pos, err := l.Append(byte(i%7), p, false)
		if err == nil {
			err = l.WaitCommitted(uint64(pos))
		}
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		out = append(out, entry{pos, byte(i % 7), p})
	}
	return out
}

// A segment not begun from a spare (a new log's first, the one a restart
// goes on writing) grows its file at every fsync: after bareSyncs of them
// the next spare is made at once and the log rotates to it, however
// little the segment holds. Everything replays; the short segment carries
// no zeros.
func TestPreallocEarlyAfterBareSyncs(t *testing.T) {
	o := preallocOpts(t, nil)
	l := mustOpen(t, o)
	want := appendEach(t, l, bareSyncs)
	eventually(t, "the rotation to the early spare", func() bool {
		want = append(want, appendEach(t, l, 1)...)
		return l.openSeq() == 2
	})
	if st := l.Stats(); st.Preallocated != 1 || st.PreallocMissed != 0 {
		t.Fatalf("stats after the early rotation: %+v", st)
	}
	first := l.Segments()[0]
	if first.Seq != 1 || first.End.Offset() >= o.SegmentSize/2 || first.Bytes != first.End.Offset() {
		t.Fatalf("the segment left early: %+v", first)
	}
	// Begun from a spare, segment 2 asks for nothing before half of it.
	want = append(want, appendEach(t, l, bareSyncs+10)...)
	if l.openSeq() != 2 || l.Stats().Preallocated != 1 {
		t.Fatalf("a prepared segment rotated early: open %d, %+v", l.openSeq(), l.Stats())
	}
	closeLog(t, l)
	// A restart goes on writing segment 2, its zeros cut: bare again.
	l2, got, _ := replayAll(t, o)
	if len(got) != len(want) {
		t.Fatalf("replay: %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].pos != want[i].pos || string(got[i].payload) != string(want[i].payload) {
			t.Fatalf("entry %d: %x, want %x", i, got[i].pos, want[i].pos)
		}
	}
	want = append(want, appendEach(t, l2, bareSyncs)...)
	eventually(t, "the rotation after the restart", func() bool {
		want = append(want, appendEach(t, l2, 1)...)
		return l2.openSeq() == 3
	})
	closeLog(t, l2)
	l3, got, rs := replayAll(t, o)
	defer closeLog(t, l3)
	if len(got) != len(want) || rs.TornBytes != 0 || rs.CorruptSegments != 0 {
		t.Fatalf("replay after the restart: %d entries (want %d), %+v", len(got), len(want), rs)
	}
}

// Segments begun from spares replay as written; a clean stop leaves every
// segment cut to its entries and no spare behind.
func TestPreallocRoundTrip(t *testing.T) {
	o := preallocOpts(t, nil)
	l := mustOpen(t, o)
	want := fillPrepared(t, l, 4)
	st := l.Stats()
	if st.Preallocated < 4 || st.PreallocFailed != 0 {
		t.Fatalf("stats after filling: %+v", st)
	}
	segs := l.Segments()
	closeLog(t, l)
	if _, err := os.Stat(filepath.Join(o.Dir, spareName)); !os.IsNotExist(err) {
		t.Fatalf("spare left after Close: %v", err)
	}
	for _, s := range segs {
		if size := fileSize(t, segName(o.Dir, s.Seq)); size != s.End.Offset() {
			t.Fatalf("segment %d: file of %d bytes, entries end at %d", s.Seq, size, s.End.Offset())
		}
	}
	l2, got, rs := replayAll(t, o)
	defer closeLog(t, l2)
	if len(got) != len(want) || rs.TornBytes != 0 || rs.CorruptSegments != 0 {
		t.Fatalf("replay: %d entries (want %d), %+v", len(got), len(want), rs)
	}
	for i := range want {
		if got[i].pos != want[i].pos || string(got[i].payload) != string(want[i].payload) {
			t.Fatalf("entry %d: %x, want %x", i, got[i].pos, want[i].pos)
		}
	}
}

// A kill leaves the open segment's zeros after its entries, and a spare:
// the next start cuts the zeros, keeps every committed entry, removes the
// spare and goes on writing.
func TestPreallocCrashLeavesZeroTail(t *testing.T) {
	lb := &logBuf{}
	o := preallocOpts(t, lb)
	l := mustOpen(t, o)
	want := fillPrepared(t, l, 2)
	want = append(want, fillHalf(t, l)...)
	waitSpare(t, l)
	// The directory as a kill -9 leaves it: copied while the log is open.
	crashed := t.TempDir()
	names, err := os.ReadDir(o.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n.Name() != "LOCK" {
			copyFile(t, filepath.Join(o.Dir, n.Name()), filepath.Join(crashed, n.Name()))
		}
	}
	closeLog(t, l)
	if size := fileSize(t, segName(crashed, l.openSeq())); size != o.SegmentSize {
		t.Fatalf("the open segment's copy is %d bytes, want the preallocated %d", size, o.SegmentSize)
	}
	// Mark the stale spare: the new log prepares its own at once (under
	// the same name, truncated), so what must not be there is this one.
	stale := []byte("stale spare")
	f, err := os.OpenFile(filepath.Join(crashed, spareName), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(stale, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	o.Dir = crashed
	l2, got, rs := replayAll(t, o)
	if len(got) != len(want) || rs.TornBytes == 0 || rs.CorruptSegments != 0 {
		t.Fatalf("replay after the kill: %d entries (want %d), %+v", len(got), len(want), rs)
	}
	if !strings.Contains(lb.String(), "wal_torn_tail") {
		t.Fatal("the cut zeros were not logged")
	}
	if b, err := os.ReadFile(filepath.Join(crashed, spareName)); err != nil && !os.IsNotExist(err) || bytes.HasPrefix(b, stale) {
		t.Fatalf("the stale spare was not removed at Open: %v", err)
	}
	more := fillSegments(t, l2, 10, 300)
	closeLog(t, l2)
	l3, got3, rs3 := replayAll(t, o)
	defer closeLog(t, l3)
	if len(got3) != len(want)+len(more) || rs3.TornBytes != 0 {
		t.Fatalf("second replay: %d entries, %+v", len(got3), rs3)
	}
}

// Near the disk budget no spare is made: segments are created as without
// preallocation, and counted as missed.
func TestPreallocSkippedNearBudget(t *testing.T) {
	o := preallocOpts(t, nil)
	o.MaxDisk = 140_000 // room for 300 entries, not for them and a spare under the high-water mark
	l := mustOpen(t, o)
	want := fillSegments(t, l, 300, 300)
	st := l.Stats()
	if st.Segments < 2 || st.Preallocated != 0 || st.PreallocMissed == 0 {
		t.Fatalf("stats: %+v", st)
	}
	closeLog(t, l)
	l2, got, _ := replayAll(t, o)
	defer closeLog(t, l2)
	if len(got) != len(want) {
		t.Fatalf("replay: %d entries, want %d", len(got), len(want))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// A spare that cannot be written (the disk is full) is removed and
// logged; the log goes on, creating its segments, and the next spare is
// tried at the next rotation.
func TestPreallocFailureIsNoFault(t *testing.T) {
	lb := &logBuf{}
	o := preallocOpts(t, lb)
	fs := &faultFS{spareErr: syscall.ENOSPC}
	o.FS = fs
	l := mustOpen(t, o)
	want := fillHalf(t, l)
	// The count moves before the log line is written: wait for both.
	eventually(t, "the failed spare counted and logged", func() bool {
		return l.Stats().PreallocFailed == 1 && strings.Contains(lb.String(), "wal_prealloc_failed")
	})
	if _, err := os.Stat(filepath.Join(o.Dir, spareName)); !os.IsNotExist(err) {
		t.Fatalf("the failed spare was left: %v", err)
	}
	fs.set(func(f *faultFS) { f.spareErr = nil })
	want = append(want, fillSegments(t, l, 300, 300)...) // a rotation without a spare; the next one's is made
	if st := l.Stats(); st.PreallocMissed == 0 || st.Failed || st.DiskFull {
		t.Fatalf("stats: %+v", st)
	}
	waitSpare(t, l)
	closeLog(t, l)
	l2, got, _ := replayAll(t, o)
	defer closeLog(t, l2)
	if len(got) != len(want) {
		t.Fatalf("replay: %d entries, want %d", len(got), len(want))
	}
}
