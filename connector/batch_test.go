package connector_test

import (
	"context"
	"testing"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

func newMsgs(n int) []*msg.Message {
	ms := make([]*msg.Message, n)
	for i := range ms {
		ms[i] = msg.NewMessage()
		ms[i].ID = msg.ID(i + 1)
	}
	return ms
}

// A batch takes what the queue has room for, a prefix, in order; the rest
// is counted full and stays the caller's. Free follows the queue and the
// gate.
func TestSubmitQuietBatch(t *testing.T) {
	rt := newInstant(t, connector.Options{Name: "x", Queue: 8, Manual: true, Caps: connector.Caps{Helped: true}}, false, 0)
	if got := rt.Free(); got != 0 {
		t.Fatalf("Free before Start = %d, want 0 (gate closed)", got)
	}
	if n := rt.SubmitQuietBatch(newMsgs(2)); n != 0 {
		t.Fatalf("a closed gate took %d", n)
	}
	s := &countSink{}
	if err := rt.Start(s); err != nil {
		t.Fatal(err)
	}
	if got := rt.Free(); got != 8 {
		t.Fatalf("Free = %d, want 8", got)
	}
	ms := newMsgs(10)
	if n := rt.SubmitQuietBatch(ms[:3]); n != 3 {
		t.Fatalf("took %d of 3", n)
	}
	if got := rt.Free(); got != 5 {
		t.Fatalf("Free = %d, want 5", got)
	}
	if n := rt.SubmitQuietBatch(ms[3:]); n != 5 {
		t.Fatalf("took %d of 7 with 5 free", n)
	}
	if st := rt.Stats(); st.Full != 2 || st.Queued != 8 {
		t.Fatalf("Full %d Queued %d, want 2 and 8", st.Full, st.Queued)
	}
	if rt.Free() != 0 || !rt.QueueFull() {
		t.Fatal("a full queue reports room")
	}
	rt.Step(0)
	if got := s.count(); got != 8 {
		t.Fatalf("%d accepted, want 8", got)
	}
	if got := rt.Free(); got != 8 {
		t.Fatalf("Free after the step = %d, want 8", got)
	}
	for _, m := range ms[8:] {
		m.Release()
	}
	if err := rt.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rt.Free() != 0 || rt.SubmitQuietBatch(newMsgs(1)) != 0 {
		t.Fatal("a stopped runtime takes messages")
	}
}

// AsBatcher finds the Runtime behind a Restartable, and nothing behind a
// connector that is not one.
func TestAsBatcher(t *testing.T) {
	rt := newInstant(t, connector.Options{Name: "x", Queue: 8, Manual: true}, false, 0)
	if connector.AsBatcher(rt) != connector.Batcher(rt) {
		t.Fatal("a Runtime is its own Batcher")
	}
	r := connector.NewRestartable("instant", rt, nil)
	if connector.AsBatcher(r) != connector.Batcher(rt) {
		t.Fatal("a Restartable's Batcher is not its instance's")
	}
	if connector.AsBatcher(plain{rt}) != nil {
		t.Fatal("a connector without the methods is a Batcher")
	}
}

// plain is a Connector that hides the Runtime's Batcher methods.
type plain struct{ connector.Connector }
