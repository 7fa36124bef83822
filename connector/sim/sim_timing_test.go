package sim

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
)

// benchSim starts a simulator on the real clock with a no-op sink and a
// short receipt delay, so pending receipts stay few whatever b.N is.
func benchSim(b *testing.B, opts Options) *Connector {
	b.Helper()
	if opts.ReceiptDelay == 0 {
		opts.ReceiptDelay = time.Millisecond
	}
	c, err := New("sim", opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(nopSink{}); err != nil {
		b.Fatal(err)
	}
	return c
}

// stopBench waits until the worker has accepted n messages, then stops it,
// so the timing covers the whole Submit → Accepted path.
func stopBench(b *testing.B, c *Connector, n uint64) {
	b.Helper()
	for c.Stats().Accepted < n {
		runtime.Gosched()
	}
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSubmit is one producer feeding the running worker: Submit →
// Accepted → Receipt, the message recycled through msg's pool.
func BenchmarkSubmit(b *testing.B) {
	c := benchSim(b, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m := msg.NewMessage()
		fill(m, msg.ID(i), "12345")
		for !c.Submit(m) {
			runtime.Gosched()
		}
	}
	stopBench(b, c, uint64(b.N))
}

// BenchmarkSubmitParallel is GOMAXPROCS producers feeding one worker.
func BenchmarkSubmitParallel(b *testing.B) {
	c := benchSim(b, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var i msg.ID
		for pb.Next() {
			i++
			m := msg.NewMessage()
			fill(m, i, "12345")
			for !c.Submit(m) {
				runtime.Gosched()
			}
		}
	})
	stopBench(b, c, uint64(b.N))
}

// BenchmarkSubmitFeatures adds latency, an outcome mix, intermediate
// receipts and an MO echo for a quarter of the messages.
func BenchmarkSubmitFeatures(b *testing.B) {
	c := benchSim(b, Options{
		Latency:      time.Millisecond,
		Outcomes:     [NumOutcomes]int{Delivered: 80, Undeliverable: 10, Expired: 5, Rejected: 5},
		Intermediate: true, MOEchoPrefixes: []string{"999"},
	})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m := msg.NewMessage()
		dst := "12345"
		if i%4 == 0 {
			dst = "99912"
		}
		fill(m, msg.ID(i), dst)
		for !c.Submit(m) {
			runtime.Gosched()
		}
	}
	stopBench(b, c, uint64(b.N))
}

// BenchmarkWorkerStep is the worker's cost alone: Submit then one step on
// the calling goroutine, no wake-ups, receipts 1000 messages later.
func BenchmarkWorkerStep(b *testing.B) {
	now := t0
	c, err := New("sim", Options{ReceiptDelay: 1000, Clock: func() int64 { return now }, Manual: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(nopSink{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m := msg.NewMessage()
		fill(m, msg.ID(i), "12345")
		c.Submit(m)
		now++
		c.Step(now)
	}
}

// BenchmarkWorkerBatch is the worker's cost a message as the event loops
// hand messages over at window 100 without receipts: a turn's 100 pushed
// with one reservation, then one step on the calling goroutine, the demo's
// MO echo prefix set (no message matches it). The sink does nothing, so
// this is the Runtime's and the simulator's own share.
func BenchmarkWorkerBatch(b *testing.B) {
	const turn = 100
	now := t0
	c, err := New("sim", Options{ReceiptDelay: 1000, MOEchoPrefixes: []string{"999"},
		Clock: func() int64 { return now }, Manual: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(nopSink{}); err != nil {
		b.Fatal(err)
	}
	ms := make([]*msg.Message, 0, turn)
	var id msg.ID
	b.ReportAllocs()
	for b.Loop() {
		id++
		m := msg.NewMessage()
		fill(m, id, "12345")
		m.RegisteredDelivery = 0
		if ms = append(ms, m); len(ms) == turn {
			if c.SubmitQuietBatch(ms) != turn {
				b.Fatal("queue full")
			}
			clear(ms)
			ms = ms[:0]
			now++
			c.Step(now)
		}
	}
}

// BenchmarkChannelBaseline is the obvious alternative: a buffered channel
// to a goroutine that releases each message.
func BenchmarkChannelBaseline(b *testing.B) {
	ch := make(chan *msg.Message, 65536)
	done := make(chan struct{})
	go func() {
		for m := range ch {
			m.Release()
		}
		close(done)
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m := msg.NewMessage()
		fill(m, msg.ID(i), "12345")
		ch <- m
	}
	close(ch)
	<-done
}
