//go:build !race

package connector_test

import (
	"testing"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// The producer side allocates nothing: Submit and SubmitQuiet onto a
// queue with room, and a refusal on a full one.
func TestSubmitAllocations(t *testing.T) {
	rt := newInstant(t, connector.Options{Name: "x", Queue: 1 << 14, Manual: true, Caps: connector.Caps{Helped: true}}, true, 0)
	if err := rt.Start(&recSink{}); err != nil {
		t.Fatal(err)
	}
	m := msg.NewMessage()
	defer m.Release()
	if a := testing.AllocsPerRun(5000, func() {
		if !rt.Submit(m) || !rt.SubmitQuiet(m) {
			t.Fatal("Submit refused")
		}
		rt.Help()
	}); a != 0 {
		t.Errorf("Submit: %v allocs, want 0", a)
	}
	for rt.Submit(m) {
	}
	if a := testing.AllocsPerRun(1000, func() {
		if rt.Submit(m) || !rt.QueueFull() {
			t.Fatal("a full queue took a message")
		}
	}); a != 0 {
		t.Errorf("Submit on a full queue: %v allocs, want 0", a)
	}
}

// A batch onto a queue with room, and the step that takes it, allocate
// nothing.
func TestSubmitQuietBatchAllocations(t *testing.T) {
	rt := newInstant(t, connector.Options{Name: "x", Queue: 1 << 10, Manual: true, Caps: connector.Caps{Helped: true}}, false, 0)
	if err := rt.Start(&recSink{}); err != nil {
		t.Fatal(err)
	}
	ms := make([]*msg.Message, 64)
	if a := testing.AllocsPerRun(1000, func() {
		for i := range ms {
			ms[i] = msg.NewMessage() // the step's acceptance releases each
		}
		if rt.Free() < len(ms) || rt.SubmitQuietBatch(ms) != len(ms) {
			t.Fatal("SubmitQuietBatch refused")
		}
		for rt.Free() < rt.Cap() {
			rt.Step(0)
		}
	}); a != 0 {
		t.Errorf("SubmitQuietBatch: %v allocs, want 0", a)
	}
}
