package cdr

import (
	"os"
	"path/filepath"
	"sync/atomic"
)

// The syncer takes the fsyncs off the writer. An fsync of a second's
// lines (up to ~200 MB at full rate) took 0.05–0.33 s on a busy disk,
// and the writer, blocked in it, let the queue fill behind it; now the
// writer only writes to the page cache and hands the file to this
// goroutine: a periodic sync of the file being written (at most one
// waiting), a file to seal (sync, close, rename, list), the directory
// after a create. Jobs run in order, so a file is synced before it is
// sealed and sealed files are listed in seq order.

// syncQueue bounds the jobs waiting; a writer that gets this far ahead of
// a stalled disk waits (and the backlog flag stops new MT).
const syncQueue = 64

type syncKind uint8

const (
	syncFile  syncKind = iota // fsync the file being written
	syncSeal                  // fsync, close and rename a part; list it
	syncDirOf                 // fsync the directory (a part was created)
	syncWait                  // nothing: done is closed when the jobs before it ran
)

type syncJob struct {
	kind syncKind
	f    *os.File
	part string   // syncSeal: the part's name
	info fileInfo // syncSeal: the closed file
	done chan struct{}
}

type syncer struct {
	jobs    chan syncJob
	stopped chan struct{}
	pending atomic.Bool // a syncFile job is queued or running
	failed  atomic.Bool // a syncFile job's fsync failed: the writer syncs again
}

func (s *Stream) startSyncer() {
	s.sy = syncer{jobs: make(chan syncJob, syncQueue), stopped: make(chan struct{})}
	go s.runSyncer()
}

func (s *Stream) runSyncer() {
	defer close(s.sy.stopped)
	for j := range s.sy.jobs {
		switch j.kind {
		case syncFile:
			if err := j.f.Sync(); err != nil {
				s.writeFailed("sync", err)
				s.sy.failed.Store(true)
			}
			s.sy.pending.Store(false)
		case syncSeal:
			s.sealed(j)
		case syncDirOf:
			if err := syncDir(s.fs.dir); err != nil {
				s.writeFailed("sync", err)
			}
		case syncWait:
			close(j.done)
		}
	}
}

// sealed syncs, closes and renames a part the writer closed, then lists
// it. Syncer only.
func (s *Stream) sealed(j syncJob) {
	err := j.f.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Rename(filepath.Join(s.fs.dir, j.part), filepath.Join(s.fs.dir, j.info.name)); rerr != nil {
		s.writeFailed("close", rerr)
		return // not renamed: the next start closes it
	}
	if serr := syncDir(s.fs.dir); err == nil {
		err = serr
	}
	if err != nil {
		s.writeFailed("close", err)
	}
	s.rotations.Add(1)
	s.filesMu.Lock()
	s.fs.closed = append(s.fs.closed, j.info)
	s.filesMu.Unlock()
	s.log.Debug().Str("event", "cdr_rotated").Str("file", j.info.name).Int64("bytes", j.info.size).Msg("CDR file closed")
}

// syncCurrent asks for an fsync of the file being written; false when
// one is still waiting (the lines written since wait for the next).
// Writer only.
func (s *Stream) syncCurrent() bool {
	if s.sy.pending.Load() {
		return false
	}
	s.sy.pending.Store(true)
	s.sy.jobs <- syncJob{kind: syncFile, f: s.fs.cur}
	return true
}

// syncDone waits until every job handed to the syncer so far has run.
func (s *Stream) syncDone() {
	done := make(chan struct{})
	s.sy.jobs <- syncJob{kind: syncWait, done: done}
	<-done
}

// stopSyncer runs the jobs left and stops the goroutine.
func (s *Stream) stopSyncer() {
	close(s.sy.jobs)
	<-s.sy.stopped
}
