package wal

import (
	"testing"
	"time"
)

// Stats.GroupWait sums, over the groups an Append started, the time from
// that entry to the writer's taking the group (here the fsync in progress
// and the commit callback before it); Stats.CommitCallback, the time in
// OnCommit's callback.
func TestGroupWaitAndCommitCallback(t *testing.T) {
	const fsync, answer = 60 * time.Millisecond, 25 * time.Millisecond
	fs := &faultFS{}
	o := opts(t, nil)
	o.FS, o.Sync = fs, SyncAlways
	l := mustOpen(t, o)
	defer closeLog(t, l)
	l.OnCommit(func(uint64) { time.Sleep(answer) })
	fs.set(func(f *faultFS) { f.syncDelay = fsync })
	_, syncs0, _ := fs.count()
	st0 := l.Stats()
	if _, err := l.Append(1, payloadFor(0, 40), false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the writer in its fsync", func() bool { _, s, _ := fs.count(); return s > syncs0 })
	t0 := time.Now()
	last, err := l.Append(1, payloadFor(1, 40), false) // waits for that fsync and its answers
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WaitCommitted(uint64(last)); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	st := l.Stats()
	groups, wait, cb := st.Groups-st0.Groups, st.GroupWait-st0.GroupWait, st.CommitCallback-st0.CommitCallback
	if groups != 2 {
		t.Fatalf("%d groups, want 2", groups)
	}
	// The second group waited at least for the first one's answers; not
	// for its own write, fsync and answers.
	if wait < answer || wait > took-fsync {
		t.Fatalf("GroupWait %v, want %v to %v", wait, answer, took-fsync)
	}
	// Both commits' callbacks ran before WaitCommitted returned.
	if cb < 2*answer || cb > took+fsync {
		t.Fatalf("CommitCallback %v, want at least %v", cb, 2*answer)
	}
}
