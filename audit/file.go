package audit

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/smppd/smppd/internal/dirlock"
)

// A file is named after the sequence number of its first entry, zero-padded
// so the names sort in order: audit-00000000000000000001.jsonl.
const (
	filePrefix = "audit-"
	fileSuffix = ".jsonl"
)

func fileName(first uint64) string { return fmt.Sprintf("%s%020d%s", filePrefix, first, fileSuffix) }

func parseFileName(n string) (uint64, bool) {
	s, ok := strings.CutPrefix(n, filePrefix)
	if !ok {
		return 0, false
	}
	if s, ok = strings.CutSuffix(s, fileSuffix); !ok || len(s) != 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil && v > 0
}

// fileSet is the directory's files, oldest first; the last is written.
type fileSet struct {
	dir     string
	log     zerolog.Logger
	lock    *dirlock.Lock
	files   []uint64 // first sequence number of each file
	cur     *os.File // the last file, opened for append; nil before the first entry
	size    int64    // of cur
	rotated bool     // a new file was started since Append last looked
}

// header is what Read and Open need of an entry line.
type header struct {
	Seq  uint64
	Time time.Time
}

// openFiles opens dir, locks it, lists its files and recovers the newest
// entry from the last one, cutting a torn line a crash left at its end.
func openFiles(dir string, log zerolog.Logger) (*fileSet, header, error) {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, header{}, fmt.Errorf("audit: %w", err)
	}
	lk, err := lockDir(dir)
	if err != nil {
		return nil, header{}, err
	}
	fs := &fileSet{dir: dir, log: log, lock: lk}
	ents, err := os.ReadDir(dir)
	if err != nil {
		lk.Release()
		return nil, header{}, fmt.Errorf("audit: %w", err)
	}
	for _, e := range ents {
		if first, ok := parseFileName(e.Name()); ok && e.Type().IsRegular() {
			fs.files = append(fs.files, first)
		}
	}
	slices.Sort(fs.files)
	if len(fs.files) == 0 {
		return fs, header{}, nil
	}
	last, err := fs.recover()
	if err != nil {
		lk.Release()
		return nil, header{}, err
	}
	return fs, last, nil
}

// recover scans the last file, truncates what follows its last complete
// line, and opens it for append. A file with no entry (a crash right after
// creating it) continues the numbering its name gives.
func (fs *fileSet) recover() (header, error) {
	first := fs.files[len(fs.files)-1]
	name := filepath.Join(fs.dir, fileName(first))
	f, err := os.OpenFile(name, os.O_RDWR, filePerm)
	if err != nil {
		return header{}, fmt.Errorf("audit: %w", err)
	}
	last := header{Seq: first - 1}
	var good int64 // offset after the last complete line
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		chunk, err := r.ReadSlice('\n')
		h, ok := parseHeader(chunk) // the header is in a line's first chunk
		n := int64(len(chunk))
		for errors.Is(err, bufio.ErrBufferFull) {
			chunk, err = r.ReadSlice('\n')
			n += int64(len(chunk))
		}
		if err != nil {
			break // io.EOF: what is left is a torn line (or nothing)
		}
		good += n
		if ok && h.Seq > last.Seq {
			last = h
		}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return header{}, fmt.Errorf("audit: %w", err)
	}
	if st.Size() > good {
		fs.log.Warn().Str("event", "audit_torn").Str("file", name).Int64("cut", st.Size()-good).
			Msg("audit: cut a torn last line (the process stopped while writing it)")
		if err := f.Truncate(good); err != nil {
			f.Close()
			return header{}, fmt.Errorf("audit: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return header{}, fmt.Errorf("audit: %w", err)
		}
	}
	f.Close()
	if fs.cur, err = os.OpenFile(name, os.O_WRONLY|os.O_APPEND, filePerm); err != nil {
		return header{}, fmt.Errorf("audit: %w", err)
	}
	fs.size = good
	return last, nil
}

// write appends line (entry seq), first starting a new file when the
// current one would pass maxSize; the caller fsyncs (Log.syncTo, one fsync
// for every writer waiting). A full file is fsynced before it is closed, so
// an entry's file is durable once closed. On failure nothing of line is
// left in the file, or the file is abandoned and the next entry starts a
// new one.
func (fs *fileSet) write(line []byte, seq uint64, maxSize int64) error {
	if fs.cur != nil && fs.size > 0 && fs.size+int64(len(line)) > maxSize {
		if err := fs.cur.Sync(); err != nil {
			return fmt.Errorf("audit: sync %s: %w", fs.dir, err)
		}
		if err := fs.cur.Close(); err != nil {
			fs.log.Warn().Err(err).Str("event", "audit_close").Msg("audit: closing a full file failed")
		}
		fs.cur = nil
		fs.rotated = true
	}
	if fs.cur == nil {
		if err := fs.create(seq); err != nil {
			return err
		}
	}
	_, err := fs.cur.Write(line)
	if err == nil {
		fs.size += int64(len(line))
		return nil
	}
	if terr := fs.cur.Truncate(fs.size); terr != nil {
		// A partial line may remain: this file takes no more entries.
		_ = fs.cur.Close()
		fs.cur = nil
		fs.rotated = true
	}
	return fmt.Errorf("audit: write %s: %w", fs.dir, err)
}

// create starts the file whose first entry is seq and makes its name
// durable (directory fsync).
func (fs *fileSet) create(seq uint64) error {
	name := filepath.Join(fs.dir, fileName(seq))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := syncDir(fs.dir); err != nil {
		f.Close()
		_ = os.Remove(name)
		return fmt.Errorf("audit: %w", err)
	}
	fs.cur, fs.size = f, 0
	fs.files = append(fs.files, seq)
	return nil
}

// removeOlder deletes every file but the last whose last write is before
// cutoff, and returns how many it deleted.
func (fs *fileSet) removeOlder(cutoff time.Time) uint64 {
	var n uint64
	keep := fs.files[:0]
	for i, first := range fs.files {
		name := filepath.Join(fs.dir, fileName(first))
		if i < len(fs.files)-1 {
			st, err := os.Stat(name)
			if err == nil && st.ModTime().Before(cutoff) {
				if err := os.Remove(name); err == nil {
					fs.log.Info().Str("event", "audit_retention").Str("file", name).Time("last_entry", st.ModTime()).
						Msg("audit: deleted a file past its retention")
					n++
					continue
				} else {
					fs.log.Warn().Err(err).Str("event", "audit_retention").Str("file", name).Msg("audit: could not delete an old file")
				}
			}
		}
		keep = append(keep, first)
	}
	fs.files = keep
	if n > 0 {
		if err := syncDir(fs.dir); err != nil {
			fs.log.Warn().Err(err).Str("event", "audit_retention").Msg("audit: directory sync after deleting failed")
		}
	}
	return n
}

func (fs *fileSet) close() error {
	var err error
	if fs.cur != nil {
		err = errors.Join(fs.cur.Sync(), fs.cur.Close())
		fs.cur = nil
	}
	fs.lock.Release()
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// maxHeader bounds the start of a line that holds "seq" and "time".
const maxHeader = 96

// parseHeader reads the seq and time this package put at the start of a
// line; anything else (a corrupt line) is not an entry.
func parseHeader(line []byte) (header, bool) {
	s, ok := strings.CutPrefix(string(line[:min(len(line), maxHeader)]), `{"seq":`)
	if !ok {
		return header{}, false
	}
	i := strings.IndexByte(s, ',')
	if i <= 0 {
		return header{}, false
	}
	seq, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		return header{}, false
	}
	s, ok = strings.CutPrefix(s[i:], `,"time":"`)
	if !ok {
		return header{}, false
	}
	j := strings.IndexByte(s, '"')
	if j <= 0 {
		return header{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s[:j])
	if err != nil {
		return header{}, false
	}
	return header{Seq: seq, Time: t}, true
}
