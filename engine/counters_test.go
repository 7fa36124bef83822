package engine

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

func TestCounterBuckets(t *testing.T) {
	seen := map[int]codec.CommandID{}
	for _, id := range cmdIDs {
		b := cmdBucket(id)
		if prev, dup := seen[b]; dup {
			t.Fatalf("%v and %v share bucket %d", prev, id, b)
		}
		seen[b] = id
		if cmdIDs[b] != id {
			t.Fatalf("bucket %d maps back to %v, want %v", b, cmdIDs[b], id)
		}
	}
	for _, id := range []codec.CommandID{0x0000000A, 0x00000104, 0x80000104, 0x7fffffff, 0xffffffff, 0x80000102} {
		if b := cmdBucket(id); b != numCmdBuckets-1 {
			t.Errorf("unknown id 0x%08x in bucket %d", uint32(id), b)
		}
	}
	for i, st := range statusIDs {
		if statusBucket(st) != i {
			t.Errorf("%v in bucket %d, want %d", st, statusBucket(st), i)
		}
	}
	for _, st := range []codec.Status{0x09, 0x100, 0x400, 0xffffffff} {
		if b := statusBucket(st); b != numStatusBuckets-1 {
			t.Errorf("unknown status 0x%x in bucket %d", uint32(st), b)
		}
	}
}

// countObserver counts samples (atomically: Observe runs on a loop).
type countObserver struct{ n atomic.Int64 }

func (o *countObserver) Observe(float64) { o.n.Add(1) }

func TestPDUCountsAndSubmitLatency(t *testing.T) {
	obs := &countObserver{}
	ts := start(t, func(o *Options) { o.SubmitLatency = obs })
	c := ts.bound(t, codec.BindTransmitterID)
	const n = 5
	for i := range n {
		mustSend(t, c, codec.SubmitSMID, uint32(10+i), smpptest.SubmitBody("1", "2", "x"))
		mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	}
	mustSend(t, c, codec.CommandID(0x00000042), 99, nil) // unknown id: generic_nack
	mustExpect(t, c, codec.GenericNackID, codec.StatusInvCmdID)

	want := map[PDUCount]bool{
		{Received: true, Command: "bind_transmitter", N: 1}:                           true,
		{Received: false, Command: "bind_transmitter_resp", Status: "ESME_ROK", N: 1}: true,
		{Received: true, Command: "submit_sm", N: n}:                                  true,
		{Received: false, Command: "submit_sm_resp", Status: "ESME_ROK", N: n}:        true,
		{Received: true, Command: "unknown", N: 1}:                                    true,
		{Received: false, Command: "generic_nack", Status: "ESME_RINVCMDID", N: 1}:    true,
	}
	got := map[PDUCount]bool{}
	ts.PDUCounts(func(p PDUCount) { got[p] = true })
	for w := range want {
		if !got[w] {
			t.Errorf("missing %+v in %+v", w, got)
		}
	}
	if obs.n.Load() != n {
		t.Fatalf("submit latency samples %d, want %d", obs.n.Load(), n)
	}
}

// Submits that arrive together are answered in one batch and sampled at its
// end: one sample each, none for a refusal's generic_nack, the clock read
// once for the batch.
func TestSubmitLatencyPerBatch(t *testing.T) {
	obs := &countObserver{}
	ts := start(t, func(o *Options) { o.SubmitLatency = obs })
	c := ts.bound(t, codec.BindTransmitterID)
	const n = 8
	var batch []byte
	for i := range n {
		batch = append(batch, smpptest.Frame(codec.SubmitSMID, 0, uint32(20+i), smpptest.SubmitBody("1", "2", "x"))...)
	}
	if _, err := c.Conn.Write(batch); err != nil {
		t.Fatal(err)
	}
	for range n {
		mustExpect(t, c, codec.SubmitSMRespID, codec.StatusOK)
	}
	if got := obs.n.Load(); got != n {
		t.Fatalf("submit latency samples %d for %d batched submits", got, n)
	}
	mustSend(t, c, codec.SubmitSMID, 40, []byte{0xff}) // undecodable
	if h, _, err := c.ReadFrame(5 * time.Second); err != nil || h.CommandID != codec.SubmitSMRespID || h.Status == codec.StatusOK {
		t.Fatalf("undecodable submit_sm answered %+v, %v", h, err)
	}
	if got := obs.n.Load(); got != n {
		t.Fatalf("submit latency samples %d after a refused submit, want %d", got, n)
	}
}
