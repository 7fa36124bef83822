package wal

import (
	"errors"
	"testing"
	"time"
)

// With SyncInterval the groups of one interval are written back to back;
// the writer fsyncs early rather than leave more than unsyncedCap (two
// buffers) of a segment unsynced, the bound replay's torn-tail cut and
// staleTail rely on. Before, a long interval (sync_interval goes to 1 s:
// hundreds of MiB at full rate) left all of it unsynced, and a host crash
// could leave this run's frames past the bound, where replay takes
// everything for the file's previous life or damage.
func TestSyncIntervalCapsUnsynced(t *testing.T) {
	o := opts(t, nil)
	o.Sync, o.SyncInterval, o.BufferSize = SyncInterval, time.Hour, MinBufferSize
	l := mustOpen(t, o)
	defer closeLog(t, l)
	capBytes := 2 * int64(MinBufferSize)
	// Committed first, then Synced: Synced read later is no older than at
	// that commit, so the gap is not overstated.
	gap := func() int64 {
		c := Pos(l.Committed())
		s := Pos(l.Synced())
		if c.Segment() != s.Segment() {
			return 0 // a rotation fsyncs the segment it leaves
		}
		return c.Offset() - s.Offset()
	}
	p := make([]byte, 1000)
	var last Pos
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < 200; { // 200 KB: 50 buffers
		pos, err := l.Append(1, p, false)
		if errors.Is(err, ErrBufferFull) {
			if time.Now().After(deadline) {
				t.Fatal("the writer took nothing for 30 s")
			}
			time.Sleep(100 * time.Microsecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		last, i = pos, i+1
		if g := gap(); g > capBytes {
			t.Fatalf("after %d entries %d bytes committed and not fsynced, past the cap of %d", i, g, capBytes)
		}
	}
	eventually(t, "every entry committed", func() bool { return l.Committed() == uint64(last) })
	if g := gap(); g > capBytes {
		t.Fatalf("at the end %d bytes committed and not fsynced, past the cap of %d", g, capBytes)
	}
	if st := l.Stats(); st.Fsyncs == 0 {
		t.Fatalf("no fsync for 200 KB at a 1 h interval: %+v", st)
	}
}
