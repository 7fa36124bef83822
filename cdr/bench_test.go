package cdr

import (
	"fmt"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
)

// BenchmarkFinal: the hub's cost of reporting one final state.
func BenchmarkFinal(b *testing.B) { benchFinal(b, "0718f3a2c4000001") }

// BenchmarkFinalUUID: Final with an upstream id the queue keeps as nibbles.
func BenchmarkFinalUUID(b *testing.B) { benchFinal(b, "f47ac10b-58cc-4372-a567-0e02b2c3d479") }

func benchFinal(b *testing.B, up string) {
	e := newEnv(b, func(o *Options) { o.QueueSize = 1 << 20 })
	f := msg.Final{ID: 1, State: msg.StateDelivered, Done: 1, UpstreamID: []byte(up)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i&(1<<19-1) == 0 { // keep the queue from filling: drain without timing
			b.StopTimer()
			e.s.batch, e.s.bi = e.s.batch[:0], 0
			for len(e.s.q.PopBatch(e.s.batch[:0])) > 0 {
			}
			b.StartTimer()
		}
		e.s.Final(f)
	}
}

// BenchmarkWriter: the writer's cost per line (read the record, encode,
// write), in batches as the goroutine takes them.
func BenchmarkWriter(b *testing.B) { benchWriter(b, 0) }

// BenchmarkWriterSynced: BenchmarkWriter with the clock advancing as at
// 500,000 lines a second, so the syncer's periodic fsync and page drop
// run beside the writer as in smppd at full rate (BenchmarkWriter's clock
// stands still: no sync, and its pages are never written back). Measure
// it by the process's CPU (bench/cpuab.sh): the syncer is not in ns/op.
func BenchmarkWriterSynced(b *testing.B) { benchWriter(b, 2*time.Microsecond) }

// benchWriter runs the writer over lines of 1,024 records, a writer step
// every 4,096 lines (the syncer's fsyncs run beside it, as in smppd), the
// clock advancing perLine for each line.
func benchWriter(b *testing.B, perLine time.Duration) {
	e := newEnv(b, func(o *Options) { o.QueueSize = 1 << 16 })
	for i := uint64(1); i <= 1024; i++ {
		e.put(i, "alice", "ACME", "4917012345678", "Your code is 4711")
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		e.final(uint64(n%1024 + 1))
		n++
		if n%4096 == 0 {
			if perLine > 0 {
				e.clk.advance(4096 * perLine)
			}
			e.writerStep()
		}
	}
	e.step()
}

// BenchmarkEncode: the writer's cost per line without the write(2): read
// the record, encode the line.
func BenchmarkEncode(b *testing.B) { benchEncode(b, 1) }

// BenchmarkEncodeUsers: the same with 16 users' lines interleaved, each
// user with its own source address (the encoder's segments see a mix).
func BenchmarkEncodeUsers(b *testing.B) { benchEncode(b, 16) }

// BenchmarkEncodeBusy: the same at the pace of a busy writer (500,000
// lines a second: a final time every 2 µs), the records with a validity
// (expires) as the demo's submits have.
func BenchmarkEncodeBusy(b *testing.B) { benchEncodeAt(b, 1, 2*time.Microsecond, 48*time.Hour) }

func benchEncode(b *testing.B, users int) { benchEncodeAt(b, users, time.Millisecond, 0) }

// benchEncodeAt encodes lines of 1,024 records, the final time advancing
// by step a line; validity > 0 gives the records an expiry time.
func benchEncodeAt(b *testing.B, users int, step, validity time.Duration) {
	e := newEnv(b, nil)
	for i := uint64(1); i <= 1024; i++ {
		u := int(i) % users
		r := e.put(i, fmt.Sprintf("acct%d", u), fmt.Sprintf("ACME%d", u), "4917012345678", "Your code is 4711")
		if validity > 0 {
			r.Expires = r.Submitted + int64(validity)
			if err := e.store.Put(&r); err != nil {
				b.Fatal(err)
			}
		}
	}
	ev := event{state: msg.StateDelivered, done: e.clk.nowNs()}
	ev.up.set([]byte("5F3A21"), e.s.sp)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.id = msg.ID(i%1024 + 1)
		ev.done += int64(step) // at 1 ms, a second's text changes every thousand lines
		e.s.line = e.s.encode(e.s.line[:0], &ev)
	}
}
