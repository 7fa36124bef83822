package wal

import (
	"bytes"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A failed fsync may have lost what it covered while the next one
// succeeds (Linux after a writeback error: the dirty pages are marked
// clean, the error is reported once). The fault layer drops those bytes
// (dropOnFail); the writer must write them again from memory before the
// fsync it retries, so every committed entry is on disk once Synced says
// so. Before, with sync = interval the retry fsynced the zeros and
// Synced claimed the lost entries, which replay then cut as a torn tail;
// in both modes the header of a segment whose first fsync failed was lost
// with it (the segment unreadable).
func TestFailedFsyncLosesPagesWrittenAgain(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncInterval} {
		for _, c := range []struct {
			name  string
			small bool // 4 KiB segments: the failure hits a rotation
			// before: entries appended and synced before the fsync fails
			// (0: the first fsync of the new log's segment fails)
			before int
		}{
			{"new segment", false, 0},
			{"mid segment", false, 5},
			// 37 entries fill a 4 KiB segment: with SyncAlways the new
			// segment's first fsync fails, with SyncInterval the one
			// closing the old segment, two entries unsynced in it.
			{"rotation", true, 37 - 2*int(mode)},
		} {
			t.Run(mode.String()+"/"+c.name, func(t *testing.T) {
				lb := &logBuf{}
				o := opts(t, lb)
				fs := &faultFS{dropOnFail: true}
				o.FS, o.Sync, o.SyncInterval = fs, mode, time.Hour
				if c.small {
					o.SegmentSize, o.BufferSize = MinSegmentSize, MinBufferSize
				}
				l := mustOpen(t, o)
				want, err := appendUntil(t, l, 0, c.before)
				if err != nil {
					t.Fatal(err)
				}
				if err := l.Sync(); err != nil {
					t.Fatal(err)
				}
				fs.set(func(f *faultFS) { f.syncErr, f.syncOnce = syscall.EIO, true })
				more, _ := appendUntil(t, l, c.before, 20) // the fsync may fail under the append
				want = append(want, more...)
				last := uint64(want[len(want)-1].pos)
				_ = l.Sync() // fails, or waits for the retry
				eventually(t, "the retried fsync", func() bool {
					st := l.Stats()
					return !st.Failed && st.Synced >= last
				})
				if err := l.Sync(); err != nil {
					t.Fatal(err)
				}
				st := l.Stats()
				if st.FsyncFailures != 1 || st.Rewrites == 0 {
					t.Fatalf("fsync failures %d, rewrites %d: %+v", st.FsyncFailures, st.Rewrites, st)
				}
				if c.small && len(l.Segments()) < 2 {
					t.Fatalf("no rotation: %+v", l.Segments())
				}
				closeLog(t, l)
				if !strings.Contains(lb.String(), `"event":"wal_fsync_failed"`) {
					t.Fatalf("the failed fsync was not logged:\n%s", lb.String())
				}
				if rs := checkReplay(t, o, want); rs.TornBytes != 0 || rs.CorruptSegments != 0 {
					t.Fatalf("%+v", rs)
				}
			})
		}
	}
}

// With sync = never the log left each full segment unsynced and Sync
// fsynced only the open one, yet Synced then claimed everything before it:
// storage/disk's compaction, which waits on Sync before it removes the
// segment holding a record's only other copy, could lose long-acknowledged
// records to a host crash. A segment is fsynced as the log leaves it, in
// every mode, so Synced holds, and a host crash under never can lose only
// the open segment's unsynced part.
func TestSyncNeverSyncsTheSegmentsItLeaves(t *testing.T) {
	o := opts(t, nil)
	fs := &faultFS{}
	o.FS, o.Sync = fs, SyncNever
	o.SegmentSize, o.BufferSize = MinSegmentSize, MinBufferSize
	l := mustOpen(t, o)
	want, err := appendUntil(t, l, 0, 150) // four segments
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := len(l.Segments()); n < 4 {
		t.Fatalf("%d segments", n)
	}
	fs.crash(t) // what no fsync covered is gone
	more, err := appendUntil(t, l, 150, 100)
	if err != nil {
		t.Fatal(err)
	}
	open := l.Segments()[len(l.Segments())-1].Seq
	fs.crash(t)
	closeLog(t, l)
	// The entries written since the Sync are there too, but for the open
	// segment's (not one fsync covered them).
	for _, e := range more {
		if e.pos.Segment() < open {
			want = append(want, e)
		}
	}
	o.FS = nil
	l2, got, rs := replayAll(t, o)
	closeLog(t, l2)
	if len(got) < len(want) {
		t.Fatalf("replay: %d entries, want at least %d (%+v)", len(got), len(want), rs)
	}
	for i := range want {
		if got[i].pos != want[i].pos || !bytes.Equal(got[i].payload, want[i].payload) {
			t.Fatalf("replay entry %d at %x, want %x", i, got[i].pos, want[i].pos)
		}
	}
}

// With sync = never nothing holds what a failed fsync covered: a retried
// fsync that succeeded would have Synced claim entries that may be gone,
// and storage/disk's compaction, trusting Sync, would then remove the
// segment holding their only other copy. Before, the retry succeeded and
// the log went on; now it stays failed until reopened, and the reopened
// log replays what is on disk.
func TestFailedFsyncUnderNeverStaysFailed(t *testing.T) {
	lb := &logBuf{}
	o := opts(t, lb)
	fs := &faultFS{dropOnFail: true}
	o.FS, o.Sync = fs, SyncNever
	l := mustOpen(t, o)
	want, err := appendUntil(t, l, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	more, err := appendUntil(t, l, 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	fs.set(func(f *faultFS) { f.syncErr, f.syncOnce = syscall.EIO, true })
	if err := l.Sync(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Sync when the fsync fails: %v", err)
	}
	// The device answers again; the retries still fail, the log refuses.
	eventually(t, "three retries", func() bool { return l.Stats().WriteErrors >= 4 })
	st := l.Stats()
	if !st.Failed || st.Synced >= uint64(more[len(more)-1].pos) || st.FsyncFailures != 1 ||
		st.LastError != ErrUnsyncedLost.Error() {
		t.Fatalf("%+v", st)
	}
	if _, err := l.Append(1, nil, true); !errors.Is(err, ErrFailed) {
		t.Fatalf("Append after a lost fsync: %v", err)
	}
	if err := l.Sync(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Sync after a lost fsync: %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrUnsyncedLost) {
		t.Fatalf("Close after a lost fsync: %v", err)
	}
	if !strings.Contains(lb.String(), `"event":"wal_fsync_failed"`) {
		t.Fatalf("the failed fsync was not logged:\n%s", lb.String())
	}
	checkReplay(t, o, want) // the lost entries' bytes read as zeros: cut
}
