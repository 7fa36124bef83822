package engine

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// Responses before bind answer nothing we sent: they are dropped without an
// answer and, past MaxUnexpectedResponses in a row, the connection closes.
func TestUnexpectedResponsesBeforeBindClose(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) { o.MaxUnexpectedResponses = 4 })
	c := ts.dial(t)
	for i := range 5 {
		mustSend(t, c, codec.EnquireLinkRespID, uint32(i+1), nil)
	}
	// The close must come with no frame first: a response is never answered.
	if h, _, err := c.ReadFrame(wait); err == nil {
		t.Fatalf("answered a response with %v", h.CommandID)
	}
	ts.logs.waitLog(t, `"reason":"unexpected_responses"`, `"state":"open"`)
	if n := ts.Stats().UnexpectedResponses; n != 5 {
		t.Fatalf("UnexpectedResponses %d, want 5", n)
	}
}

// Up to the limit, unmatched responses are dropped silently and the session
// serves on; a matching response resets the run.
func TestUnexpectedResponsesRunResetByMatch(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) { o.MaxUnexpectedResponses = 3 })
	rx := ts.bound(t, codec.BindReceiverID)
	for i := range 3 {
		mustSend(t, rx, codec.DeliverSMRespID, uint32(900+i), []byte{0})
	}
	if err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "x"), Ref: 1}); err != nil {
		t.Fatal(err)
	}
	h, _ := mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)
	mustSend(t, rx, codec.DeliverSMRespID, h.Sequence, []byte{0}) // matched: the run starts again
	for i := range 3 {
		mustSend(t, rx, codec.GenericNackID, uint32(950+i), nil)
	}
	mustSend(t, rx, codec.EnquireLinkID, 7, nil)
	mustExpect(t, rx, codec.EnquireLinkRespID, codec.StatusOK)
	mustSend(t, rx, codec.DeliverSMRespID, 999, []byte{0}) // the 4th in a row
	mustClosed(t, rx)
}

// A peer that streams while its bind is being checked is closed once its
// unread input passes MaxInboundBuffer.
func TestBindingFloodClosed(t *testing.T) {
	t.Parallel()
	ts := start(t, gatedAuth) // the bind is never decided
	c := ts.dial(t)
	mustSend(t, c, codec.BindTransmitterID, 1, smpptest.BindBody("user", "secret", codec.InterfaceVersion34))
	frame := smpptest.Frame(codec.EnquireLinkID, 0, 2, nil)
	chunk := make([]byte, 0, 64<<10)
	for len(chunk)+len(frame) <= cap(chunk) {
		chunk = append(chunk, frame...)
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Conn.Write(chunk); err != nil && !writeTimedOut(err) {
			break // closed by the server
		}
	}
	ts.logs.waitLog(t, `"reason":"input_flood"`, `"state":"binding"`)
	if n := ts.Stats().InputFloods; n != 1 {
		t.Fatalf("InputFloods %d, want 1", n)
	}
	close(ts.auth.gate) // let the parked worker finish
}

// writeTimedOut reports a write deadline passing (the server is not reading
// yet), as opposed to the connection being closed.
func writeTimedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// A peer that has not bound and does not read its answers is closed once
// MaxOutboundUnbound bytes wait for it.
func TestOutboundUnboundCap(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) {
		o.MaxOutboundUnbound = 16 << 10
		o.BatchPDUs = 4096 // fill the kernel's buffers in few turns on a loaded machine
	})
	c := ts.dial(t)
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	floodUntilClosed(t, c, codec.EnquireLinkID)
	ts.logs.waitLog(t, `"reason":"slow_consumer"`, `"detail":"max_outbound_unbound"`, `"state":"open"`)
}

// Past MaxOutboundTotal, a session holding more than 64 KiB is closed even
// under its own MaxOutboundBacklog.
func TestOutboundTotalCap(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) {
		o.MaxOutboundBacklog = 64 << 20
		o.MaxOutboundTotal = 128 << 10
		o.BatchPDUs = 4096
	})
	c := ts.bound(t, codec.BindTransmitterID)
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	floodUntilClosed(t, c, codec.EnquireLinkID)
	ts.logs.waitLog(t, `"reason":"slow_consumer"`, `"detail":"max_outbound_total"`)
	eventually(t, "outbound total back to 0", func() bool { return ts.Stats().OutboundBytes == 0 })
}

// floodUntilClosed writes requests as fast as the socket takes them and
// never reads, until the server closes the connection (bounded by wait).
func floodUntilClosed(t *testing.T, c *smpptest.Client, id codec.CommandID) {
	t.Helper()
	frame := smpptest.Frame(id, 0, 1, nil)
	chunk := make([]byte, 0, 32<<10)
	for len(chunk)+len(frame) <= cap(chunk) {
		chunk = append(chunk, frame...)
	}
	deadline := time.Now().Add(6 * wait) // the kernel's socket buffers (MiBs on loopback) fill first
	for time.Now().Before(deadline) {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Conn.Write(chunk); err != nil && !writeTimedOut(err) {
			return
		}
	}
	t.Fatal("the server never closed a peer that does not read")
}

// A session held for a full queue whose peer keeps sending stops waiting
// once its unread input passes MaxInboundBuffer: the held submit is answered.
func TestQueueWaitEndsOnInputFlood(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) {
		o.QueueFullWait = time.Minute
		o.Submit = submitFunc(func(req *SubmitRequest, res *SubmitResult) {
			if req.MayWait {
				res.Wait = true
				return
			}
			res.Status = codec.StatusMsgQFul
		})
	})
	c := ts.bound(t, codec.BindTransmitterID)
	mustSend(t, c, codec.SubmitSMID, 1, smpptest.SubmitBody("1", "2", "held"))
	body := smpptest.SubmitBody("1", "2", "behind the held one, padding the input to pass the cap quickly")
	var burst []byte
	for i := range 4000 {
		burst = append(burst, smpptest.Frame(codec.SubmitSMID, 0, uint32(2+i), body)...)
	}
	go func() { _, _ = c.Conn.Write(burst) }()
	h, _ := mustExpect(t, c, codec.SubmitSMRespID, codec.StatusMsgQFul)
	if h.Sequence != 1 {
		t.Fatalf("first answer for seq %d, want the held 1", h.Sequence)
	}
	ts.logs.waitLog(t, `"event":"input_flood"`)
	if ts.Stats().InputFloods == 0 {
		t.Fatal("InputFloods not counted")
	}
}

// A receiver that answers none of its deliver_sm for SlowConsumerTimeout is
// closed as a slow consumer; what it had outstanding goes back to the
// owner and is counted as possibly seen twice.
func TestSlowConsumerTimeoutClosesStuckReceiver(t *testing.T) {
	t.Parallel()
	k := &sink{}
	ts := start(t, func(o *Options) {
		o.Deliveries = k
		o.SlowConsumerTimeout = 300 * time.Millisecond
		o.DeliverWindow = 4
	})
	rx := ts.bound(t, codec.BindReceiverID)
	for i := range 6 {
		if err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "x"), Ref: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	ts.logs.waitLog(t, `"reason":"slow_consumer"`, `"detail":"deliver_sm unanswered for slow_consumer_timeout"`)
	for i := range 6 {
		eventually(t, "outcome", func() bool { o, ok := k.get(uint64(i)); return ok && errors.Is(o.err, ErrSessionGone) })
	}
	st := ts.Stats()
	if st.DeliverUnanswered != 4 || st.SlowConsumers != 1 {
		t.Fatalf("DeliverUnanswered %d SlowConsumers %d, want 4 and 1", st.DeliverUnanswered, st.SlowConsumers)
	}
	_ = rx
}

// A receiver that answers keeps its session, however long it stays busy.
// It answers each deliver_sm after 50 ms, well inside the 1 s timeout, and
// stays busy for three timeouts: on a loaded machine a tighter timeout let
// scheduling delays alone close it.
func TestSlowConsumerTimeoutSparesAnsweringReceiver(t *testing.T) {
	t.Parallel()
	k := &sink{}
	ts := start(t, func(o *Options) {
		o.Deliveries = k
		o.SlowConsumerTimeout = time.Second
	})
	rx := ts.bound(t, codec.BindReceiverID)
	end := time.Now().Add(3 * time.Second)
	for ref := uint64(0); time.Now().Before(end); ref++ {
		if err := ts.Deliver("user", &Delivery{Body: smpptest.DeliverBody("1", "2", "x"), Ref: ref}); err != nil {
			t.Fatal(err)
		}
		h, _ := mustExpect(t, rx, codec.DeliverSMID, codec.StatusOK)
		time.Sleep(50 * time.Millisecond)
		mustSend(t, rx, codec.DeliverSMRespID, h.Sequence, []byte{0})
	}
	mustSend(t, rx, codec.EnquireLinkID, 1, nil)
	mustExpect(t, rx, codec.EnquireLinkRespID, codec.StatusOK)
	if n := ts.Stats().SlowConsumers; n != 0 {
		t.Fatalf("SlowConsumers %d, want 0", n)
	}
}

// A request whose body does not decode is refused with the codec's status
// and logged once with the field that failed; a flood of them is logged at
// most log_rate_limit times a second.
func TestUndecodableBodyLoggedWithField(t *testing.T) {
	t.Parallel()
	ts := start(t, func(o *Options) { o.LogLinesPerSecond = 2 })
	c := ts.bound(t, codec.BindTransmitterID)
	bad := []byte("svc\x00") // ends where source_addr_ton should be
	for i := range 10 {
		mustSend(t, c, codec.SubmitSMID, uint32(10+i), bad)
	}
	for range 10 {
		mustExpect(t, c, codec.SubmitSMRespID, codec.StatusInvCmdLen)
	}
	ts.logs.waitLog(t, `"event":"decode_error"`, `"field":"source_addr_ton"`, `"cmd":"submit_sm"`)
	if n := strings.Count(ts.logs.String(), `"event":"decode_error"`); n > 2 {
		t.Fatalf("%d decode_error lines within a second, want at most 2", n)
	}
}
