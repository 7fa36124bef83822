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
	// dropOnFail: a failed Sync loses what it covered, as Linux may after
	// a writeback error (the pages are marked clean, the error reported
	// once): the file's bytes written since its last good Sync read as
	// zeros, and the next Sync succeeds without them.
	dropOnFail bool
	unsynced   map[string][2]int64 // per file: the range written since its last good Sync
}

// wrote notes that name's bytes [from, to) are written and not synced.
// Lock held.
func (f *faultFS) wrote(name string, from, to int64) {
	if f.unsynced == nil {
		f.unsynced = map[string][2]int64{}
	}
	r, ok := f.unsynced[name]
	if !ok {
		r = [2]int64{from, to}
	}
	f.unsynced[name] = [2]int64{min(r[0], from), max(r[1], to)}
}

// lose zeroes what name holds of its unsynced range and forgets it: the
// pages a failed fsync or a host crash lost. Lock held.
func (f *faultFS) lose(name string) error {
	r, ok := f.unsynced[name]
	delete(f.unsynced, name)
	if !ok {
		return nil
	}
	file, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return err
	}
	if to := min(r[1], st.Size()); to > r[0] {
		_, err = file.WriteAt(make([]byte, to-r[0]), r[0])
	}
	return err
}

// crash loses every file's unsynced bytes, as a host crash may.
func (f *faultFS) crash(t testing.TB) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name := range f.unsynced {
		if err := f.lose(name); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *faultFS) Rename(oldName, newName string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.OSFS.Rename(oldName, newName); err != nil {
		return err
	}
	if r, ok := f.unsynced[oldName]; ok {
		delete(f.unsynced, oldName)
		f.unsynced[newName] = r
	}
	return nil
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
	if flag&os.O_TRUNC != 0 {
		f.mu.Lock()
		delete(f.unsynced, name)
		f.mu.Unlock()
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
		fs.mu.Lock()
		fs.wrote(f.name, off, off+int64(n))
		fs.mu.Unlock()
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
		fs.mu.Lock()
		if fs.dropOnFail {
			if lerr := fs.lose(f.name); lerr != nil {
				err = lerr
			}
		}
		fs.mu.Unlock()
		return &os.PathError{Op: "fdatasync", Path: f.name, Err: err}
	}
	if err := f.File.Sync(); err != nil {
		return err
	}
	fs.mu.Lock()
	delete(fs.unsynced, f.name)
	fs.mu.Unlock()
	return nil
}

func (f *faultFile) Truncate(size int64) error {
	if err := f.File.Truncate(size); err != nil {
		return err
	}
	f.fs.mu.Lock()
	if r, ok := f.fs.unsynced[f.name]; ok {
		f.fs.unsynced[f.name] = [2]int64{min(r[0], size), min(r[1], size)}
	}
	f.fs.mu.Unlock()
	return nil
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
