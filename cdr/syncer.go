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
	size int64    // syncFile: bytes written to f before the job was queued (its fsync covers them)
	part string   // syncSeal: the part's name
	info fileInfo // syncSeal: the closed file
	done chan struct{}
}

type syncer struct {
	jobs    chan syncJob
	stopped chan struct{}
	pending atomic.Bool // a syncFile job is queued or running
	failed  atomic.Bool // a syncFile job's fsync failed: the writer syncs again
	// rename is os.Rename (tests inject failures).
	rename func(from, to string) error
	// unrenamed are sealed files whose rename failed: listed under their
	// part's name, renamed again before each later job and at the stop.
	// Syncer only.
	unrenamed []unrenamed
	// dropFile and dropped: the file whose synced pages were last dropped
	// from the page cache, and up to where (dropSynced). Syncer only.
	dropFile *os.File
	dropped  int64
}

// unrenamed is a sealed file still under its part's name.
type unrenamed struct{ part, name string }

func (s *Stream) startSyncer() {
	s.sy = syncer{jobs: make(chan syncJob, syncQueue), stopped: make(chan struct{}), rename: os.Rename}
	go s.runSyncer()
}

func (s *Stream) runSyncer() {
	defer close(s.sy.stopped)
	defer s.retryRenames() // Close: one more try; what is left the next start renames
	for j := range s.sy.jobs {
		s.retryRenames()
		switch j.kind {
		case syncFile:
			if err := j.f.Sync(); err != nil {
				s.writeFailed("sync", err)
				s.sy.failed.Store(true)
			} else {
				s.dropSynced(j.f, j.size&^(pageSize-1)) // the page holding the tail is written again
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
// it. A part whose rename fails is a closed file all the same: listed
// under its part's name, so retention and erasure find it, and renamed
// again later (retryRenames); the failure is counted and logged
// (cdr_write_failed, op rename). Syncer only.
func (s *Stream) sealed(j syncJob) {
	err := j.f.Sync()
	if err == nil {
		s.dropSynced(j.f, 0)
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	info := j.info
	if rerr := s.sy.rename(filepath.Join(s.fs.dir, j.part), filepath.Join(s.fs.dir, info.name)); rerr != nil {
		s.writeFailed("rename", rerr)
		s.sy.unrenamed = append(s.sy.unrenamed, unrenamed{part: j.part, name: info.name})
		info.name = j.part
	}
	if serr := syncDir(s.fs.dir); err == nil {
		err = serr
	}
	if err != nil {
		s.writeFailed("close", err)
	}
	s.rotations.Add(1)
	s.filesMu.Lock()
	s.fs.closed = append(s.fs.closed, info)
	s.filesMu.Unlock()
	s.log.Debug().Str("event", "cdr_rotated").Str("file", info.name).Int64("bytes", info.size).Msg("CDR file closed")
}

// retryRenames renames the sealed files whose rename failed, each under
// filesMu (an erasure or retention may be at it: one that removed it
// leaves nothing to rename). A failure again is counted and logged again.
// Syncer only.
func (s *Stream) retryRenames() {
	if len(s.sy.unrenamed) == 0 {
		return
	}
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	left := s.sy.unrenamed[:0]
	renamed := false
	for _, u := range s.sy.unrenamed {
		i := s.fileIndex(u.part)
		if i < 0 {
			continue // removed meanwhile
		}
		if err := s.sy.rename(filepath.Join(s.fs.dir, u.part), filepath.Join(s.fs.dir, u.name)); err != nil {
			s.writeFailed("rename", err)
			left = append(left, u)
			continue
		}
		s.fs.closed[i].name = u.name
		renamed = true
		s.log.Info().Str("event", "cdr_renamed").Str("file", u.name).Msg("CDR file renamed after a failed rename")
	}
	s.sy.unrenamed = left
	if renamed {
		if err := syncDir(s.fs.dir); err != nil {
			s.writeFailed("sync", err)
		}
	}
}

// dropSynced drops f's pages from the page cache, from where the last
// drop of f ended up to end (0: to the end of the file), once an fsync
// made them clean. Nothing reads a CDR file soon (a lookup reads it back
// from the disk), and a page dropped is reused by the next write: the
// writer's write(2) otherwise copies into pages new to the page cache,
// which in a VM that returns free memory to its host fault in the host
// (the copy was 30% of smppd's CPU at 4 x 100; BENCHMARKS.md, "the CDR
// writer's page cache"). It also keeps CDRs from filling the page cache.
// Syncer only.
func (s *Stream) dropSynced(f *os.File, end int64) {
	if f != s.sy.dropFile {
		s.sy.dropFile, s.sy.dropped = f, 0
	}
	if end != 0 && end <= s.sy.dropped {
		return
	}
	n := int64(0) // to the end of the file
	if end != 0 {
		n = end - s.sy.dropped
	}
	dropPages(f, s.sy.dropped, n)
	s.sy.dropped = end
	if end == 0 {
		s.sy.dropFile = nil // sealed: closed next
	}
}

// syncCurrent asks for an fsync of the file being written; false when
// one is still waiting (the lines written since wait for the next).
// Writer only.
func (s *Stream) syncCurrent() bool {
	if s.sy.pending.Load() {
		return false
	}
	s.sy.pending.Store(true)
	s.sy.jobs <- syncJob{kind: syncFile, f: s.fs.cur, size: s.fs.size}
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
