package wal

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// faultFS is the operating system's file layer with faults switched on and
// off by the test: write and fsync errors, writes torn after some bytes, a
// byte budget past which writes fail with ENOSPC (a filling disk), failing
// segment creation, slow or blocked fsyncs.
type faultFS struct {
	OSFS
	mu         sync.Mutex
	writeErr   error // WriteAt fails with it after writing tornAfter bytes
	tornAfter  int
	writeOnce  bool // writeErr clears after one failure
	syncErr    error
	syncOnce   bool
	createErr  error
	budget     int64 // > 0: bytes WriteAt may still write, then ENOSPC
	spareErr   error // WriteAt to the spare segment (prealloc.go) fails with it
	syncDelay  time.Duration
	syncGate   chan struct{} // non-nil: Sync waits for a receive
	writes     int
	syncs      int
	dirSyncs   int
	writeFails int
}

func (f *faultFS) OpenFile(name string, flag int) (File, error) {
	f.mu.Lock()
	err := f.createErr
	f.mu.Unlock()
	if err != nil && flag&os.O_CREATE != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	file, err := f.OSFS.OpenFile(name, flag)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name}, nil
}

func (f *faultFS) SyncDir(dir string) error {
	f.mu.Lock()
	f.dirSyncs++
	f.mu.Unlock()
	return f.OSFS.SyncDir(dir)
}

func (f *faultFS) set(fn func(f *faultFS)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

func (f *faultFS) count() (writes, syncs, dirSyncs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes, f.syncs, f.dirSyncs
}

type faultFile struct {
	File
	fs   *faultFS
	name string
}

func (f *faultFile) Name() string { return f.name }

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	fs := f.fs
	fs.mu.Lock()
	fs.writes++
	err, n := fs.writeErr, len(p)
	if fs.spareErr != nil && filepath.Base(f.name) == spareName {
		err, n = fs.spareErr, 0
	} else if err != nil {
		n = min(fs.tornAfter, len(p))
		if fs.writeOnce {
			fs.writeErr = nil
		}
	} else if fs.budget > 0 {
		if int64(len(p)) > fs.budget {
			n, err = int(fs.budget), syscall.ENOSPC
		}
		fs.budget -= int64(n)
	}
	if err != nil {
		fs.writeFails++
	}
	fs.mu.Unlock()
	if n > 0 {
		if _, werr := f.File.WriteAt(p[:n], off); werr != nil {
			return 0, werr
		}
	}
	if err != nil {
		return n, &os.PathError{Op: "write", Path: f.name, Err: err}
	}
	return n, nil
}

func (f *faultFile) Sync() error {
	fs := f.fs
	fs.mu.Lock()
	fs.syncs++
	err, delay, gate := fs.syncErr, fs.syncDelay, fs.syncGate
	if err != nil && fs.syncOnce {
		fs.syncErr = nil
	}
	fs.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	if err != nil {
		return &os.PathError{Op: "fdatasync", Path: f.name, Err: err}
	}
	return f.File.Sync()
}

// logBuf collects the log's lines for assertions.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *logBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// opts returns options for a test log in a new directory, with its lines
// kept in lb.
func opts(t testing.TB, lb *logBuf) Options {
	o := Options{Dir: t.TempDir()}
	if lb != nil {
		o.Logger = zerolog.New(lb)
	}
	return o
}

func mustOpen(t testing.TB, o Options) *Log {
	t.Helper()
	l, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

type entry struct {
	pos     Pos
	kind    byte
	payload []byte
}

// replayAll opens o.Dir, replays it and returns the entries and stats; the
// log stays open.
func replayAll(t testing.TB, o Options) (*Log, []entry, ReplayStats) {
	t.Helper()
	l := mustOpen(t, o)
	var got []entry
	rs, err := l.Replay(func(pos Pos, kind byte, p []byte) error {
		got = append(got, entry{pos, kind, append([]byte(nil), p...)})
		return nil
	})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return l, got, rs
}

// payloadFor is a recognisable payload for entry i of size n (at least 8).
func payloadFor(i, n int) []byte {
	p := make([]byte, max(n, 8))
	binary.LittleEndian.PutUint64(p, uint64(i))
	for j := 8; j < len(p); j++ {
		p[j] = byte(i + j)
	}
	return p
}

// eventually waits up to 5 s for cond.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func closeLog(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
