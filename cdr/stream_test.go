package cdr

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
)

func TestLineHoldsTheRecord(t *testing.T) {
	e := newEnv(t, nil)
	e.put(1, "alice", "ACME", "+4917012345678", "Hello \"world\"")
	submitted := e.clk.now()
	e.clk.advance(1500 * time.Millisecond)
	e.s.Final(msg.Final{ID: 1, State: msg.StateUndeliverable, Err: 0x45, Done: e.clk.nowNs(), UpstreamID: []byte("up-77")})
	e.step()
	got := e.lines()
	if len(got) != 1 {
		t.Fatalf("%d lines, want 1", len(got))
	}
	want := map[string]any{
		"v": 1.0, "id": hexID(1), "user": "alice", "source": "ACME", "source_ton": 5.0, "source_npi": 0.0,
		"destination": "+4917012345678", "destination_ton": 1.0, "destination_npi": 1.0, "parts": 1.0,
		"route": "premium", "connector": "smsc-a", "upstream_id": "up-77",
		"submitted": submitted.Format(timeLayout), "final": e.clk.now().Format(timeLayout),
		"state": "UNDELIVERABLE", "error": 69.0, "charge": 0.05, "quota_parts": 1.0, "refunded": false,
		"registered_delivery": 1.0, "data_coding": 0.0, "text": "Hello \"world\"",
	}
	for k, w := range want {
		if got[0][k] != w {
			t.Errorf("%s = %#v, want %#v", k, got[0][k], w)
		}
	}
	for k := range got[0] {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %s = %#v", k, got[0][k])
		}
	}
	if st := e.s.Stats(); st.Written != 1 || st.Dropped != 0 || st.Missing != 0 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestUpstreamIDFromTheStoreAndMissingRecord(t *testing.T) {
	e := newEnv(t, nil)
	e.put(1, "alice", "ACME", "4917000001", "hi")
	if err := e.store.PutUpstreamOf(1, []byte("SMSC-1")); err != nil {
		t.Fatal(err)
	}
	e.final(1)
	e.final(2) // no record: erased or never stored
	e.step()
	got := e.lines()
	if len(got) != 2 || got[0]["upstream_id"] != "SMSC-1" {
		t.Fatalf("lines = %v, want the store's upstream id on the first", got)
	}
	if got[1]["id"] != hexID(2) || got[1]["state"] != "DELIVERED" || got[1]["user"] != nil || got[1]["destination"] != nil {
		t.Fatalf("line of a missing record = %v, want only the event's fields", got[1])
	}
	if st := e.s.Stats(); st.Missing != 1 {
		t.Fatalf("Missing = %d, want 1", st.Missing)
	}
}

func TestMaskContentLeavesTheTextOut(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaskContent = true })
	e.put(1, "alice", "ACME", "4917000001", "secret code 1234")
	e.final(1)
	e.step()
	got := e.lines()
	if len(got) != 1 || got[0]["text"] != nil || got[0]["text_hex"] != nil || got[0]["destination"] != "4917000001" {
		t.Fatalf("masked line = %v: want no text and the numbers kept", got)
	}
}

func TestRotationBySize(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxFileSize = 1000 })
	const n = 40
	for i := uint64(1); i <= n; i++ {
		e.put(i, "alice", "ACME", "4917000001", "hello")
		e.final(i)
	}
	e.step()
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	names := e.files()
	if len(names) < 5 {
		t.Fatalf("%d files for %d lines of ~400 bytes at max_file_size 1000: %v", len(names), n, names)
	}
	var lastSeq uint64
	for _, name := range names {
		seq, start, end, part, ok := parseName(name)
		if !ok || part || seq <= lastSeq || end < start {
			t.Fatalf("file %s: seq %d after %d, part %v", name, seq, lastSeq, part)
		}
		lastSeq = seq
		fi, err := os.Stat(filepath.Join(e.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1000 {
			t.Fatalf("%s is %d bytes, past max_file_size 1000", name, fi.Size())
		}
	}
	got := ids(e.lines())
	if len(got) != n {
		t.Fatalf("%d lines, want %d", len(got), n)
	}
	for i, id := range got {
		if id != hexID(uint64(i+1)) {
			t.Fatalf("line %d is %s, want %s: lines in order, each once", i, id, hexID(uint64(i+1)))
		}
	}
}

func TestRotationByAgeAndRetention(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxFileAge = time.Minute; o.Retention = time.Hour })
	e.put(1, "alice", "ACME", "4917000001", "one")
	e.final(1)
	e.step()
	if names := e.files(); len(names) != 1 || !strings.HasSuffix(names[0], partExt) {
		t.Fatalf("files = %v, want one part being written", names)
	}
	e.clk.advance(59 * time.Second)
	e.step()
	if names := e.files(); len(names) != 1 || !strings.HasSuffix(names[0], partExt) {
		t.Fatalf("files = %v, want the part still open before max_file_age", names)
	}
	e.clk.advance(time.Second)
	e.step() // nothing new arrives: the tick closes it by age
	names := e.files()
	if len(names) != 1 || !strings.HasSuffix(names[0], closedExt) {
		t.Fatalf("files = %v, want one closed file at max_file_age", names)
	}
	e.put(2, "alice", "ACME", "4917000001", "two")
	e.final(2)
	e.step()
	e.clk.advance(time.Hour) // the first file closed an hour ago: at its retention, kept
	e.step()
	if names := e.files(); len(names) != 2 {
		t.Fatalf("files = %v, want the first closed file kept at exactly its retention, and the second closed by age", names)
	}
	e.clk.advance(time.Millisecond)
	e.step()
	names = e.files()
	if len(names) != 1 {
		t.Fatalf("files = %v, want the first one removed past its retention", names)
	}
	if got := ids(e.lines()); len(got) != 1 || got[0] != hexID(2) {
		t.Fatalf("lines left = %v, want the second message's", got)
	}
	if st := e.s.Stats(); st.Removed != 1 || st.Rotations != 2 || st.Files != 1 {
		t.Fatalf("Stats = %+v, want 1 removed, 2 rotations, 1 file", st)
	}
}

func TestFullQueueDropsCountsAndLogs(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.QueueSize = 4 })
	for i := uint64(1); i <= 10; i++ {
		e.put(i, "alice", "ACME", "4917000001", "x")
		e.final(i) // the writer does not run: the queue fills
	}
	if st := e.s.Stats(); st.Dropped != 6 || st.Queue != 4 {
		t.Fatalf("Stats = %+v, want 6 dropped and 4 queued", st)
	}
	if !strings.Contains(e.logs.String(), `"event":"cdr_dropped"`) || !strings.Contains(e.logs.String(), `"dropped_total":1`) {
		t.Fatalf("no cdr_dropped log line: %s", e.logs)
	}
	if n := strings.Count(e.logs.String(), "cdr_dropped"); n != 1 {
		t.Fatalf("%d cdr_dropped lines for 6 drops, want 1 (throttled)", n)
	}
	e.step()
	if got := ids(e.lines()); len(got) != 4 || got[0] != hexID(1) || got[3] != hexID(4) {
		t.Fatalf("lines = %v, want the 4 queued before the queue filled", got)
	}
}

func TestFinalDoesNotAllocate(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.QueueSize = 1 << 12 })
	up := []byte("upstream-id")
	f := msg.Final{ID: 1, State: msg.StateDelivered, Done: 1, UpstreamID: up}
	if n := testing.AllocsPerRun(1000, func() { e.s.Final(f) }); n != 0 {
		t.Fatalf("Final allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { e.s.Final(f) }); n != 0 { // the queue is full now: dropping allocates nothing either
		t.Fatalf("Final on a full queue allocates %v times", n)
	}
}

func TestCrashLeftPartIsClosedWithItsTornLineCut(t *testing.T) {
	e := newEnv(t, nil)
	for i := uint64(1); i <= 3; i++ {
		e.put(i, "alice", "ACME", "4917000001", "x")
		e.final(i)
	}
	e.step()
	names := e.files()
	if len(names) != 1 || !strings.HasSuffix(names[0], partExt) {
		t.Fatalf("files = %v", names)
	}
	// A crash: the part stays, its last line torn, the lock dropped.
	f, err := os.OpenFile(filepath.Join(e.dir, names[0]), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"v":1,"id":"00000`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	e.s.fs.lock.Release()
	e.s.closed = true // the old stream is gone

	var logs strings.Builder
	s2, err := Open(Options{Dir: e.dir, Messages: e.store, Now: e.clk.now, Logger: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !strings.Contains(logs.String(), `"event":"cdr_unclean_stop"`) {
		t.Fatalf("no cdr_unclean_stop warning: %s", logs.String())
	}
	names = e.files()
	if len(names) != 1 || !strings.HasSuffix(names[0], closedExt) {
		t.Fatalf("files after the restart = %v, want the part closed", names)
	}
	if got := ids(e.lines()); len(got) != 3 {
		t.Fatalf("lines = %v, want the 3 whole ones (the torn one cut)", got)
	}
	seq, _, _, _, _ := parseName(names[0])
	if s2.fs.nextSeq != seq+1 {
		t.Fatalf("next seq %d, want %d: numbering goes on", s2.fs.nextSeq, seq+1)
	}
}

func TestSecondOpenOfADirIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	_, err := Open(Options{Dir: e.dir, Messages: e.store})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), e.dir) {
		t.Fatalf("second Open: %v, want ErrLocked naming the dir", err)
	}
}

func TestWriterGoroutineAndClose(t *testing.T) {
	e := newEnv(t, nil)
	e.s.opts.Now = time.Now // the running writer reads the real clock
	e.s.now = time.Now
	e.s.Start()
	for i := uint64(1); i <= 100; i++ {
		e.put(i, "alice", "ACME", "4917000001", "x")
		e.final(i)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.s.Stats().Written < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("the writer wrote %d of 100 lines in 5s", e.s.Stats().Written)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	names := e.files()
	if len(names) != 1 || !strings.HasSuffix(names[0], closedExt) {
		t.Fatalf("files after Close = %v, want one closed file", names)
	}
	if got := ids(e.lines()); len(got) != 100 {
		t.Fatalf("%d lines, want 100", len(got))
	}
}

func TestWriteFailureIsCountedAndRetried(t *testing.T) {
	e := newEnv(t, nil)
	e.put(1, "alice", "ACME", "4917000001", "x")
	e.final(1)
	// The directory goes away under the writer: creating the file fails.
	if err := os.Chmod(e.dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// root ignores the mode: take the directory away instead.
		moved := e.dir + ".moved"
		if err := os.Rename(e.dir, moved); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(moved, e.dir)
		e.step()
		if err := os.Rename(moved, e.dir); err != nil {
			t.Fatal(err)
		}
	} else {
		e.step()
		if err := os.Chmod(e.dir, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	st := e.s.Stats()
	if st.WriteErrors == 0 || st.Written != 0 {
		t.Fatalf("Stats after a failed create = %+v, want a write error and nothing written", st)
	}
	if !strings.Contains(e.logs.String(), `"event":"cdr_write_failed"`) {
		t.Fatalf("no cdr_write_failed log line: %s", e.logs)
	}
	e.step() // the directory is back: the kept line goes out
	if got := ids(e.lines()); len(got) != 1 || got[0] != hexID(1) {
		t.Fatalf("lines after the retry = %v, want the kept line", got)
	}
}

// The writer in steady state (final states queued, read, encoded and
// written, the seconds' texts renewed as the clock moves) allocates
// nothing per line.
func TestWriterDoesNotAllocateWhenWarm(t *testing.T) {
	e := newEnv(t, nil)
	for i := uint64(1); i <= 64; i++ {
		e.put(i, "alice", "ACME", "4917000001", "Your code is 4711")
	}
	batch := func() {
		for i := uint64(1); i <= 64; i++ {
			e.clk.advance(20 * time.Millisecond)
			e.final(i)
		}
		e.writerStep() // the syncer's waits are the test's, not the writer's
	}
	batch() // the file, the buffers
	if n := testing.AllocsPerRun(50, batch); n != 0 {
		t.Fatalf("64 lines allocate %v times", n)
	}
	// AllocsPerRun calls batch once more than asked, before measuring.
	if st := e.s.Stats(); st.Written != 52*64 || st.Dropped != 0 || st.Missing != 0 {
		t.Fatalf("stats %+v, want %d written", st, 52*64)
	}
}

// A line that opens the next file is read and counted once: with files
// that hold one line without its record (about 130 bytes) each missing
// record counts once (it counted twice, read again after the rotation).
func TestRotationCountsAMissingRecordOnce(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxFileSize = 250 })
	const n = 20
	for i := uint64(1); i <= n; i++ {
		e.final(i) // no record: the short line
	}
	e.step()
	if st := e.s.Stats(); st.Written != n || st.Missing != n || st.Rotations < n-1 {
		t.Fatalf("stats %+v, want %d written, %d missing, a rotation every line", st, n, n)
	}
	if got := ids(e.lines()); len(got) != n {
		t.Fatalf("%d lines, want %d", len(got), n)
	}
}

// The writer hands each file it closes to the syncer and goes on: after
// steps that did not wait for it, Close still leaves every file synced,
// renamed and listed, in seq order, with every line.
func TestSyncerSealsWhatTheWriterClosed(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxFileSize = 600 }) // a few lines a file
	for i := uint64(1); i <= 40; i++ {
		e.put(i, "alice", "ACME", "4917000001", "x")
		e.final(i)
		if i%5 == 0 {
			e.clk.advance(2 * time.Second) // a periodic sync too
			e.writerStep()
		}
	}
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	files := e.files()
	for _, f := range files {
		if strings.HasSuffix(f, partExt) {
			t.Fatalf("a part left after Close: %v", files)
		}
	}
	st := e.s.Stats()
	if len(files) < 2 || st.Files != len(files) || st.Rotations != uint64(len(files)) || st.WriteErrors != 0 {
		t.Fatalf("files %v, stats %+v", files, st)
	}
	got := ids(e.lines())
	if len(got) != 40 || got[0] != hexID(1) || got[39] != hexID(40) {
		t.Fatalf("%d lines %v", len(got), got)
	}
}

// A periodic fsync that fails is tried again the next period, though no
// line came since: the lines it covered may not be on disk. (The writer
// took the file for clean when it queued the sync.)
func TestFailedPeriodicSyncIsRetried(t *testing.T) {
	e := newEnv(t, nil)
	e.put(1, "alice", "ACME", "4917000001", "x")
	e.final(1)
	e.step() // written (the file created)
	e.clk.advance(2 * time.Second)
	e.step() // synced: clean
	e.s.mu.Lock()
	dirty := e.s.dirty
	e.s.mu.Unlock()
	if dirty {
		t.Fatal("not clean after the periodic sync")
	}
	closed, err := os.CreateTemp(t.TempDir(), "closed")
	if err != nil {
		t.Fatal(err)
	}
	_ = closed.Close()
	e.s.sy.pending.Store(true)
	e.s.sy.jobs <- syncJob{kind: syncFile, f: closed} // the periodic sync, failing
	e.s.syncDone()
	if st := e.s.Stats(); st.WriteErrors != 1 {
		t.Fatalf("the failed sync not counted: %+v", st)
	}
	e.clk.advance(2 * time.Second)
	e.writerStep()
	e.s.mu.Lock()
	synced := e.s.synced
	e.s.mu.Unlock()
	if synced != e.clk.nowNs() {
		t.Fatal("no sync after a failed one: the file was taken for clean")
	}
	e.s.syncDone()
	if st := e.s.Stats(); st.WriteErrors != 1 {
		t.Fatalf("the second sync failed too: %+v", st)
	}
}

// A sealed file whose rename fails is still a closed file: listed (under
// its part's name, so retention and erasure find it), counted as a
// rotation, the failure counted and logged, and renamed again by the
// syncer's next job; nothing of it is lost. Before, it was left out of
// the list until the next start (retention and erasure never saw it).
func TestSealedRenameFailureListedAndRetried(t *testing.T) {
	e := newEnv(t, nil)
	var fail atomic.Int32
	fail.Store(3) // the seal's rename and two retries
	e.s.sy.rename = func(from, to string) error {
		if fail.Add(-1) >= 0 {
			return &os.LinkError{Op: "rename", Old: from, New: to, Err: syscall.EIO}
		}
		return os.Rename(from, to)
	}
	e.put(1, "alice", "ACME", "4917000001", "x")
	e.final(1)
	e.step()
	e.s.mu.Lock()
	e.s.rotate(e.clk.nowNs()) // as max_file_age does
	e.s.mu.Unlock()
	e.s.syncDone() // the seal, its rename failing, and a retry before the wait's job

	listed := func() []string {
		e.s.filesMu.Lock()
		defer e.s.filesMu.Unlock()
		var names []string
		for _, f := range e.s.fs.closed {
			names = append(names, f.name)
		}
		return names
	}
	names := listed()
	if len(names) != 1 || !strings.HasSuffix(names[0], partExt) {
		t.Fatalf("after the failed rename the closed files are %v, want the part listed", names)
	}
	st := e.s.Stats()
	if st.Files != 1 || st.Rotations != 1 || st.WriteErrors != 2 {
		t.Fatalf("after the failed rename: %+v, want 1 file, 1 rotation, 2 write errors", st)
	}
	if !strings.Contains(e.logs.String(), `"event":"cdr_write_failed","op":"rename"`) {
		t.Fatalf("the failed rename is not logged:\n%s", e.logs)
	}

	e.s.syncDone() // the next job: the retry fails too
	if st := e.s.Stats(); st.WriteErrors != 3 || !strings.HasSuffix(listed()[0], partExt) {
		t.Fatalf("after a failed retry: %+v, listed %v", st, listed())
	}
	e.s.syncDone() // and the next one renames it
	names = listed()
	if len(names) != 1 || !strings.HasSuffix(names[0], closedExt) || strings.HasSuffix(names[0], partExt) {
		t.Fatalf("after the retry the closed files are %v, want it renamed", names)
	}
	if files := e.files(); len(files) != 1 || files[0] != names[0] {
		t.Fatalf("directory %v, listed %v", files, names)
	}
	if !strings.Contains(e.logs.String(), `"event":"cdr_renamed"`) {
		t.Fatalf("the rename on retry is not logged:\n%s", e.logs)
	}
	if got := ids(e.lines()); len(got) != 1 || got[0] != hexID(1) {
		t.Fatalf("lines %v", got)
	}
}

// A file still under its part's name when the stream closes is renamed
// by the next start; an erasure meanwhile finds it under that name.
func TestUnrenamedFileErasedAndClosedAtNextStart(t *testing.T) {
	e := newEnv(t, nil)
	e.s.sy.rename = func(from, to string) error {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: syscall.EIO}
	}
	e.put(1, "alice", "ACME", "4917000001", "x")
	e.put(2, "bob", "ACME", "4917000002", "y")
	e.final(1)
	e.final(2)
	e.step()
	e.s.mu.Lock()
	e.s.rotate(e.clk.nowNs())
	e.s.mu.Unlock()
	e.s.syncDone()
	files, lines, err := e.s.erase([]byte("4917000001"))
	if err != nil || files != 1 || lines != 1 {
		t.Fatalf("erasure in the unrenamed file: %d files, %d lines, %v", files, lines, err)
	}
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	if f := e.files(); len(f) != 1 || !strings.HasSuffix(f[0], partExt) {
		t.Fatalf("after Close with renames failing: %v", f)
	}
	s2, err := Open(Options{Dir: e.dir, Messages: e.store, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if st := s2.Stats(); st.Files != 1 {
		t.Fatalf("the next start lists %d files", st.Files)
	}
	if f := e.files(); len(f) != 1 || !strings.HasSuffix(f[0], closedExt) || strings.HasSuffix(f[0], partExt) {
		t.Fatalf("the next start left %v", f)
	}
	if got := ids(e.lines()); len(got) != 1 || got[0] != hexID(2) {
		t.Fatalf("lines %v, want only message 2's", got)
	}
}
