// Package audit keeps smppd's audit log: an append-only JSON-lines file of
// the operator's changes, one JSON object per line, each stamped here with a
// sequence number and a time:
//
//	{"seq":12,"time":"2026-12-07T10:04:05.123456789Z","token":"ops",...}
//
// Append returns only once the line is on disk (fsynced), so its caller can
// record a change before answering for it. Files are rotated past a size
// and deleted past a retention age; the sequence number carries on across
// files and restarts, and Read pages through them by it. Without a
// directory the log is kept in memory only (the newest MemoryEntries).
//
// The package knows nothing of what an entry says (the admin API decides
// that); it imports nothing of smppd's.
package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Defaults and bounds of Options.
const (
	DefaultMaxFileSize = 16 << 20
	MinMaxFileSize     = 64 << 10
	// MaxRecord bounds one record: an admin request body is at most 64 KiB
	// and its answer is kept only when small, so this is never reached by
	// a well-formed entry.
	MaxRecord = 1 << 20
	// MemoryEntries is how many entries a log without a directory keeps.
	MemoryEntries = 10000
	// MaxReadLimit bounds one Read.
	MaxReadLimit = 1000
)

// retainEvery is how often a log that is not rotating still looks for
// files past their retention.
const retainEvery = time.Hour

// ErrRecord is returned by Append for a record that is not one JSON object
// on one line of at most MaxRecord octets.
var ErrRecord = errors.New("audit: a record is one JSON object on one line, at most 1 MiB")

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit: the log is closed")

// Options configure Open.
type Options struct {
	// Dir holds the files (created 0750 if missing, locked while open:
	// one process per directory). "" keeps the log in memory only.
	Dir string
	// MaxFileSize is the size past which the next entry starts a new
	// file [DefaultMaxFileSize; at least MinMaxFileSize].
	MaxFileSize int64
	// Retention deletes a finished file once its newest entry is older
	// than this; 0 keeps every file.
	Retention time.Duration
	// Now is the clock (tests); nil is time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// Stats are the log's counters since Open.
type Stats struct {
	Appended uint64 // entries written
	Errors   uint64 // Appends that failed (the entry is not in the log)
	Files    int    // files in the directory now
	Removed  uint64 // files deleted by retention
}

// Log is an open audit log. Its methods are safe for concurrent use.
type Log struct {
	o Options

	mu     sync.Mutex
	closed bool
	// syncMu orders the fsyncs: a writer that finds its entry already
	// synced by another's fsync returns without one (group commit), so
	// concurrent changes cost one fsync per batch, not one each.
	syncMu   sync.Mutex
	synced   uint64    // last entry known to be on disk; under syncMu
	seq      uint64    // last entry's
	last     time.Time // last entry's time: times never go backwards
	line     []byte    // scratch for the entry being written
	retained time.Time // when retention last ran
	stats    Stats
	mem      [][]byte // memory-only log: a ring of the newest entries
	memHead  int      // index of the oldest entry once mem is full
	f        *fileSet // nil for a memory-only log
}

// Open opens the log in o.Dir (creating it), recovering the sequence number
// from its newest file and cutting a torn last line, or a memory-only log
// when o.Dir is "".
func Open(o Options) (*Log, error) {
	if o.MaxFileSize == 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxFileSize < MinMaxFileSize {
		o.MaxFileSize = MinMaxFileSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Log{o: o}
	if o.Dir == "" {
		return l, nil
	}
	fs, last, err := openFiles(o.Dir, o.Logger)
	if err != nil {
		return nil, err
	}
	l.f = fs
	l.seq, l.last = last.Seq, last.Time
	l.retain(o.Now())
	return l, nil
}

// Append writes rec (a JSON object, as json.Marshal writes it) as the next
// entry, with "seq" and "time" put first, and returns its sequence number
// once it is fsynced. rec must not itself hold "seq" or "time".
func (l *Log) Append(rec []byte) (uint64, error) {
	seq, err := l.write(rec)
	if err != nil || l.f == nil {
		return seq, err
	}
	if err := l.syncTo(seq); err != nil {
		return 0, err
	}
	return seq, nil
}

// syncTo returns once entry seq is on disk: at most one fsync runs at a
// time, and it covers every entry written before it started.
func (l *Log) syncTo(seq uint64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= seq {
		return nil
	}
	l.mu.Lock()
	upto, cur := l.seq, l.f.cur
	l.mu.Unlock()
	if cur != nil {
		// A file closed meanwhile was fsynced before its close (write).
		if err := cur.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			l.mu.Lock()
			l.stats.Errors++
			l.mu.Unlock()
			return fmt.Errorf("audit: sync %s: %w", l.o.Dir, err)
		}
	}
	l.synced = upto
	return nil
}

// write stamps and writes rec, without an fsync.
func (l *Log) write(rec []byte) (uint64, error) {
	if len(rec) < 2 || rec[0] != '{' || rec[len(rec)-1] != '}' || len(rec) > MaxRecord || hasNewline(rec) {
		return 0, ErrRecord
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	now := l.o.Now().UTC()
	if now.Before(l.last) {
		now = l.last // a clock stepped back: entries stay in time order for Read
	}
	seq := l.seq + 1
	l.line = stamp(l.line[:0], seq, now, rec)
	if l.f == nil {
		l.remember(l.line)
	} else if err := l.f.write(l.line, seq, l.o.MaxFileSize); err != nil {
		// The number is spent: a line the failed write left behind in an
		// abandoned file must not share it with the next entry.
		l.seq, l.last = seq, now
		l.stats.Errors++
		return 0, err
	}
	l.seq, l.last = seq, now
	if l.f != nil && (l.f.rotated || now.Sub(l.retained) >= retainEvery) {
		l.f.rotated = false
		l.retain(now)
	}
	l.stats.Appended++
	return seq, nil
}

// Stats returns the counters.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stats
	if l.f != nil {
		st.Files = len(l.f.files)
	}
	return st
}

// Close closes the current file and releases the directory. Append fails
// afterwards; Read still works.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.f == nil {
		l.closed = true
		return nil
	}
	l.closed = true
	return l.f.close()
}

// retain deletes the finished files older than the retention. Called with
// l.mu held, at Open and after each rotation.
func (l *Log) retain(now time.Time) {
	if l.o.Retention <= 0 || l.f == nil {
		return
	}
	l.retained = now
	l.stats.Removed += l.f.removeOlder(now.Add(-l.o.Retention))
}

// remember keeps line in the memory ring.
func (l *Log) remember(line []byte) {
	e := append([]byte(nil), line[:len(line)-1]...) // without the newline
	if len(l.mem) < MemoryEntries {
		l.mem = append(l.mem, e)
		return
	}
	l.mem[l.memHead] = e
	l.memHead = (l.memHead + 1) % MemoryEntries
}

func hasNewline(b []byte) bool {
	for _, c := range b {
		if c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// stamp appends {"seq":N,"time":"T", then the fields of rec, and a newline.
func stamp(dst []byte, seq uint64, t time.Time, rec []byte) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"time":"`...)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if body := rec[1 : len(rec)-1]; len(bytes.TrimSpace(body)) > 0 {
		dst = append(dst, ',')
		dst = append(dst, body...)
	}
	return append(dst, '}', '\n')
}

// dirPerm and filePerm keep the log private to smppd's user and group: it
// names users and shows their settings.
const (
	dirPerm  os.FileMode = 0o750
	filePerm os.FileMode = 0o640
)
