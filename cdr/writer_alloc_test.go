//go:build !race

package cdr

import (
	"testing"

	"github.com/rs/zerolog"
)

// A warm writer step allocates nothing per line: 2,000 lines (more than
// one writeChunk, so a page-aligned write keeps a tail) read, encoded and
// written per step.
func TestWriterStepDoesNotAllocateWhenWarm(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Logger = zerolog.Nop() })
	for i := uint64(1); i <= 2000; i++ {
		e.put(i, "alice", "ACME", "4917012345678", "Your code is 4711")
	}
	burst := func() {
		for i := uint64(1); i <= 2000; i++ {
			e.final(i)
		}
		e.writerStep()
	}
	burst() // the file, the batch and the output buffer grow once
	burst()
	if n := testing.AllocsPerRun(5, burst); n != 0 {
		t.Fatalf("a step of 2,000 lines allocates %v times", n)
	}
	if w := e.s.Stats().Written; w != 2000*8 {
		t.Fatalf("%d lines written, want %d", w, 2000*8)
	}
}
