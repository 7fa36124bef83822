package jetstream

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// lockedBuffer is a log sink safe for the store's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A start whose replay a compaction overtakes (the new base written and
// the batches before its cut purged after the replay read the older base)
// replays again from the new base (event=journal_rebased) and ends with
// the index a full replay gives: every record in its state, each once.
// The compaction runs when node 2's replay has caught up, before it looks
// for a newer base (replayCaughtUp), so the overtaking happens every run.
func TestStartOvertakenByCompaction(t *testing.T) {
	dir := t.TempDir()
	open := func(node int, lg zerolog.Logger) *Store {
		js, nc := testJS(t, dir)
		s, err := Open(Options{JS: js, Stream: testStream, Subject: fmt.Sprint("smppd.journal.", node), Node: node,
			Dir: fmt.Sprint(dir, "/n", node), TTL: time.Hour, Logger: lg})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(); nc.Close() })
		return s
	}
	a := open(1, zerolog.Nop())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ids []msg.ID
	write := func(n int) {
		t.Helper()
		for range n {
			id := msg.ID(uint64(len(ids)+1)<<12 | 1)
			r := storage.Record{ID: id, SystemID: "alice", State: msg.StateEnroute, Submitted: time.Now().UnixNano()}
			if err := a.PutMessage(&r, []byte("body")); err != nil {
				t.Fatal(err)
			}
			if len(ids)%2 == 0 {
				if err := a.SetState(id, msg.StateDelivered, 0, time.Now().UnixNano()); err != nil {
					t.Fatal(err)
				}
			}
			ids = append(ids, id)
		}
		if err := a.Committer().WaitCommitted(a.Committer().Written()); err != nil {
			t.Fatal(err)
		}
	}
	write(200)
	if _, err := a.Compact(ctx, a.Applied()); err != nil { // node 2 starts from this base
		t.Fatal(err)
	}
	write(200)

	var overtaken atomic.Int32
	replayCaughtUp = func() {
		if overtaken.Add(1) == 1 {
			if _, err := a.Compact(ctx, a.Applied()); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(func() { replayCaughtUp = nil })
	var logs lockedBuffer
	b := open(2, zerolog.New(&logs))
	replayCaughtUp = nil
	if n := strings.Count(logs.String(), `"event":"journal_rebased"`); n != 1 || overtaken.Load() != 2 {
		t.Fatalf("node 2's start: %d journal_rebased lines, %d replays caught up; want 1 and 2\n%s", n, overtaken.Load(), logs.String())
	}
	for i, id := range ids {
		want := msg.StateEnroute
		if i%2 == 0 {
			want = msg.StateDelivered
		}
		var r storage.Record
		if err := b.Get(id, &r); err != nil || r.State != want {
			t.Fatalf("node 2 after the rebased start: record %d of %d: %v %v, want %v", i, len(ids), r.State, err, want)
		}
	}
	if got := b.Len(); got != len(ids) {
		t.Fatalf("node 2 holds %d records, node 1 wrote %d", got, len(ids))
	}
}
