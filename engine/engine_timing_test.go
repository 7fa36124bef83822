package engine

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/panjf2000/gnet/v2"
)

// The two ways to get work onto a loop from another goroutine, side by side
// (docs/ARCHITECTURE.md "Ticks and wake-ups" quotes the numbers): our inbox
// ring plus doorbell, and gnet's EventLoop.Execute. Both are measured from
// the producer's side with the loop consuming concurrently.

func BenchmarkPostInboxDoorbell(b *testing.B) {
	ts := start(b, nil)
	l := (*ts.loops.Load())[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var ev event // kind 0: the loop pops and ignores it
		for !l.post(&ev) {
		}
	}
}

func BenchmarkEventLoopExecute(b *testing.B) {
	ts := start(b, nil)
	l := (*ts.loops.Load())[0]
	var n atomic.Int64
	run := gnet.RunnableFunc(func(context.Context) error { n.Add(1); return nil })
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = l.el.Execute(ctx, run)
	}
}
