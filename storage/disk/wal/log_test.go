package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestAppendReplayRoundTrip(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncInterval, SyncNever} {
		t.Run(mode.String(), func(t *testing.T) {
			o := opts(t, nil)
			o.Sync = mode
			l := mustOpen(t, o)
			if rs, err := l.Replay(func(Pos, byte, []byte) error { t.Fatal("entry in a new log"); return nil }); err != nil || rs.Entries != 0 {
				t.Fatalf("Replay of a new log: %+v, %v", rs, err)
			}
			var want []entry
			for i := range 500 {
				p := payloadFor(i, i%300)
				pos, err := l.Append(byte(i), p, i%2 == 0)
				if err != nil {
					t.Fatalf("Append %d: %v", i, err)
				}
				if len(want) > 0 && pos <= want[len(want)-1].pos {
					t.Fatalf("Append %d: position %x not after %x", i, pos, want[len(want)-1].pos)
				}
				if l.Written() != uint64(pos) {
					t.Fatalf("Written %x after Append returned %x", l.Written(), pos)
				}
				want = append(want, entry{pos, byte(i), p})
			}
			last := want[len(want)-1].pos
			if err := l.WaitCommitted(uint64(last)); err != nil {
				t.Fatalf("WaitCommitted: %v", err)
			}
			if l.Committed() < uint64(last) {
				t.Fatalf("Committed %x < %x after WaitCommitted", l.Committed(), last)
			}
			closeLog(t, l)
			if st := l.Stats(); st.Synced != uint64(last) {
				t.Fatalf("after Close Synced = %x, want %x", st.Synced, last)
			}
			if _, err := l.Append(1, nil, false); !errors.Is(err, ErrClosed) {
				t.Fatalf("Append after Close: %v", err)
			}

			l2, got, rs := replayAll(t, o)
			defer closeLog(t, l2)
			if rs.Entries != uint64(len(want)) || rs.TornBytes != 0 || rs.CorruptSegments != 0 {
				t.Fatalf("ReplayStats %+v", rs)
			}
			for i := range want {
				if got[i].pos != want[i].pos || got[i].kind != want[i].kind || !bytes.Equal(got[i].payload, want[i].payload) {
					t.Fatalf("entry %d: got %x/%d/%d bytes, want %x/%d/%d bytes", i,
						got[i].pos, got[i].kind, len(got[i].payload), want[i].pos, want[i].kind, len(want[i].payload))
				}
			}
			// Appends continue after the last entry.
			pos, err := l2.Append(9, []byte("next"), false)
			if err != nil || pos <= last {
				t.Fatalf("Append after Replay: %x, %v (last %x)", pos, err, last)
			}
		})
	}
}

func TestAppendBeforeReplayAndReplayTwice(t *testing.T) {
	o := opts(t, nil)
	l := mustOpen(t, o)
	if _, err := l.Append(1, []byte("a"), false); err != nil {
		t.Fatalf("Append on a new log without Replay: %v", err)
	}
	if _, err := l.Replay(func(Pos, byte, []byte) error { return nil }); !errors.Is(err, ErrNotReplayed) {
		t.Fatalf("Replay after Append: %v", err)
	}
	closeLog(t, l)

	l = mustOpen(t, o)
	if _, err := l.Append(1, []byte("b"), false); !errors.Is(err, ErrNotReplayed) {
		t.Fatalf("Append before Replay of a log with entries: %v", err)
	}
	if _, err := l.Replay(func(Pos, byte, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Replay(func(Pos, byte, []byte) error { return nil }); !errors.Is(err, ErrNotReplayed) {
		t.Fatalf("second Replay: %v", err)
	}
	closeLog(t, l)
}

func TestReplayStopsAtCallbackError(t *testing.T) {
	o := opts(t, nil)
	l := mustOpen(t, o)
	for i := range 10 {
		if _, err := l.Append(1, payloadFor(i, 8), false); err != nil {
			t.Fatal(err)
		}
	}
	closeLog(t, l)
	l = mustOpen(t, o)
	boom := errors.New("boom")
	n := 0
	_, err := l.Replay(func(Pos, byte, []byte) error {
		n++
		if n == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 3 {
		t.Fatalf("Replay: %v after %d entries", err, n)
	}
	closeLog(t, l)
}

func TestTooLarge(t *testing.T) {
	o := opts(t, nil)
	o.SegmentSize = MinSegmentSize
	l := mustOpen(t, o)
	defer closeLog(t, l)
	if want := MinSegmentSize - headerSize - frameHeader; l.MaxPayload() != want {
		t.Fatalf("MaxPayload = %d, want %d", l.MaxPayload(), want)
	}
	if _, err := l.Append(1, make([]byte, l.MaxPayload()+1), true); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Append past MaxPayload: %v", err)
	}
	if _, err := l.Append(1, make([]byte, l.MaxPayload()), false); err != nil {
		t.Fatalf("Append of MaxPayload: %v", err)
	}
}

func TestOptionsRefused(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []Options{
		{},
		{Dir: dir, Sync: 7},
		{Dir: dir, SegmentSize: 100},
		{Dir: dir, SegmentSize: 1 << 33},
		{Dir: dir, BufferSize: 10},
		{Dir: dir, MaxDisk: -1},
		{Dir: dir, SyncInterval: -time.Second},
	} {
		if l, err := Open(o); err == nil {
			l.Close()
			t.Errorf("Open(%+v) succeeded", o)
		}
	}
	// A small budget gets segments small enough to free.
	l := mustOpen(t, Options{Dir: dir, MaxDisk: 16 << 20})
	defer closeLog(t, l)
	if l.o.SegmentSize != 2<<20 {
		t.Fatalf("SegmentSize for a 16 MiB budget = %d, want 2 MiB", l.o.SegmentSize)
	}
}

func TestOpenCreatesDirAndRefusesUnwritable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	fs := &faultFS{}
	l := mustOpen(t, Options{Dir: dir, FS: fs})
	closeLog(t, l)
	// The parents of a and b, and b for the first segment.
	if _, _, ds := fs.count(); ds != 3 {
		t.Fatalf("%d directory fsyncs creating two directories and a segment, want 3", ds)
	}
	if _, err := os.Stat(filepath.Join(dir, "0000000001.wal")); err != nil {
		t.Fatalf("first segment: %v", err)
	}
	if os.Geteuid() == 0 {
		return // root writes anywhere
	}
	ro := t.TempDir()
	os.Chmod(ro, 0o500)
	defer os.Chmod(ro, 0o700)
	if _, err := Open(Options{Dir: ro}); err == nil || !strings.Contains(err.Error(), ro) {
		t.Fatalf("Open of a read-only dir: %v", err)
	}
}

func TestLockRefusesSecondOpener(t *testing.T) {
	o := opts(t, nil)
	l := mustOpen(t, o)
	_, err := Open(o)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, o.Dir) || !strings.Contains(msg, "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("lock error %q names neither the dir nor the holder's pid", msg)
	}
	closeLog(t, l)
	l = mustOpen(t, o)
	closeLog(t, l)
}

func TestCommitCallbackAndWaiters(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncInterval, SyncNever} {
		t.Run(mode.String(), func(t *testing.T) {
			o := opts(t, nil)
			o.Sync = mode
			o.SyncInterval = time.Millisecond
			l := mustOpen(t, o)
			var mu sync.Mutex
			var seen []uint64
			l.OnCommit(func(c uint64) {
				mu.Lock()
				seen = append(seen, c)
				mu.Unlock()
			})
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 200 {
						pos, err := l.Append(byte(g), payloadFor(i, 40), false)
						if err != nil {
							t.Error(err)
							return
						}
						if err := l.WaitCommitted(uint64(pos)); err != nil {
							t.Error(err)
							return
						}
						if l.Committed() < uint64(pos) {
							t.Errorf("Committed %x < %x after WaitCommitted", l.Committed(), pos)
							return
						}
					}
				}()
			}
			wg.Wait()
			w := l.Written()
			eventually(t, "the last OnCommit", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(seen) > 0 && seen[len(seen)-1] == w
			})
			mu.Lock()
			for i := 1; i < len(seen); i++ {
				if seen[i] <= seen[i-1] {
					t.Fatalf("OnCommit went from %x to %x", seen[i-1], seen[i])
				}
			}
			mu.Unlock()
			st := l.Stats()
			if st.Appends != 1600 || st.Groups == 0 || st.GroupMax == 0 {
				t.Fatalf("stats %+v", st)
			}
			if mode == SyncAlways && (st.Synced != w || st.Fsyncs == 0) {
				t.Fatalf("SyncAlways: synced %x of %x with %d fsyncs", st.Synced, w, st.Fsyncs)
			}
			if mode == SyncNever && st.Fsyncs != 0 {
				t.Fatalf("SyncNever fsynced %d times before Close", st.Fsyncs)
			}
			closeLog(t, l)
			if st := l.Stats(); st.Synced != w {
				t.Fatalf("Close left Synced %x of %x", st.Synced, w)
			}
		})
	}
}

func TestWaitCommittedReturnsAtClose(t *testing.T) {
	o := opts(t, nil)
	fs := &faultFS{syncGate: make(chan struct{})}
	o.FS = fs
	l := mustOpen(t, o)
	pos, err := l.Append(1, []byte("x"), false)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.WaitCommitted(uint64(pos)) }()
	select {
	case err := <-done:
		t.Fatalf("WaitCommitted returned %v before the fsync", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(fs.syncGate) // the fsync completes
	if err := <-done; err != nil {
		t.Fatalf("WaitCommitted: %v", err)
	}
	closeLog(t, l)
	if err := l.WaitCommitted(uint64(pos) + 1000); !errors.Is(err, ErrClosed) {
		t.Fatalf("WaitCommitted past the end after Close: %v", err)
	}
}

func TestSyncForcesFsyncInEveryMode(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncInterval, SyncNever} {
		t.Run(mode.String(), func(t *testing.T) {
			o := opts(t, nil)
			o.Sync, o.SyncInterval = mode, time.Hour
			fs := &faultFS{}
			o.FS = fs
			l := mustOpen(t, o)
			closed := false
			defer func() {
				if !closed {
					closeLog(t, l)
				}
			}()
			for i := range 100 {
				if _, err := l.Append(1, payloadFor(i, 50), false); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			if l.Synced() < l.Written() {
				t.Fatalf("Synced %x < Written %x after Sync", l.Synced(), l.Written())
			}
			n := l.Stats().Fsyncs
			if err := l.Sync(); err != nil || l.Stats().Fsyncs != n {
				t.Fatalf("Sync with nothing new: %v, %d fsyncs after %d", err, l.Stats().Fsyncs, n)
			}
			if mode == SyncAlways {
				return
			}
			// A failing fsync is reported, not waited out.
			fs.set(func(f *faultFS) { f.syncErr = syscall.EIO })
			if _, err := l.Append(1, []byte("x"), false); err != nil {
				t.Fatal(err)
			}
			if err := l.Sync(); !errors.Is(err, ErrFailed) {
				t.Fatalf("Sync on a failing device: %v", err)
			}
			fs.set(func(f *faultFS) { f.syncErr = nil })
			if mode == SyncNever {
				// Nothing holds what the failed fsync covered: failed
				// until reopened (TestFailedFsyncUnderNeverStaysFailed).
				closed = true
				if err := l.Close(); !errors.Is(err, ErrUnsyncedLost) {
					t.Fatalf("Close after a failed fsync with sync = never: %v", err)
				}
				return
			}
			eventually(t, "recovery", func() bool { return l.Sync() == nil })
		})
	}
}
