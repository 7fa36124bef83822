package connector_test

import (
	"testing"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// sinkhole keeps nothing and reports nothing: the benchmark pushes one
// message many times, so it must never be released.
type sinkhole struct{ connector.BuiltinDriver }

func (sinkhole) Send([]*msg.Message, int64) {}

// BenchmarkSubmit is the producer side alone: Submit onto the queue (a
// manual step empties it when it fills, off the clock).
func BenchmarkSubmit(b *testing.B) {
	rt, err := connector.New(connector.Options{Name: "x", Queue: 1 << 16, Manual: true}, sinkhole{})
	if err != nil {
		b.Fatal(err)
	}
	if err := rt.Start(&recSink{}); err != nil {
		b.Fatal(err)
	}
	m := msg.NewMessage()
	b.ReportAllocs()
	for b.Loop() {
		if !rt.Submit(m) {
			b.StopTimer()
			for !rt.Submit(m) {
				rt.Step(0)
			}
			b.StartTimer()
		}
	}
}
