package disk

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// stallFS holds every write to a segment (not to the spare being
// prepared) while stalled: a device far behind the arrivals.
type stallFS struct {
	wal.OSFS
	mu      sync.Mutex
	stalled bool
	resume  chan struct{}
}

func (f *stallFS) OpenFile(name string, flag int) (wal.File, error) {
	fl, err := f.OSFS.OpenFile(name, flag)
	if err != nil || strings.HasSuffix(name, ".tmp") {
		return fl, err
	}
	return stallFile{File: fl, fs: f}, nil
}

func (f *stallFS) wait() {
	f.mu.Lock()
	stalled, resume := f.stalled, f.resume
	f.mu.Unlock()
	if stalled {
		<-resume
	}
}

type stallFile struct {
	wal.File
	fs *stallFS
}

func (f stallFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.wait()
	return f.File.WriteAt(p, off)
}

// A Put the log's full write buffer refuses says storage.ErrBusy (the
// flow lets the session wait and offers it again) and still
// wal.ErrBufferFull; nothing of it is kept, and once the device catches
// up the same record goes in.
func TestPutBusyWhileBufferFull(t *testing.T) {
	fs := &stallFS{resume: make(chan struct{})}
	s, err := Open(Options{Dir: t.TempDir(), Sync: wal.SyncAlways, BufferSize: wal.MinBufferSize, FS: fs, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var once sync.Once
	unstall := func() {
		once.Do(func() {
			fs.mu.Lock()
			fs.stalled = false
			close(fs.resume)
			fs.mu.Unlock()
		})
	}
	defer unstall() // before Close, also when the test fails
	fs.mu.Lock()
	fs.stalled = true
	fs.mu.Unlock()
	var busy error
	var refused uint64
	for i := uint64(1); i <= 10_000 && busy == nil; i++ {
		r := benchRecord(i)
		if err := s.Put(&r); err != nil {
			busy, refused = err, i
		}
	}
	if !errors.Is(busy, storage.ErrBusy) || !errors.Is(busy, wal.ErrBufferFull) {
		t.Fatalf("Put with the device stalled: %v, want storage.ErrBusy and wal.ErrBufferFull", busy)
	}
	var out storage.Record
	if err := s.Get(benchRecord(refused).ID, &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the refused record: %v, want not found", err)
	}
	unstall()
	r := benchRecord(refused)
	deadline := time.Now().Add(10 * time.Second)
	for err = s.Put(&r); errors.Is(err, storage.ErrBusy) && time.Now().Before(deadline); err = s.Put(&r) {
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Put after the device caught up: %v", err)
	}
}
