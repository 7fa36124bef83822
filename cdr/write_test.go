package cdr

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A write that leaves lines for the next ends on a writeChunk boundary of
// the file, keeps the rest (a line begun included) and counts only the
// lines whose end it wrote; the step that empties the queue writes the rest.
func TestWriteKeepsTailPastChunkBoundary(t *testing.T) {
	e := newEnv(t, nil)
	const lines = 3000 // 2.5 chunks are encoded before the write
	for i := uint64(1); i <= lines; i++ {
		e.put(i, "alice", "ACME", "4917012345678", "Your code is 4711")
		e.final(i)
	}
	e.s.mu.Lock()
	for len(e.s.out) < 2*writeChunk+writeChunk/2 { // a batch is 512 lines
		e.s.batch, e.s.bi = e.s.q.PopBatch(e.s.batch[:0]), 0
		for ; e.s.bi < len(e.s.batch); e.s.bi++ {
			e.s.out = e.s.encode(e.s.out, &e.s.batch[e.s.bi])
			e.s.outN++
		}
	}
	all := append([]byte(nil), e.s.out...)
	if !e.s.write(e.clk.nowNs(), false) {
		t.Fatal("write failed")
	}
	size, kept, counted := e.s.fs.size, len(e.s.out), e.s.written.Load()
	e.s.mu.Unlock()
	if size == 0 || size%writeChunk != 0 || size+int64(kept) != int64(len(all)) {
		t.Fatalf("wrote %d of %d bytes, kept %d: want a multiple of %d and the rest kept", size, len(all), kept, writeChunk)
	}
	if want := uint64(bytes.Count(all[:size], newline)); counted != want {
		t.Fatalf("counted %d lines written, %d end in the file", counted, want)
	}
	got, err := os.ReadFile(filepath.Join(e.dir, e.files()[0]))
	if err != nil || !bytes.Equal(got, all[:size]) {
		t.Fatalf("file holds %d bytes (%v), want the first %d encoded", len(got), err, size)
	}
	e.step()
	if n := len(e.lines()); n != lines || e.s.Stats().Written != lines {
		t.Fatalf("after the step: %d lines in the files, %d counted, want %d", n, e.s.Stats().Written, lines)
	}
}

// A drain of more than a chunk writes it as it passes writeChunk, so the
// output buffer keeps the capacity Open gave it (its growth was garbage
// the load never collects) and every line reaches the file.
func TestDrainKeepsTheOutputBuffer(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.QueueSize = 1 << 14 })
	const lines = 10000
	for i := uint64(1); i <= lines; i++ {
		e.put(i, "alice", "ACME", "4917012345678", "Your code is 4711")
		e.final(i)
	}
	c := cap(e.s.out)
	e.step()
	if cap(e.s.out) != c || c != writeChunk+outCap {
		t.Fatalf("output buffer capacity %d after the drain, %d before, want %d", cap(e.s.out), c, writeChunk+outCap)
	}
	if st := e.s.Stats(); st.Written != lines || st.Bytes <= 2*writeChunk {
		t.Fatalf("Stats = %+v, want %d lines in more than two chunks", st, lines)
	}
	if got := ids(e.lines()); len(got) != lines || got[0] != hexID(1) || got[lines-1] != hexID(lines) {
		t.Fatalf("%d lines in the files, want %d in order", len(got), lines)
	}
}
