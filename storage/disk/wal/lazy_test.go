package wal

import (
	"testing"
)

// A lazy entry alone is written and fsynced once its deadline comes.
func TestLazyAloneSyncedByDeadline(t *testing.T) {
	o := opts(t, nil)
	l := mustOpen(t, o)
	defer closeLog(t, l)
	pos, err := l.AppendLazy(1, payloadFor(1, 40), false)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the lazy entry synced", func() bool { return l.Synced() >= uint64(pos) })
	if st := l.Stats(); st.LazyAlone != 1 || st.LazyRode != 0 || st.Appends != 1 {
		t.Fatalf("alone %d, rode %d, appends %d; want 1, 0, 1", st.LazyAlone, st.LazyRode, st.Appends)
	}
	// No Append started that group: it is a group commit, but not one
	// GroupWait's mean may count.
	if st := l.Stats(); st.Groups != 1 || st.GroupsWoken != 0 || st.GroupWait != 0 {
		t.Fatalf("%d groups, %d woken, waited %v; want 1, 0, 0", st.Groups, st.GroupsWoken, st.GroupWait)
	}
}

// gatedLog returns a SyncAlways log whose writer is held in the fsync of a
// first Append, and the gate that lets that fsync finish.
func gatedLog(t *testing.T) (*Log, chan struct{}, Pos) {
	t.Helper()
	fs := &faultFS{}
	o := opts(t, nil)
	o.FS = fs
	l := mustOpen(t, o)
	gate := make(chan struct{})
	fs.set(func(f *faultFS) { f.syncGate = gate })
	first := appendIntoFsync(t, l, fs)
	fs.set(func(f *faultFS) { f.syncGate = nil })
	return l, gate, first
}

// A lazy entry appended while the writer is busy goes with the next
// Append's group: one write and one fsync for both.
func TestLazyRidesWithNextAppend(t *testing.T) {
	l, gate, _ := gatedLog(t)
	defer closeLog(t, l)
	lazy, err := l.AppendLazy(2, payloadFor(1, 40), true)
	if err != nil {
		t.Fatal(err)
	}
	last, err := l.Append(1, payloadFor(2, 40), false)
	if err != nil {
		t.Fatal(err)
	}
	gate <- struct{}{}
	eventually(t, "both synced", func() bool { return l.Synced() >= uint64(last) })
	st := l.Stats()
	if lazy >= last || st.Fsyncs != 2 || st.Groups != 2 || st.GroupLast != 2 {
		t.Fatalf("lazy at %x, last at %x: %d fsyncs, %d groups, last of %d entries; want 2, 2, 2",
			lazy, last, st.Fsyncs, st.Groups, st.GroupLast)
	}
	if st.LazyRode != 1 || st.LazyAlone != 0 {
		t.Fatalf("rode %d, alone %d; want 1, 0", st.LazyRode, st.LazyAlone)
	}
}

// Lazy entries a busy writer finds alone wait for their deadline, not for
// an Append that may never come.
func TestLazyFoundAloneByBusyWriter(t *testing.T) {
	l, gate, first := gatedLog(t)
	defer closeLog(t, l)
	lazy, err := l.AppendLazy(2, payloadFor(1, 40), false)
	if err != nil {
		t.Fatal(err)
	}
	if w, a := l.Written(), l.Appended(); w != uint64(first) || a != uint64(lazy) {
		t.Fatalf("Written %x, Appended %x after a lazy entry at %x; want the last Append's %x and %x", w, a, lazy, first, lazy)
	}
	gate <- struct{}{}
	eventually(t, "the first entry committed", func() bool { return l.Committed() >= uint64(first) })
	eventually(t, "the lazy entry synced", func() bool { return l.Synced() >= uint64(lazy) })
	if st := l.Stats(); st.Fsyncs != 2 || st.LazyAlone != 1 || st.LazyRode != 0 {
		t.Fatalf("%d fsyncs, alone %d, rode %d; want 2, 1, 0", st.Fsyncs, st.LazyAlone, st.LazyRode)
	}
	if st := l.Stats(); st.Groups != 2 || st.GroupsWoken != 1 {
		t.Fatalf("%d groups, %d of them started by an Append; want 2, 1", st.Groups, st.GroupsWoken)
	}
}

// Whoever waits on a lazy entry gets it: WaitCommitted, Sync, Close.
func TestLazyWaitedOn(t *testing.T) {
	o := opts(t, nil)
	l := mustOpen(t, o)
	a, err := l.AppendLazy(1, payloadFor(1, 40), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WaitCommitted(uint64(a)); err != nil || l.Committed() < uint64(a) {
		t.Fatalf("WaitCommitted: %v, committed %x < %x", err, l.Committed(), a)
	}
	b, err := l.AppendLazy(1, payloadFor(2, 40), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(); err != nil || l.Synced() < uint64(b) {
		t.Fatalf("Sync: %v, synced %x < %x", err, l.Synced(), b)
	}
	c, err := l.AppendLazy(1, payloadFor(3, 40), false)
	if err != nil {
		t.Fatal(err)
	}
	closeLog(t, l)
	l, got, _ := replayAll(t, o)
	defer closeLog(t, l)
	if len(got) != 3 || got[0].pos != a || got[1].pos != b || got[2].pos != c {
		t.Fatalf("replayed %d entries, want the 3 lazy ones in order", len(got))
	}
	for i, e := range got {
		if string(e.payload) != string(payloadFor(i+1, 40)) {
			t.Fatalf("entry %d: wrong payload", i)
		}
	}
}

// appendIntoFsync appends a first request entry to l and returns its
// position once the writer has begun that group's fsync (fs counts it).
func appendIntoFsync(t *testing.T, l *Log, fs *faultFS) Pos {
	t.Helper()
	_, syncs0, _ := fs.count()
	first, err := l.Append(1, payloadFor(0, 40), false)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the writer in its fsync", func() bool { _, s, _ := fs.count(); return s > syncs0 })
	return first
}
