//go:build !race

package cdr

import (
	"testing"

	"github.com/smppd/smppd/msg"
)

// Raising the flag (the push that passes the mark) allocates nothing.
func TestBacklogRaiseDoesNotAllocate(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.QueueSize = 1024 })
	f := msg.Final{ID: 1, State: msg.StateDelivered, Done: 1}
	for range 510 {
		e.s.Final(f)
	}
	if e.s.Backlog().Load() {
		t.Fatal("raised below the mark")
	}
	e.logs.Grow(64 << 10) // the test's log buffer growing is not the stream's
	// AllocsPerRun's warm-up run pushes the 511th, its measured run the
	// 512th, which raises the flag (and logs).
	if n := testing.AllocsPerRun(1, func() { e.s.Final(f) }); n != 0 || !e.s.Backlog().Load() {
		t.Fatalf("the raising Final allocates %v times (raised: %v)", n, e.s.Backlog().Load())
	}
}
