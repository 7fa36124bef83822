package wal

import (
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"
)

// Appenders, waiters, Segments/Stats readers and compaction's Remove and
// ReadSegment at once, across segment rotations; then every accepted entry
// replays once, each appender's in its own order. Run under -race.
func TestConcurrentAppendersAndCompaction(t *testing.T) {
	o := opts(t, nil)
	o.SegmentSize, o.BufferSize = 16<<10, 16<<10
	l := mustOpen(t, o)
	const writers, each = 8, 1500
	var wg sync.WaitGroup
	accepted := make([][]Pos, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := make([]byte, 16)
			for i := 0; i < each; {
				binary.LittleEndian.PutUint32(p, uint32(g))
				binary.LittleEndian.PutUint32(p[4:], uint32(i))
				pos, err := l.Append(byte(g), p, i%3 == 0)
				if errors.Is(err, ErrBufferFull) {
					l.WaitCommitted(l.Written())
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if n := len(accepted[g]); n > 0 && pos <= accepted[g][n-1] {
					t.Errorf("writer %d: position %x after %x", g, pos, accepted[g][n-1])
					return
				}
				accepted[g] = append(accepted[g], pos)
				if i%50 == 0 {
					if err := l.WaitCommitted(uint64(pos)); err != nil {
						t.Error(err)
						return
					}
				}
				i++
			}
		}()
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(1)
	go func() { // the compactor: reads and removes closed segments
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = l.Stats()
			segs := l.Segments()
			if len(segs) > 3 && !segs[0].Active {
				if err := l.ReadSegment(segs[0].Seq, func(Pos, byte, []byte) error { return nil }); err != nil {
					t.Error(err)
					return
				}
				if err := l.Remove(segs[0].Seq); err != nil {
					t.Error(err)
					return
				}
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	wg.Wait()
	close(stop)
	bg.Wait()
	removedBelow := l.Segments()[0].Seq
	closeLog(t, l)

	l2, got, rs := replayAll(t, o)
	defer closeLog(t, l2)
	if rs.CorruptSegments != 0 || rs.TornBytes != 0 {
		t.Fatalf("%+v", rs)
	}
	next := make([]int, writers)
	for g := range writers {
		for next[g] < len(accepted[g]) && accepted[g][next[g]].Segment() < removedBelow {
			next[g]++
		}
	}
	var prev Pos
	for _, e := range got {
		if e.pos <= prev {
			t.Fatalf("replay positions not increasing: %x after %x", e.pos, prev)
		}
		prev = e.pos
		g := int(binary.LittleEndian.Uint32(e.payload))
		i := int(binary.LittleEndian.Uint32(e.payload[4:]))
		if g >= writers || e.kind != byte(g) || next[g] >= len(accepted[g]) || accepted[g][next[g]] != e.pos || i != next[g] {
			t.Fatalf("entry %x: writer %d #%d, want #%d", e.pos, g, i, next[g])
		}
		next[g]++
	}
	for g := range writers {
		if next[g] != each {
			t.Fatalf("writer %d: %d of %d replayed", g, next[g], each)
		}
	}
}

// TestAppendDoesNotAllocate gates Append and AppendLazy, each on a log of
// its own.
func TestAppendDoesNotAllocate(t *testing.T) {
	for _, c := range []struct {
		name   string
		append func(*Log, byte, []byte, bool) (Pos, error)
	}{{"Append", (*Log).Append}, {"AppendLazy", (*Log).AppendLazy}} {
		t.Run(c.name, func(t *testing.T) {
			o := opts(t, nil)
			o.Sync = SyncNever
			l := mustOpen(t, o)
			defer closeLog(t, l)
			p := make([]byte, 300)
			allocs := testing.AllocsPerRun(2000, func() {
				if _, err := c.append(l, 1, p, false); err != nil && !errors.Is(err, ErrBufferFull) {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Fatalf("%s allocates %.1f times per call", c.name, allocs)
			}
		})
	}
}

// SyncInterval fsyncs at most once per interval under steady appends, and
// catches up a quiet log within about one interval.
func TestSyncIntervalBounds(t *testing.T) {
	o := opts(t, nil)
	o.Sync, o.SyncInterval = SyncInterval, 25*time.Millisecond
	l := mustOpen(t, o)
	defer closeLog(t, l)
	// Appends go on for at least 200 ms and until two fsyncs happened: on a
	// starved machine the writer may not run for a while, which makes fewer
	// fsyncs, never more, so only the upper bound is a property of the log.
	start := time.Now()
	for time.Since(start) < 200*time.Millisecond || l.Stats().Fsyncs < 2 {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("%d fsyncs in 20 s of appends at a %s interval", l.Stats().Fsyncs, o.SyncInterval)
		}
		if _, err := l.Append(1, make([]byte, 50), false); err != nil && !errors.Is(err, ErrBufferFull) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Microsecond)
	}
	st := l.Stats()
	elapsed := time.Since(start)
	if max := uint64(elapsed/o.SyncInterval) + 1; st.Fsyncs > max {
		t.Fatalf("%d fsyncs in %s at a %s interval", st.Fsyncs, elapsed, o.SyncInterval)
	}
	if l.Committed() != l.Written() {
		eventually(t, "the last group written", func() bool { return l.Committed() == l.Written() })
	}
	eventually(t, "the quiet log synced", func() bool { return l.Synced() == l.Written() })
}
