package cdr

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// ErrEraseBusy: an erasure of the files is already running. It has a
// Busy method, so a caller that does not import this package (the admin
// API) can tell it apart.
var ErrEraseBusy error = busyError{}

type busyError struct{}

func (busyError) Error() string { return "cdr: an erasure is already running" }
func (busyError) Busy() bool    { return true }

// maxLine bounds a line an erasure reads (lines are a few hundred bytes).
const maxLine = 1 << 20

// EraseStatus is the state of the latest erasure of the files.
type EraseStatus struct {
	Number   string    `json:"number"` // masked as in the logs (msg.MaskAddr)
	Running  bool      `json:"running"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	Files    int       `json:"files_rewritten"`
	Lines    uint64    `json:"lines_removed"`
	Error    string    `json:"error,omitempty"`
}

// eraseJob runs one erasure at a time in the background.
type eraseJob struct {
	mu   sync.Mutex
	st   EraseStatus
	busy bool
	wg   sync.WaitGroup
}

func (j *eraseJob) wait() { j.wg.Wait() }

// EraseLines starts removing, in the background, every line whose source
// or destination is number ('+' ignored) from the closed files: the file
// being written is closed first, with every final state queued before the
// call written into it. ErrEraseBusy while one runs; EraseStatus reports
// its progress and outcome.
func (s *Stream) EraseLines(number []byte) error {
	j := &s.eraseJob
	j.mu.Lock()
	if j.busy {
		j.mu.Unlock()
		return ErrEraseBusy
	}
	j.busy = true
	j.st = EraseStatus{Number: string(msg.MaskAddr(nil, number)), Running: true, Started: s.now()}
	j.wg.Add(1)
	j.mu.Unlock()
	number = bytes.Clone(number)
	go func() {
		defer j.wg.Done()
		files, lines, err := s.erase(number)
		j.mu.Lock()
		j.st.Running, j.st.Finished, j.st.Files, j.st.Lines = false, s.now(), files, lines
		if err != nil {
			j.st.Error = err.Error()
		}
		j.busy = false
		st := j.st
		j.mu.Unlock()
		ev := s.log.Info()
		if err != nil {
			ev = s.log.Error().Err(err)
		}
		ev.Str("event", "cdr_erased").Str("number", st.Number).Int("files_rewritten", files).Uint64("lines_removed", lines).
			Dur("took", st.Finished.Sub(st.Started)).Msg("CDR lines of a number erased")
	}()
	return nil
}

// EraseStatus returns the latest erasure's state (zero Started: none yet).
func (s *Stream) EraseStatus() EraseStatus {
	s.eraseJob.mu.Lock()
	defer s.eraseJob.mu.Unlock()
	return s.eraseJob.st
}

// erase closes the file being written, then rewrites each closed file
// holding number, one at a time under filesMu (retention waits; the
// writer goes on with a new file).
func (s *Stream) erase(number []byte) (files int, lines uint64, err error) {
	s.mu.Lock()
	if !s.closed {
		now := s.now().UnixNano()
		s.drain(now)
		s.rotate(now)
		s.syncDone() // the file just closed is listed
	}
	s.mu.Unlock()
	s.filesMu.Lock()
	names := make([]string, len(s.fs.closed))
	for i, f := range s.fs.closed {
		names[i] = f.name
	}
	s.filesMu.Unlock()
	for _, name := range names {
		n, ferr := s.eraseIn(name, number)
		if ferr != nil {
			err = errors.Join(err, ferr)
			continue
		}
		if n > 0 {
			files++
			lines += n
		}
	}
	s.erased.Add(lines)
	return files, lines, err
}

// eraseIn rewrites the closed file name without number's lines; a file
// left empty is removed. It returns how many lines went.
func (s *Stream) eraseIn(name string, number []byte) (uint64, error) {
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	i := s.fileIndex(name)
	if i < 0 {
		return 0, nil // removed by retention meanwhile
	}
	path := filepath.Join(s.fs.dir, name)
	kept, removed, err := filterFile(path, number)
	if err != nil || removed == 0 {
		return 0, err
	}
	old := s.fs.closed[i].size
	if len(kept) == 0 {
		if err := os.Remove(path); err != nil {
			return 0, fmt.Errorf("cdr: %w", err)
		}
		s.fs.closed = append(s.fs.closed[:i], s.fs.closed[i+1:]...)
	} else {
		if err := replaceFile(path, kept); err != nil {
			return 0, err
		}
		s.fs.closed[i].size = int64(len(kept))
	}
	s.bytes.Add(int64(len(kept)) - old)
	return removed, syncDir(s.fs.dir)
}

func (s *Stream) fileIndex(name string) int {
	for i := range s.fs.closed {
		if s.fs.closed[i].name == name {
			return i
		}
	}
	return -1
}

// filterFile reads path and returns its lines without those whose source
// or destination is number, and how many it left out. A line is decoded
// only when it holds number's digits at all.
func filterFile(path string, number []byte) (kept []byte, removed uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("cdr: %w", err)
	}
	defer f.Close()
	digits := bytes.TrimPrefix(number, []byte("+"))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var addrs struct {
		Source      string `json:"source"`
		Destination string `json:"destination"`
		SubSource   string `json:"submitted_source"` // the ESME's own, when the policy rewrote them
		SubDest     string `json:"submitted_destination"`
	}
	for sc.Scan() {
		line := sc.Bytes()
		if len(digits) > 0 && bytes.Contains(line, digits) {
			addrs.Source, addrs.Destination, addrs.SubSource, addrs.SubDest = "", "", "", ""
			if json.Unmarshal(line, &addrs) == nil &&
				(storage.SameNumber([]byte(addrs.Source), number) || storage.SameNumber([]byte(addrs.Destination), number) ||
					storage.SameNumber([]byte(addrs.SubSource), number) || storage.SameNumber([]byte(addrs.SubDest), number)) {
				removed++
				continue
			}
		}
		kept = append(kept, line...)
		kept = append(kept, '\n')
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("cdr: %s: %w", path, err)
	}
	return kept, removed, nil
}

// replaceFile writes data to a temporary file beside path, syncs it and
// renames it over path.
func replaceFile(path string, data []byte) error {
	tmp := path + eraseExt
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, filePerm)
	if err != nil {
		return fmt.Errorf("cdr: %w", err)
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cdr: %w", err)
	}
	return nil
}
