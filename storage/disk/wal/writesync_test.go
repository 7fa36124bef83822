package wal

import (
	"strings"
	"sync"
	"syscall"
	"testing"
)

// wsFS hands out files that can write and sync in one call, counting the
// calls; with none, they answer ErrNoWriteSync as an old kernel would.
type wsFS struct {
	OSFS
	none bool

	mu                   sync.Mutex
	writeSyncs, fsyncs   int
	writesAfterWriteSync int // plain writes once WriteAtSync answered ErrNoWriteSync
	refused              bool
	// failSync: the next WriteAtSync writes, then its fdatasync half
	// fails with it and loses what it wrote (zeros), as Linux may.
	failSync error
}

type wsFile struct {
	File
	fs *wsFS
}

func (f *wsFS) OpenFile(name string, flag int) (File, error) {
	file, err := f.OSFS.OpenFile(name, flag)
	if err != nil {
		return nil, err
	}
	return &wsFile{File: file, fs: f}, nil
}

func (f *wsFile) WriteAtSync(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.none {
		f.fs.refused = true
		return 0, ErrNoWriteSync
	}
	f.fs.writeSyncs++
	n, err := f.File.WriteAt(p, off)
	if err == nil && f.fs.failSync != nil {
		err, f.fs.failSync = f.fs.failSync, nil
		if _, werr := f.File.WriteAt(make([]byte, n), off); werr != nil {
			return 0, werr
		}
		return 0, err
	}
	if err == nil {
		err = f.File.Sync()
	}
	return n, err
}

func (f *wsFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	if f.fs.refused {
		f.fs.writesAfterWriteSync++
	}
	f.fs.mu.Unlock()
	return f.File.WriteAt(p, off)
}

func (f *wsFile) Sync() error {
	f.fs.mu.Lock()
	f.fs.fsyncs++
	f.fs.mu.Unlock()
	return f.File.Sync()
}

// With SyncAlways a group alone in its segment's unsynced bytes is written
// and synced in one call, counted as one fsync; the group after a new
// segment's header still gets a write and an fsync. Everything replays.
func TestGroupWrittenAndSyncedInOneCall(t *testing.T) {
	o := opts(t, nil)
	fs := &wsFS{}
	o.FS, o.SegmentSize, o.BufferSize = fs, 64<<10, 16<<10
	l := mustOpen(t, o)
	var want []entry
	for range 40 { // 40 groups of one entry, over several segments
		want = append(want, fillSegments(t, l, 1, 5000)...)
	}
	st := l.Stats()
	closeLog(t, l)
	fs.mu.Lock()
	ws, fsyncs := fs.writeSyncs, fs.fsyncs
	fs.mu.Unlock()
	if ws < 30 || fsyncs == 0 || st.Fsyncs < uint64(ws) {
		t.Fatalf("write-and-sync calls %d, separate fsyncs %d, fsyncs counted %d", ws, fsyncs, st.Fsyncs)
	}
	l2, got, rs := replayAll(t, o)
	defer closeLog(t, l2)
	if len(got) != len(want) || rs.TornBytes != 0 {
		t.Fatalf("replay: %d entries (want %d), %+v", len(got), len(want), rs)
	}
}

// A kernel without RWF_DSYNC: asked once, then plain writes and fsyncs.
func TestWriteSyncRefusedFallsBack(t *testing.T) {
	o := opts(t, nil)
	fs := &wsFS{none: true}
	o.FS = fs
	l := mustOpen(t, o)
	want := fillSegments(t, l, 1, 100)
	for range 5 {
		want = append(want, fillSegments(t, l, 1, 100)...)
	}
	closeLog(t, l) // the writer has ended: its state may be read
	if !l.w.noWSync {
		t.Fatal("the writer did not note that the call is missing")
	}
	if fs.writesAfterWriteSync == 0 || fs.writeSyncs != 0 {
		t.Fatalf("after the refusal: %d plain writes, %d write-and-syncs", fs.writesAfterWriteSync, fs.writeSyncs)
	}
	l2, got, _ := replayAll(t, o)
	defer closeLog(t, l2)
	if len(got) != len(want) {
		t.Fatalf("replay: %d entries, want %d", len(got), len(want))
	}
}

// With SyncAlways most groups are written and synced in one call
// (pwritev2 with RWF_DSYNC), so a failed fsync usually surfaces there:
// it must count and log as one (smppd_storage_fsync_failures_total,
// event=wal_fsync_failed), and the group it lost is written again.
// Before, only a separate fsync's failure was counted: 0 here.
func TestFailedWriteSyncCountsAsFailedFsync(t *testing.T) {
	lb := &logBuf{}
	o := opts(t, lb)
	fs := &wsFS{}
	o.FS = fs
	l := mustOpen(t, o)
	want := fillSegments(t, l, 3, 100) // past the new segment's header: the next groups write and sync in one call
	fs.mu.Lock()
	fs.failSync = syscall.EIO
	fs.mu.Unlock()
	for i := 3; i < 8; i++ {
		p := payloadFor(i, 100)
		pos, err := l.Append(1, p, false)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, entry{pos, 1, p})
		eventually(t, "the write retried", func() bool { return l.Stats().Synced >= uint64(pos) })
	}
	st := l.Stats()
	closeLog(t, l)
	if fs.writeSyncs == 0 || st.FsyncFailures != 1 {
		t.Fatalf("write-and-syncs %d, fsync failures %d, want 1: %+v", fs.writeSyncs, st.FsyncFailures, st)
	}
	if !strings.Contains(lb.String(), `"event":"wal_fsync_failed"`) {
		t.Fatalf("the failed fsync was not logged:\n%s", lb.String())
	}
	checkReplay(t, o, want)
}
