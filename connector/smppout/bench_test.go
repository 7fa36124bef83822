package smppout

import (
	"context"
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/msg"
)

// benchIDs is an allocation-free IDMap for benchmarks: a fixed table where
// a newer id may overwrite an older one (ids are looked up soon after).
type benchIDs struct {
	seed maphash.Seed
	mu   sync.Mutex
	key  [1 << 14][keyLen]byte
	klen [1 << 14]uint8
	id   [1 << 14]msg.ID
}

func newBenchIDs() *benchIDs { return &benchIDs{seed: maphash.MakeSeed()} }

func (b *benchIDs) slot(conn int, up []byte) int {
	return int(maphash.Bytes(b.seed, up)+uint64(conn)) & (len(b.id) - 1)
}

func (b *benchIDs) PutUpstream(conn int, up []byte, id msg.ID) error {
	i := b.slot(conn, up)
	b.mu.Lock()
	b.klen[i] = uint8(copy(b.key[i][:], up))
	b.id[i] = id
	b.mu.Unlock()
	return nil
}

func (b *benchIDs) Upstream(conn int, up []byte) (msg.ID, bool) {
	i := b.slot(conn, up)
	b.mu.Lock()
	defer b.mu.Unlock()
	if string(b.key[i][:b.klen[i]]) != string(up) {
		return 0, false
	}
	return b.id[i], true
}

// countSink counts outcomes without allocating.
type countSink struct {
	accepted, failed, receipts, mo atomic.Int64
}

func (s *countSink) Accepted(*msg.Message, []byte)          { s.accepted.Add(1) }
func (s *countSink) Failed(*msg.Message, uint32, msg.State) { s.failed.Add(1) }
func (s *countSink) Receipt(*msg.Receipt) error             { s.receipts.Add(1); return nil }
func (s *countSink) MO(*msg.Inbound) error                  { s.mo.Add(1); return nil }
func (s *countSink) Sync() error                            { return nil }

// pipeline is a connector against an in-process SMSC, driven message by
// message.
type pipeline struct {
	srv      *smsctest.Server
	c        *Connector
	sink     *countSink
	next     msg.ID
	receipts bool
}

func newPipeline(tb testing.TB, act smsctest.Action, o Options) *pipeline {
	tb.Helper()
	srv, err := smsctest.Start(smsctest.Options{Default: act, IDFormat: smsctest.IDHexUpper})
	if err != nil {
		tb.Fatal(err)
	}
	o.Name, o.ID, o.Host, o.Port, o.IDMap = "bench", 1, srv.Host(), srv.Port(), newBenchIDs()
	c, err := New(o)
	if err != nil {
		tb.Fatal(err)
	}
	p := &pipeline{srv: srv, c: c, sink: &countSink{}, receipts: act.Receipt.Send}
	if err := c.Start(p.sink); err != nil {
		tb.Fatal(err)
	}
	eventually(tb, "bound", c.Up)
	return p
}

func (p *pipeline) close() {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_ = p.c.Stop(ctx)
	_ = p.srv.Close()
}

// make builds n messages (recycled from the message pool when it has them).
func (p *pipeline) make(dst []*msg.Message, n int) []*msg.Message {
	for i := 0; i < n; i++ {
		p.next++
		m := msg.NewMessage()
		m.ID = p.next
		m.SourceTON, m.SourceNPI, m.DestTON, m.DestNPI = 1, 1, 1, 1
		m.Source = append(m.Source[:0], "491700"...)
		m.Dest = append(m.Dest[:0], "491712345678"...)
		m.ShortMessage = append(m.ShortMessage[:0], "benchmark message text"...)
		m.RegisteredDelivery = 1
		dst = append(dst, m)
	}
	return dst
}

// push submits ms, spinning while the ring is full.
func (p *pipeline) push(ms []*msg.Message) {
	for i, m := range ms {
		for !p.c.Submit(m) {
			runtime.Gosched()
		}
		ms[i] = nil
	}
}

// wait waits until n more messages than before were accepted (and, with
// receipts, reported).
func (p *pipeline) wait(tb testing.TB, acc0, rc0 int64, n int) {
	deadline := time.Now().Add(waitLimit)
	for p.sink.accepted.Load() < acc0+int64(n) || (p.receipts && p.sink.receipts.Load() < rc0+int64(n)) {
		if time.Now().After(deadline) {
			tb.Fatalf("stuck: accepted %d/%d, receipts %d, failed %d", p.sink.accepted.Load()-acc0, n, p.sink.receipts.Load()-rc0, p.sink.failed.Load())
		}
		time.Sleep(20 * time.Microsecond)
	}
	if f := p.sink.failed.Load(); f != 0 {
		tb.Fatalf("%d messages failed", f)
	}
}

// run pushes n messages and waits for them.
func (p *pipeline) run(tb testing.TB, n int) {
	acc0, rc0 := p.sink.accepted.Load(), p.sink.receipts.Load()
	p.push(p.make(nil, n))
	p.wait(tb, acc0, rc0, n)
}

// BenchmarkPipeline measures the whole per-message path in one process:
// Submit, dispatcher, worker (claim, encode, window, write), the SMSC's
// answer, the reader (decode, IDMap, Sink.Accepted, release). Allocations
// count both sides.
func BenchmarkPipeline(b *testing.B) {
	benchPipeline(b, smsctest.Action{})
}

// BenchmarkPipelineReceipts adds a receipt per message (parse, lookup,
// Sink.Receipt).
func BenchmarkPipelineReceipts(b *testing.B) {
	benchPipeline(b, smsctest.Action{Receipt: smsctest.Receipt{Send: true}})
}

func benchPipeline(b *testing.B, act smsctest.Action) {
	p := newPipeline(b, act, Options{Window: 64, Queue: 4096})
	defer p.close()
	p.run(b, 5000) // warm buffers and the message pool
	acc0, rc0 := p.sink.accepted.Load(), p.sink.receipts.Load()
	batch := make([]*msg.Message, 0, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		// Building the messages is the producer's work, not the
		// connector's: keep it (and message pool misses) out of the count.
		b.StopTimer()
		k := min(cap(batch), b.N-done)
		batch = p.make(batch[:0], k)
		b.StartTimer()
		p.push(batch)
		done += k
	}
	p.wait(b, acc0, rc0, b.N)
}
