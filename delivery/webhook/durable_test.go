package webhook

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage/disk"
	"github.com/smppd/smppd/storage/disk/wal"
)

// TestRestartWhilePending: callbacks pending against a target that is
// down (some tried and waiting for a retry, some in flight, some never
// tried) survive a stop and a restart on the disk store: after the
// reopen every one of them arrives, each acknowledged once, and nothing
// is left held.
func TestRestartWhilePending(t *testing.T) {
	dir := t.TempDir()
	open := func() *disk.Store {
		st, err := disk.Open(disk.Options{Dir: dir, Sync: wal.SyncAlways, CompactEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	var down atomic.Bool
	down.Store(true)
	var mu sync.Mutex
	delivered := map[string]int{}
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_ = r.ParseForm()
		mu.Lock()
		delivered[r.PostForm.Get("n")]++
		mu.Unlock()
		_, _ = w.Write([]byte("ACK/Jasmin"))
	})
	const n = 200
	st := open()
	o := fastOptions(st)
	o.MaxPerTarget, o.RetryMin, o.RetryMax, o.HoldLifetime = 2, 30*time.Millisecond, 60*time.Millisecond, time.Hour
	s1, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r := req(rc.url("/dlr"), strconv.Itoa(i))
		r.AckBody = "ACK/Jasmin"
		r.ID = msg.ID(0x1000 + i)
		if err := s1.Enqueue(r); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "retries under way", func() bool { return s1.Stats().Receipts.Retried >= 10 })
	stop(s1)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	down.Store(false)
	st = open()
	if h := st.Holds().Len(); h != n {
		t.Fatalf("%d callbacks held after the reopen, want %d", h, n)
	}
	o = fastOptions(st)
	o.MaxPerTarget = 4
	f := start(t, st, o)
	eventually(t, 10*time.Second, "every callback delivered after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == n
	})
	eventually(t, 2*time.Second, "all acknowledged", func() bool { return st.Holds().Len() == 0 && f.s.Pending() == 0 })
	mu.Lock()
	for k, c := range delivered {
		if c != 1 {
			t.Errorf("callback %s delivered %d times", k, c)
		}
	}
	mu.Unlock()
	if got := f.s.Stats(); got.Restored != n || got.Receipts.Sent != n {
		t.Fatalf("stats after the restart %+v", got)
	}
	stop(f.s)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open() // acknowledged for good: nothing comes back
	if h := st.Holds().Len(); h != 0 {
		t.Fatalf("%d callbacks held after a second reopen, want 0", h)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}
