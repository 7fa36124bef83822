package wal

import (
	"testing"
	"time"
)

// lingerLog returns a SyncAlways log with request kind 1 whose fsyncs
// take d, and a first request whose fsync has begun.
func lingerLog(t *testing.T, d time.Duration) (*Log, *faultFS, Pos) {
	t.Helper()
	old := lingerMax
	lingerMax = 10 * time.Second // the mean fsync bounds it
	t.Cleanup(func() { lingerMax = old })
	fs := &faultFS{}
	o := opts(t, nil)
	o.FS, o.LingerKind = fs, 1
	l := mustOpen(t, o)
	fs.set(func(f *faultFS) { f.syncDelay = d })
	first := appendIntoFsync(t, l, fs)
	return l, fs, first
}

// The requests waiting when a commit answers one more are written with
// that one's next request: one group, one fsync for the three.
func TestLingerGathersAnsweredRequests(t *testing.T) {
	l, _, first := lingerLog(t, 200*time.Millisecond)
	defer closeLog(t, l)
	for i := 1; i <= 2; i++ {
		if _, err := l.Append(1, payloadFor(i, 40), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.WaitCommitted(uint64(first)); err != nil {
		t.Fatal(err)
	}
	g0 := l.Stats().Groups
	last, err := l.Append(1, payloadFor(3, 40), false) // the answered client's next request
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WaitCommitted(uint64(last)); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Groups != g0+1 || st.GroupLast != 3 || st.LingerFilled != 1 || st.LingerCut != 0 {
		t.Fatalf("%d groups after the first commit, the last of %d entries, lingers %d filled %d cut; want 1 of 3, 1 filled",
			st.Groups-g0, st.GroupLast, st.LingerFilled, st.LingerCut)
	}
}

// A linger whose requests do not come ends at the mean fsync: what
// waits is written then, and other kinds do not end it.
func TestLingerEndsAtItsDeadline(t *testing.T) {
	l, _, first := lingerLog(t, 200*time.Millisecond)
	defer closeLog(t, l)
	p, err := l.Append(1, payloadFor(1, 40), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WaitCommitted(uint64(first)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	q, err := l.Append(2, payloadFor(2, 40), false) // not a request
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WaitCommitted(uint64(q)); err != nil {
		t.Fatal(err)
	}
	// The linger (the mean fsync, 200 ms) and then the fsync (200 ms).
	if d := time.Since(t0); d < 200*time.Millisecond {
		t.Fatalf("committed %v after the first commit: the linger did not wait", d)
	}
	if st := l.Stats(); st.GroupLast != 2 || l.Committed() < uint64(p) || st.LingerCut != 1 || st.LingerFilled != 0 {
		t.Fatalf("the last group of %d entries, lingers %d filled %d cut; want 2 (the waiting request and the other entry), 1 cut",
			st.GroupLast, st.LingerFilled, st.LingerCut)
	}
}
