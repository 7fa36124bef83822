package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func open(t *testing.T, o Options) *Log {
	t.Helper()
	o.Logger = zerolog.Nop()
	l, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func appendN(t *testing.T, l *Log, from, n int, pad int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		rec := fmt.Sprintf(`{"n":%d,"pad":%q}`, i, strings.Repeat("x", pad))
		if _, err := l.Append([]byte(rec)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

type entry struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	N    int       `json:"n"`
}

// readAll pages through the whole log with the given page size.
func readAll(t *testing.T, l *Log, since time.Time, page int) []entry {
	t.Helper()
	var out []entry
	var after uint64
	for {
		recs, more, err := l.Read(after, since, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			var e entry
			if err := json.Unmarshal(r, &e); err != nil {
				t.Fatalf("entry %q: %v", r, err)
			}
			out = append(out, e)
			after = e.Seq
		}
		if !more {
			return out
		}
		if len(recs) == 0 {
			t.Fatal("more without entries")
		}
	}
}

func checkRun(t *testing.T, got []entry, firstSeq uint64, firstN, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d entries, want %d", len(got), n)
	}
	for i, e := range got {
		if e.Seq != firstSeq+uint64(i) || e.N != firstN+i {
			t.Fatalf("entry %d: seq %d n %d, want seq %d n %d", i, e.Seq, e.N, firstSeq+uint64(i), firstN+i)
		}
		if i > 0 && e.Time.Before(got[i-1].Time) {
			t.Fatalf("entry %d: time %v before %v", i, e.Time, got[i-1].Time)
		}
	}
}

func TestAppendStampsAndReadsBack(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	l := open(t, Options{Dir: dir, Now: clk.now})
	seq, err := l.Append([]byte(`{"token":"ops","status":200}`))
	if err != nil || seq != 1 {
		t.Fatalf("Append = %d, %v", seq, err)
	}
	if _, err := l.Append([]byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	recs, more, err := l.Read(0, time.Time{}, 10)
	if err != nil || more || len(recs) != 2 {
		t.Fatalf("Read = %d entries, more %v, %v", len(recs), more, err)
	}
	if want := `{"seq":1,"time":"2026-12-07T10:00:00Z","token":"ops","status":200}`; string(recs[0]) != want {
		t.Errorf("entry 1 = %s, want %s", recs[0], want)
	}
	if want := `{"seq":2,"time":"2026-12-07T10:00:00Z"}`; string(recs[1]) != want {
		t.Errorf("entry 2 = %s, want %s", recs[1], want)
	}
	raw, err := os.ReadFile(filepath.Join(dir, fileName(1)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(raw), "\n") != 2 || !strings.HasSuffix(string(raw), "}\n") {
		t.Errorf("file is not two JSON lines: %q", raw)
	}
	if st, err := os.Stat(filepath.Join(dir, fileName(1))); err != nil || st.Mode().Perm() != filePerm {
		t.Errorf("file mode %v, %v; want %v", st.Mode().Perm(), err, filePerm)
	}
}

func TestAppendRefusesWhatIsNotOneObject(t *testing.T) {
	l := open(t, Options{})
	for _, rec := range []string{"", "{", "[1]", `"x"`, "{\"a\":\n1}", `{"a":"` + strings.Repeat("x", MaxRecord) + `"}`} {
		if _, err := l.Append([]byte(rec)); !errors.Is(err, ErrRecord) {
			t.Errorf("Append(%.20q) = %v, want ErrRecord", rec, err)
		}
	}
	if st := l.Stats(); st.Appended != 0 {
		t.Errorf("appended %d", st.Appended)
	}
}

func TestTimeNeverGoesBack(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	l := open(t, Options{Dir: t.TempDir(), Now: clk.now})
	appendN(t, l, 0, 1, 0)
	clk.add(-time.Hour) // the clock is stepped back
	appendN(t, l, 1, 1, 0)
	got := readAll(t, l, time.Time{}, 10)
	if !got[1].Time.Equal(got[0].Time) {
		t.Errorf("second entry %v, want %v (not before the first)", got[1].Time, got[0].Time)
	}
}

// TestSurvivesRestart: the entries and the numbering come back after a
// close and after a crash that tore the last line.
func TestSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 0, 5, 10)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v", err)
	}
	// A crash in the middle of a write leaves a line without its end.
	f, err := os.OpenFile(filepath.Join(dir, fileName(1)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"seq":6,"time":"2026-12-07T10:00:00Z","n":5,"pa`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	l2 := open(t, Options{Dir: dir})
	checkRun(t, readAll(t, l2, time.Time{}, 2), 1, 0, 5)
	appendN(t, l2, 5, 3, 10)
	checkRun(t, readAll(t, l2, time.Time{}, 3), 1, 0, 8)
	raw, err := os.ReadFile(filepath.Join(dir, fileName(1)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(raw), "\n") != 8 || strings.Contains(string(raw), `"pa{`) {
		t.Errorf("the torn line was not cut:\n%s", raw)
	}
}

func TestSecondProcessRefused(t *testing.T) {
	dir := t.TempDir()
	open(t, Options{Dir: dir})
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
}

// TestRotation: past MaxFileSize a new file starts, named after its first
// entry; reading pages across files by seq and skips by time.
func TestRotation(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	l := open(t, Options{Dir: dir, MaxFileSize: MinMaxFileSize, Now: clk.now})
	const n, pad = 400, 900 // about 1 KiB a line: 63 lines a file
	for i := range n {
		appendN(t, l, i, 1, pad)
		clk.add(time.Second)
	}
	ents, _ := os.ReadDir(dir)
	var files []string
	for _, e := range ents {
		if _, ok := parseFileName(e.Name()); ok {
			files = append(files, e.Name())
			if st, _ := e.Info(); st.Size() > MinMaxFileSize {
				t.Errorf("%s is %d octets, over %d", e.Name(), st.Size(), MinMaxFileSize)
			}
		}
	}
	if len(files) < 6 || files[0] != fileName(1) {
		t.Fatalf("files %v", files)
	}
	if st := l.Stats(); st.Files != len(files) || st.Appended != n {
		t.Errorf("stats %+v, %d files", st, len(files))
	}
	checkRun(t, readAll(t, l, time.Time{}, 7), 1, 0, n)
	// Entry i was written at 10:00:00 + i s.
	since := time.Date(2026, 12, 7, 10, 0, 250, 0, time.UTC)
	checkRun(t, readAll(t, l, since, 50), 251, 250, n-250)
	// A restart continues in the last file.
	l.Close()
	l2 := open(t, Options{Dir: dir, MaxFileSize: MinMaxFileSize, Now: clk.now})
	appendN(t, l2, n, 1, pad)
	checkRun(t, readAll(t, l2, time.Time{}, MaxReadLimit), 1, 0, n+1)
}

// TestRetention: a finished file whose last entry is older than the
// retention goes at the next rotation; the file being written never goes.
func TestRetention(t *testing.T) {
	clk := &clock{t: time.Now()}
	dir := t.TempDir()
	l := open(t, Options{Dir: dir, MaxFileSize: MinMaxFileSize, Retention: 24 * time.Hour, Now: clk.now})
	appendN(t, l, 0, 150, 900) // three files
	if st := l.Stats(); st.Files != 3 {
		t.Fatalf("%d files", st.Files)
	}
	old := time.Now().Add(-48 * time.Hour)
	for _, first := range l.f.files {
		if err := os.Chtimes(filepath.Join(dir, fileName(first)), old, old); err != nil {
			t.Fatal(err)
		}
	}
	appendN(t, l, 150, 70, 900) // one more rotation
	st := l.Stats()
	if st.Removed != 2 || st.Files != 2 {
		t.Fatalf("after rotation: %+v, want the two old finished files removed", st)
	}
	got := readAll(t, l, time.Time{}, 100)
	if len(got) == 0 || got[len(got)-1].N != 219 || got[0].Seq == 1 {
		t.Fatalf("read after retention: %d entries, first seq %d", len(got), got[0].Seq)
	}
	// A reader paging from an entry retention removed starts at the oldest left.
	recs, _, err := l.Read(1, time.Time{}, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Read(1) = %d, %v", len(recs), err)
	}
}

func TestMemoryOnly(t *testing.T) {
	l := open(t, Options{})
	appendN(t, l, 0, MemoryEntries+5, 0)
	got := readAll(t, l, time.Time{}, MaxReadLimit)
	checkRun(t, got, 6, 5, MemoryEntries)
	if st := l.Stats(); st.Files != 0 || st.Appended != MemoryEntries+5 {
		t.Errorf("stats %+v", st)
	}
}

func TestConcurrentAppends(t *testing.T) {
	l := open(t, Options{Dir: t.TempDir(), MaxFileSize: MinMaxFileSize})
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { appendN(t, l, w*each, each, 200) })
	}
	wg.Wait()
	got := readAll(t, l, time.Time{}, 64)
	if len(got) != workers*each {
		t.Fatalf("%d entries", len(got))
	}
	seen := map[int]bool{}
	for i, e := range got {
		if e.Seq != uint64(i+1) || seen[e.N] {
			t.Fatalf("entry %d: seq %d n %d (dup %v)", i, e.Seq, e.N, seen[e.N])
		}
		seen[e.N] = true
	}
}

// BenchmarkAppend shows the group commit: with 8 x GOMAXPROCS writers each
// fsync covers several entries, so the parallel rate is a multiple of the
// serial one (the serial rate is one entry per fsync).
func BenchmarkAppend(b *testing.B) {
	rec := []byte(`{"token":"ops","method":"POST","path":"/v1/mo","status":202}`)
	for _, writers := range []int{1, 8} {
		b.Run("parallelism"+strconv.Itoa(writers), func(b *testing.B) {
			l, err := Open(Options{Dir: b.TempDir(), Logger: zerolog.Nop()})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			b.SetParallelism(writers)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := l.Append(rec); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
