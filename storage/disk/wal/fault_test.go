package wal

import (
	"bytes"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

// appendUntil appends entries until Append returns an error, waiting for
// each to commit, and returns the accepted entries and the error.
func appendUntil(t *testing.T, l *Log, from, max int) ([]entry, error) {
	t.Helper()
	var out []entry
	for i := from; i < from+max; i++ {
		p := payloadFor(i, 100)
		pos, err := l.Append(1, p, false)
		if err != nil {
			return out, err
		}
		out = append(out, entry{pos, 1, p})
		l.WaitCommitted(uint64(pos)) // fails once the device does; the entry stays appended
	}
	return out, nil
}

// checkReplay replays o.Dir and checks it holds exactly want, in order.
func checkReplay(t *testing.T, o Options, want []entry) ReplayStats {
	t.Helper()
	o.FS = nil
	l, got, rs := replayAll(t, o)
	closeLog(t, l)
	if len(got) != len(want) {
		t.Fatalf("replay: %d entries, want %d (%+v)", len(got), len(want), rs)
	}
	for i := range want {
		if got[i].pos != want[i].pos || !bytes.Equal(got[i].payload, want[i].payload) {
			t.Fatalf("replay entry %d at %x, want %x", i, got[i].pos, want[i].pos)
		}
	}
	return rs
}

func TestDiskFullThenSpaceReturns(t *testing.T) {
	lb := &logBuf{}
	o := opts(t, lb)
	fs := &faultFS{budget: 5000} // about 45 entries, then ENOSPC mid-write
	o.FS = fs
	l := mustOpen(t, o)
	want, err := appendUntil(t, l, 0, 10000)
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Append on a full device: %v", err)
	}
	st := l.Stats()
	if !st.DiskFull || st.RefusedDiskFull == 0 || st.WriteErrors == 0 || !strings.Contains(st.LastError, "no space") {
		t.Fatalf("stats on a full device: %+v", st)
	}
	if err := l.WaitCommitted(uint64(want[len(want)-1].pos)); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("WaitCommitted on a full device: %v", err)
	}
	// Space returns: the retry writes what was appended, appends resume.
	fs.set(func(f *faultFS) { f.budget = 0 })
	eventually(t, "appends after space returns", func() bool {
		_, err := l.Append(2, nil, false)
		return err == nil
	})
	more, err := appendUntil(t, l, 100000, 20)
	if err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.DiskFull || st.Failed {
		t.Fatalf("still failed after recovery: %+v", st)
	}
	closeLog(t, l)
	if !strings.Contains(lb.String(), "wal_device_failed") || !strings.Contains(lb.String(), "wal_device_recovered") {
		t.Fatalf("failure and recovery not logged:\n%s", lb.String())
	}
	// Every accepted entry, once, in order (the probes with kind 2 too).
	o.FS = nil
	l2, got, rs := replayAll(t, o)
	defer closeLog(t, l2)
	if rs.TornBytes != 0 || rs.CorruptSegments != 0 {
		t.Fatalf("%+v", rs)
	}
	var kinds1 []entry
	for _, e := range got {
		if e.kind == 1 {
			kinds1 = append(kinds1, e)
		}
	}
	all := append(want, more...)
	if len(kinds1) != len(all) {
		t.Fatalf("%d entries replayed, want %d", len(kinds1), len(all))
	}
	for i := range all {
		if kinds1[i].pos != all[i].pos || !bytes.Equal(kinds1[i].payload, all[i].payload) {
			t.Fatalf("entry %d differs", i)
		}
	}
}

func TestDeviceErrorIsStickyUntilRetrySucceeds(t *testing.T) {
	o := opts(t, nil)
	fs := &faultFS{}
	o.FS = fs
	l := mustOpen(t, o)
	want, err := appendUntil(t, l, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	fs.set(func(f *faultFS) { f.writeErr = syscall.EIO })
	more, err := appendUntil(t, l, 10, 10000)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Append on a failing device: %v", err)
	}
	want = append(want, more...)
	// Still refused while the device fails (at least one backoff).
	time.Sleep(30 * time.Millisecond)
	if _, err := l.Append(1, nil, true); !errors.Is(err, ErrFailed) {
		t.Fatalf("urgent Append on a failing device: %v", err)
	}
	st := l.Stats()
	if !st.Failed || st.DiskFull || st.RefusedFailed < 2 || !strings.Contains(st.LastError, "input/output error") {
		t.Fatalf("%+v", st)
	}
	fs.set(func(f *faultFS) { f.writeErr = nil })
	eventually(t, "recovery", func() bool { return !l.Stats().Failed })
	if err := l.WaitCommitted(uint64(want[len(want)-1].pos)); err != nil {
		t.Fatal(err)
	}
	closeLog(t, l)
	checkReplay(t, o, want)
}

func TestShortWriteRetriedInPlace(t *testing.T) {
	o := opts(t, nil)
	fs := &faultFS{}
	o.FS = fs
	l := mustOpen(t, o)
	want, _ := appendUntil(t, l, 0, 5)
	// One write stops after 13 bytes with EIO; the retry writes the whole
	// group again at the same offset.
	fs.set(func(f *faultFS) { f.writeErr, f.tornAfter, f.writeOnce = syscall.EIO, 13, true })
	more, err := appendUntil(t, l, 5, 5)
	if err != nil && !errors.Is(err, ErrFailed) {
		t.Fatal(err)
	}
	want = append(want, more...)
	eventually(t, "recovery", func() bool { return !l.Stats().Failed })
	if err := l.WaitCommitted(uint64(want[len(want)-1].pos)); err != nil {
		t.Fatal(err)
	}
	closeLog(t, l)
	if rs := checkReplay(t, o, want); rs.TornBytes != 0 {
		t.Fatalf("%+v", rs)
	}
}

func TestFsyncFailureWritesAgain(t *testing.T) {
	o := opts(t, nil)
	fs := &faultFS{}
	o.FS = fs
	l := mustOpen(t, o)
	want, _ := appendUntil(t, l, 0, 5)
	w0, _, _ := fs.count()
	fs.set(func(f *faultFS) { f.syncErr, f.syncOnce = syscall.EIO, true })
	p := payloadFor(99, 30)
	pos, err := l.Append(1, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WaitCommitted(uint64(pos)); err != nil && !errors.Is(err, ErrFailed) {
		t.Fatal(err)
	}
	eventually(t, "the entry committed", func() bool { return l.Committed() >= uint64(pos) })
	w1, _, _ := fs.count()
	if w1-w0 < 2 {
		t.Fatalf("%d writes: the group was not written again after the failed fsync", w1-w0)
	}
	if st := l.Stats(); st.WriteErrors != 1 || st.Failed {
		t.Fatalf("%+v", st)
	}
	closeLog(t, l)
	checkReplay(t, o, append(want, entry{pos, 1, p}))
}

func TestTornWriteAtStopIsCutAtReplay(t *testing.T) {
	o := opts(t, nil)
	fs := &faultFS{}
	o.FS = fs
	l := mustOpen(t, o)
	want, _ := appendUntil(t, l, 0, 8)
	// The device fails for good mid-write: Close gives up, leaving 20
	// bytes of the next group on disk, as a crash would.
	fs.set(func(f *faultFS) { f.writeErr, f.tornAfter = syscall.EIO, 20 })
	if _, err := l.Append(1, payloadFor(8, 100), false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the failure", func() bool { return l.Stats().Failed })
	if err := l.Close(); err == nil || !strings.Contains(err.Error(), "not on disk") {
		t.Fatalf("Close on a failed device: %v", err)
	}
	rs := checkReplay(t, o, want)
	if rs.TornBytes != 20 {
		t.Fatalf("%+v", rs)
	}
}

func TestSegmentCreateFailure(t *testing.T) {
	o := opts(t, nil)
	fs := &faultFS{}
	o.FS, o.SegmentSize, o.BufferSize = fs, MinSegmentSize, MinSegmentSize
	l := mustOpen(t, o)
	fs.set(func(f *faultFS) { f.createErr = syscall.ENOSPC })
	want, err := appendUntil(t, l, 0, 1000)
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Append when no segment can be created: %v", err)
	}
	if len(l.Segments()) != 1 {
		t.Fatalf("%d segments", len(l.Segments()))
	}
	fs.set(func(f *faultFS) { f.createErr = nil })
	eventually(t, "recovery", func() bool { return !l.Stats().DiskFull })
	if err := l.WaitCommitted(uint64(want[len(want)-1].pos)); err != nil {
		t.Fatal(err)
	}
	closeLog(t, l)
	checkReplay(t, o, want)
}

func TestMaxDiskHighWater(t *testing.T) {
	lb := &logBuf{}
	o := opts(t, lb)
	o.SegmentSize, o.BufferSize, o.MaxDisk = MinSegmentSize, MinSegmentSize, 10*MinSegmentSize
	l := mustOpen(t, o)
	defer closeLog(t, l)
	hw := o.MaxDisk / 100 * HighWater
	var err error
	for i := 0; err == nil; i++ {
		var pos Pos
		if pos, err = l.Append(1, payloadFor(i, 100), false); err == nil {
			l.WaitCommitted(uint64(pos))
		}
	}
	st := l.Stats()
	if !errors.Is(err, ErrDiskFull) || st.RefusedHighWater != 1 || st.BytesUsed > hw || st.BytesUsed+109+headerSize <= hw {
		t.Fatalf("non-urgent refusal: %v, used %d of high water %d, %+v", err, st.BytesUsed, hw, st)
	}
	// Urgent entries use the room above the mark, up to MaxDisk.
	urgent := 0
	for {
		pos, err := l.Append(2, payloadFor(urgent, 100), true)
		if err != nil {
			if !errors.Is(err, ErrDiskFull) {
				t.Fatalf("urgent Append: %v", err)
			}
			break
		}
		urgent++
		l.WaitCommitted(uint64(pos))
	}
	st = l.Stats()
	if urgent == 0 || st.RefusedDiskFull != 1 || st.BytesUsed > o.MaxDisk || st.BytesUsed+109+headerSize <= o.MaxDisk {
		t.Fatalf("urgent: %d taken, used %d of %d, %+v", urgent, st.BytesUsed, o.MaxDisk, st)
	}
	if !strings.Contains(lb.String(), "wal_high_water") {
		t.Fatal("crossing the high-water mark was not logged")
	}
	// Compaction frees segments: non-urgent appends are taken again.
	for _, s := range l.Segments()[:3] {
		if err := l.Remove(s.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Append(1, payloadFor(0, 100), false); err != nil {
		t.Fatalf("Append after Remove freed the budget: %v", err)
	}
	eventually(t, "the log line for going back under the mark", func() bool {
		return strings.Contains(lb.String(), "wal_below_high_water")
	})
}

func TestBufferFullAndUrgentRoom(t *testing.T) {
	o := opts(t, nil)
	fs := &faultFS{syncGate: make(chan struct{})}
	o.FS, o.BufferSize = fs, MinBufferSize
	l := mustOpen(t, o)
	// The first entry's fsync blocks; the next ones fill the other buffer.
	first, err := l.Append(1, []byte("first"), false)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the writer in fsync", func() bool { _, s, _ := fs.count(); return s == 1 })
	n := 0
	for {
		if _, err = l.Append(1, make([]byte, 91), false); err != nil {
			break
		}
		n++
	}
	if !errors.Is(err, ErrBufferFull) || n*100 > MinBufferSize*9/10 || (n+1)*100 <= MinBufferSize*9/10 {
		t.Fatalf("after %d entries of 100 bytes: %v", n, err)
	}
	// Urgent entries have the last tenth.
	u := 0
	for {
		if _, err = l.Append(2, make([]byte, 91), true); err != nil {
			break
		}
		u++
	}
	if !errors.Is(err, ErrBufferFull) || u == 0 || (n+u)*100 > MinBufferSize {
		t.Fatalf("urgent: %d more then %v", u, err)
	}
	if st := l.Stats(); st.RefusedBufferFull != 2 {
		t.Fatalf("%+v", st)
	}
	close(fs.syncGate)
	if err := l.WaitCommitted(uint64(first)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "room again", func() bool {
		_, err := l.Append(1, make([]byte, 91), false)
		return err == nil
	})
	closeLog(t, l)
}
