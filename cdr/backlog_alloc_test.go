//go:build !race

package cdr

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
)

// Raising the flag (the push that passes the mark) allocates nothing
// but its log line (once per episode, throttled; zerolog pools its
// events, which a GC may empty, so the logger is off here).
func TestBacklogRaiseDoesNotAllocate(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.QueueSize = 1024; o.Logger = zerolog.Nop() })
	f := msg.Final{ID: 1, State: msg.StateDelivered, Done: 1}
	for range 510 {
		e.s.Final(f)
	}
	if e.s.Backlog().Load() {
		t.Fatal("raised below the mark")
	}
	// AllocsPerRun's warm-up run pushes the 511th, its measured run the
	// 512th, which raises the flag.
	if n := testing.AllocsPerRun(1, func() { e.s.Final(f) }); n != 0 || !e.s.Backlog().Load() {
		t.Fatalf("the raising Final allocates %v times (raised: %v)", n, e.s.Backlog().Load())
	}
}
