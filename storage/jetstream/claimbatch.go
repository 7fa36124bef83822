package jetstream

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
)

// maxClaimBatch is the most claims one atomic batch carries: the
// server's default limit (max_batch_size) is 1,000.
const maxClaimBatch = 1000

// batchSeq numbers this process's claim batches (their ids).
var batchSeq atomic.Uint64

// allowBatches turns on atomic batch publishes on the claims bucket's
// stream, so a lease's claims go as one batch: one acknowledgement and one
// RAFT proposal instead of one per item. A server that refuses (older than
// 2.12, or a node of an older build recreating the bucket meanwhile)
// leaves the claims one message each; takeBatch then fails and take falls
// back to them.
func (c *claims) allowBatches(ctx context.Context) {
	st, err := c.s.o.JS.Stream(ctx, "KV_"+ClaimsBucket)
	if err != nil {
		return
	}
	cfg := st.CachedInfo().Config
	if cfg.AllowAtomicPublish {
		return
	}
	cfg.AllowAtomicPublish = true
	if _, err := c.s.o.JS.UpdateStream(ctx, cfg); err != nil {
		c.s.lg.Info().Err(err).Str("event", "held_claims_unbatched").
			Msg("store: the claims bucket takes no atomic batches; each held item's claim is its own message")
	}
}

// takeBatch claims the n items of gs (all keyed) as one atomic batch,
// each claim created only if its key has none (as take's single claims),
// and on success stores their revisions in revs. The batch is all or
// nothing: false (another node's claim on one item, a timeout, batches
// off) means none is known to be won here, and take claims them one by
// one, whose await also finds a claim this batch did write.
func (c *claims) takeBatch(gs, revs []uint64, n int) bool {
	nc := c.s.o.JS.Conn()
	id := strconv.Itoa(c.s.o.Node) + "." + strconv.FormatUint(batchSeq.Add(1), 36) + "." +
		strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range n - 1 {
		m := &nats.Msg{Subject: c.subj + claimKey(gs[i]), Data: c.me, Header: claimHeader(id, i+1, false)}
		if err := nc.PublishMsg(m); err != nil {
			return false
		}
	}
	m := &nats.Msg{Subject: c.subj + claimKey(gs[n-1]), Data: c.me, Header: claimHeader(id, n, true)}
	f, err := c.s.o.JS.PublishMsgAsync(m)
	if err != nil {
		return false
	}
	timer := time.NewTimer(claimWait)
	defer timer.Stop()
	select {
	case ack := <-f.Ok():
		// One proposal: the batch's sequences are consecutive, the
		// commit's last.
		if ack.Sequence < uint64(n) {
			return false
		}
		for i := range n {
			revs[i] = ack.Sequence - uint64(n-1-i)
		}
		return true
	case <-f.Err():
	case <-timer.C:
	}
	return false
}

// claimHeader is the headers of claim seq (from 1) of batch id: created
// only if its key has no claim yet, the last one committing the batch.
func claimHeader(id string, seq int, commit bool) nats.Header {
	h := nats.Header{
		"Nats-Batch-Id":                  {id},
		"Nats-Batch-Sequence":            {strconv.Itoa(seq)},
		natsjs.ExpectedLastSubjSeqHeader: {"0"},
	}
	if commit {
		h["Nats-Batch-Commit"] = []string{"1"}
	}
	return h
}
