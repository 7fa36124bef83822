package msg

import (
	"sync"
	"testing"
	"unsafe"
)

// A Message fits the heap's 384-octet size class, whose objects start on a
// cache line: six lines per message, each written by every submit's fill
// and Reset. One more field beyond it makes the class 416 octets, objects
// straddling seven lines.
func TestMessageFitsSixCacheLines(t *testing.T) {
	if n := unsafe.Sizeof(Message{}); n > 384 {
		t.Fatalf("msg.Message is %d octets: over 384, its size class spans seven cache lines (pack the small fields together)", n)
	}
}

// A released message comes back cleared, its buffers kept; messages taken
// and released from many goroutines at once are never handed out twice
// (run with -race too, where only messagePool is used).
func TestReleasedMessagesComeBackCleared(t *testing.T) {
	m := NewMessage()
	m.ID, m.Connector = 42, 3
	m.ShortMessage = append(m.ShortMessage[:0], "hello"...)
	m.Release()
	for range 2 * pStackLen {
		n := NewMessage()
		if n.ID != 0 || n.Connector != 0 || len(n.ShortMessage) != 0 || n.Phase() != PhaseQueued {
			t.Fatalf("a taken message is not cleared: %+v", n)
		}
		defer n.Release()
	}

	var mu sync.Mutex
	inUse := map[*Message]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var batch [64]*Message
			for range 200 {
				for i := range batch {
					batch[i] = NewMessage()
				}
				mu.Lock()
				for _, x := range batch {
					if inUse[x] {
						mu.Unlock()
						t.Error("one message handed out twice")
						return
					}
					inUse[x] = true
				}
				for _, x := range batch {
					delete(inUse, x)
				}
				mu.Unlock()
				for _, x := range batch {
					x.Release()
				}
			}
		})
	}
	wg.Wait()
}

func TestMessageCycleDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops a share of what it is given under the race detector")
	}
	var batch [64]*Message
	cycle := func() {
		for i := range batch {
			batch[i] = NewMessage()
		}
		for _, x := range batch {
			x.Release()
		}
	}
	cycle()
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Fatalf("a batch of 64 taken and released allocates %.1f times", n)
	}
}

// BenchmarkMessageCycle is a loop's use: a read batch of 64 messages taken,
// then released after their connector took them; per op one message.
func BenchmarkMessageCycle(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		var batch [64]*Message
		for {
			for i := range batch {
				batch[i] = NewMessage()
			}
			for _, x := range batch {
				x.Release()
			}
			for range batch {
				if !pb.Next() {
					return
				}
			}
		}
	})
}
