package jetstream

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/smppd/smppd/storage"
)

// ClaimsBucket is the KV bucket of held-item claims: one key per item a
// node is delivering (its cluster key in hex), the node's id as value. A
// lease is this node's only once its claim was created (first wins), so
// two nodes with receivers of one user never deliver one item at once.
const ClaimsBucket = "smppd_held_claims"

// claimTTL is how long a claim lasts without a refresh (the bucket's
// TTL): a node that dies while delivering holds its items that long, as
// producerLease; a live one refreshes its claims every claimTTL/4.
const claimTTL = producerLease

// claimWait bounds one Lease's wait for its claims' acknowledgements:
// an item not acknowledged in time is treated as lost (offered again
// after claimTTL) rather than delivered unclaimed.
const claimWait = 2 * time.Second

// claims are this node's claims on held items, and the items another
// node's claim kept from it.
type claims struct {
	s    *Store
	kv   natsjs.KeyValue
	subj string // the bucket's subject prefix
	me   []byte // the value of this node's claims
	mu   sync.Mutex
	held map[storage.HeldKey]claim
	// lost are items whose claim another node holds (or whose claim was
	// not acknowledged): their user is offered again (OnHeld) at until.
	lost map[storage.HeldKey]lostClaim
	// retake are the lost items given back (lapsed) after their winner's
	// silence: one this node wins next is a possible duplicate.
	retake map[storage.HeldKey]struct{}
	// acking are the claims of items this node delivered and acknowledged,
	// kept (and refreshed) until the ack's journal write is acknowledged:
	// a claim let go sooner could lapse while the ack waits in a stalled
	// journal, and another node, not knowing of the ack, deliver it too.
	acking []ackingClaim
	stop   chan struct{}
	done   chan struct{}
	// won, lostN and refreshed count claims created, refused (another
	// node delivers the item, or no acknowledgement) and refreshed.
	won, lostN, refreshed atomic.Uint64
	// unkeyed counts leased items without a cluster key (a mapping lost:
	// a defect), delivered without a claim rather than never.
	unkeyed atomic.Uint64
	// lapsedN counts this node's claims that may have lapsed while it
	// was delivering their item (refresh refused, or not acknowledged
	// before the claim's TTL): another node may deliver the item too.
	lapsedN atomic.Uint64
	// batches counts leases whose claims went as one atomic batch, and
	// unbatched those whose batch failed (taken one by one then).
	batches, unbatched atomic.Uint64
}

type claim struct {
	g, rev uint64
	at     int64 // Unix ns of the last write
}

type ackingClaim struct {
	claim
	pos uint64 // the journal position of the item's ack
}

type lostClaim struct {
	user     string
	until    int64
	attempts int
}

// open creates (or finds) the bucket with the journal's replicas, in
// memory: a claim is worth nothing after every node restarted.
// Off (on false), leases are local.
func (c *claims) open(ctx context.Context, s *Store, on bool) error {
	c.s, c.me = s, []byte(strconv.Itoa(s.o.Node))
	c.held, c.lost = make(map[storage.HeldKey]claim), make(map[storage.HeldKey]lostClaim)
	c.retake = make(map[storage.HeldKey]struct{})
	if !on {
		return nil
	}
	return retry(ctx, func(ctx context.Context) error {
		st, err := s.o.JS.Stream(ctx, s.o.Stream)
		if err != nil {
			return err
		}
		kv, err := s.o.JS.CreateOrUpdateKeyValue(ctx, natsjs.KeyValueConfig{Bucket: ClaimsBucket, History: 1,
			TTL: claimTTL, Storage: natsjs.MemoryStorage, Replicas: max(st.CachedInfo().Config.Replicas, 1)})
		if err != nil {
			return err
		}
		c.kv, c.subj = kv, "$KV."+ClaimsBucket+"."
		c.allowBatches(ctx)
		c.stop, c.done = make(chan struct{}), make(chan struct{})
		go c.run()
		return nil
	})
}

func claimKey(g uint64) string { return strconv.FormatUint(g, 16) }

// take claims the n items leased in dst (gs their cluster keys, read with
// the lease under holds.mu), as one atomic batch (takeBatch), or else
// each its own message, all published at once and
// their acknowledgements awaited together (one round trip per Lease),
// and returns how many it won, moved to the front of dst. The others stay
// leased in the index (another node delivers them) until the winner's
// ack or release is applied, or claimTTL passes (lapsed).
func (c *claims) take(dst []storage.Held, gs []uint64, n int) int {
	if c.kv == nil || n == 0 {
		return n
	}
	if n > 1 && n <= maxClaimBatch && !slices.Contains(gs[:n], 0) {
		revs := make([]uint64, n)
		if c.takeBatch(gs, revs, n) {
			now := c.s.now()
			c.mu.Lock()
			for i := range n {
				c.held[dst[i].Key] = claim{g: gs[i], rev: revs[i], at: now}
				delete(c.lost, dst[i].Key)
			}
			c.mu.Unlock()
			c.won.Add(uint64(n))
			c.batches.Add(1)
			return n
		}
		c.unbatched.Add(1)
	}
	futs := make([]natsjs.PubAckFuture, n)
	for i := range n {
		if gs[i] == 0 {
			continue // no claim to take: key "0" would be every such item's
		}
		futs[i], _ = c.s.o.JS.PublishAsync(c.subj+claimKey(gs[i]), c.me, natsjs.WithExpectLastSequencePerSubject(0))
	}
	ctx, cancel := context.WithTimeout(context.Background(), claimWait)
	defer cancel()
	kept := 0
	for i := range n {
		if gs[i] == 0 {
			if c.unkeyed.Add(1) == 1 {
				c.s.lg.Error().Str("event", "held_claim_unkeyed").Uint64("key", uint64(dst[i].Key)).
					Msg("store: a held item has no cluster key; delivered without a claim (another node may deliver it too)")
			}
			dst[kept] = dst[i]
			kept++
			continue
		}
		rev, ok := c.await(futs[i], gs[i], ctx.Done())
		if !ok {
			c.lose(&dst[i])
			continue
		}
		c.mu.Lock()
		c.held[dst[i].Key] = claim{g: gs[i], rev: rev, at: c.s.now()}
		delete(c.lost, dst[i].Key)
		c.mu.Unlock()
		c.won.Add(1)
		dst[kept] = dst[i]
		kept++
	}
	return kept
}

// await returns the revision of g's claim once this node holds it: the
// fast create acknowledged, or else the bucket's own Create (a deleted
// claim) or an Update of a claim this node already held.
func (c *claims) await(f natsjs.PubAckFuture, g uint64, deadline <-chan struct{}) (uint64, bool) {
	if f == nil {
		return 0, false
	}
	var err error
	select { // an answer already in wins over a deadline passed meanwhile
	case ack := <-f.Ok():
		return ack.Sequence, true
	case err = <-f.Err():
	default:
		select {
		case ack := <-f.Ok():
			return ack.Sequence, true
		case err = <-f.Err():
		case <-deadline:
			return 0, false
		}
	}
	if !isWrongSequence(err) {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), claimWait)
	defer cancel()
	key := claimKey(g)
	rev, err := c.kv.Create(ctx, key, c.me)
	if err == nil {
		return rev, true
	}
	e, gerr := c.kv.Get(ctx, key)
	if !errors.Is(err, natsjs.ErrKeyExists) || gerr != nil || string(e.Value()) != string(c.me) {
		return 0, false
	}
	rev, err = c.kv.Update(ctx, key, c.me, e.Revision())
	return rev, err == nil
}

// lose notes when to give it back and offer it again, should neither an
// ack nor a release of the winner come: leased here till then, it cannot
// be leased again at once (no claim round trip per retry).
func (c *claims) lose(it *storage.Held) {
	c.lostN.Add(1)
	c.mu.Lock()
	c.lost[it.Key] = lostClaim{user: it.SystemID, until: c.s.now() + int64(claimTTL), attempts: it.Attempts}
	c.mu.Unlock()
}

// unlose drops key's lost note: another node's release of it was applied
// (the index offers it again). It returns the item's user if this node
// had lost its claim: its delivery wants it, even if it produced it.
func (c *claims) unlose(key storage.HeldKey) (string, bool) {
	c.mu.Lock()
	l, ok := c.lost[key]
	delete(c.lost, key)
	delete(c.retake, key)
	c.mu.Unlock()
	return l.user, ok
}

// release deletes key's claim before its release is journaled, so the
// node that applies the release can claim it at once.
func (c *claims) release(key storage.HeldKey) {
	c.mu.Lock()
	cl, ok := c.held[key]
	delete(c.held, key)
	c.mu.Unlock()
	if !ok || c.kv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), claimWait)
	defer cancel()
	_ = c.kv.Delete(ctx, claimKey(cl.g), natsjs.LastRevision(cl.rev)) // else it lapses after claimTTL
}

// forget drops key's claim (acknowledged or expired: the claim lapses).
func (c *claims) forget(key storage.HeldKey) {
	c.mu.Lock()
	delete(c.held, key)
	delete(c.lost, key)
	delete(c.retake, key)
	c.mu.Unlock()
}

// detach takes key's claim out of the held ones (its item acknowledged
// here), for acked once the ack is written.
func (c *claims) detach(key storage.HeldKey) (claim, bool) {
	c.mu.Lock()
	cl, ok := c.held[key]
	delete(c.held, key)
	c.mu.Unlock()
	return cl, ok
}

// acked keeps cl, whose item's ack is at journal position pos, until that
// position is acknowledged (refresh lets it go then).
func (c *claims) acked(cl claim, pos uint64) {
	if c.kv == nil {
		return
	}
	committed := c.s.j.Committed()
	if pos <= committed {
		return
	}
	c.mu.Lock()
	i := 0
	for i < len(c.acking) && c.acking[i].pos <= committed {
		i++
	}
	if i > 0 {
		c.acking = c.acking[:copy(c.acking, c.acking[i:])]
	}
	c.acking = append(c.acking, ackingClaim{claim: cl, pos: pos})
	c.mu.Unlock()
}

// ackUnwritten counts cl, detached for an ack the journal refused, as
// lapsed: the ack never reaches the other nodes, and once the claim runs
// out one of them may deliver the item again.
func (c *claims) ackUnwritten(cl claim, err error) {
	c.lapsedN.Add(1)
	c.s.lg.Warn().Err(err).Str("event", "held_claim_lost").Uint64("item", cl.g).Bool("acked", true).
		Msg("store: a delivered held item's ack was not journaled; its claim lapses and another node may deliver it too")
}

// retaken reports, once, whether key was given back by lapsed: its
// earlier winner went silent for claimTTL, maybe after sending it.
func (c *claims) retaken(key storage.HeldKey) bool {
	c.mu.Lock()
	_, ok := c.retake[key]
	delete(c.retake, key)
	c.mu.Unlock()
	return ok
}

// lapsed gives back to the index (unjournaled) the lost items due at now,
// their winner silent for claimTTL, and appends their users to users.
func (c *claims) lapsed(now int64, users []string) []string {
	var due []storage.HeldKey
	var att []int
	c.mu.Lock()
	for key, l := range c.lost {
		if l.until < now {
			delete(c.lost, key)
			c.retake[key] = struct{}{}
			due, att = append(due, key), append(att, l.attempts)
			users = appendUser(users, l.user)
		}
	}
	c.mu.Unlock()
	for i, key := range due {
		_ = c.s.idx.Holds().Release(key, att[i])
	}
	return users
}

// run refreshes, every claimTTL/4, the claims written longer ago than
// that, until stop is closed.
func (c *claims) run() {
	defer close(c.done)
	t := time.NewTicker(claimTTL / 4)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.refresh()
	}
}

func (c *claims) refresh() {
	now, committed := c.s.now(), c.s.j.Committed()
	var list []due
	c.mu.Lock()
	for key, cl := range c.held {
		if now-cl.at >= int64(claimTTL/4) {
			list = append(list, due{key: key, cl: cl})
		}
	}
	kept := c.acking[:0]
	for _, a := range c.acking {
		if a.pos <= committed {
			continue // the ack is in the journal: the claim may lapse
		}
		kept = append(kept, a)
		if now-a.at >= int64(claimTTL/4) {
			list = append(list, due{cl: a.claim, acked: true})
		}
	}
	clear(c.acking[len(kept):])
	c.acking = kept
	c.mu.Unlock()
	futs := make([]natsjs.PubAckFuture, len(list))
	for i, d := range list {
		futs[i], _ = c.s.o.JS.PublishAsync(c.subj+claimKey(d.cl.g), c.me,
			natsjs.WithExpectLastSequencePerSubject(d.cl.rev))
	}
	timer := time.NewTimer(claimWait)
	defer timer.Stop()
	expired := false
	for i, d := range list {
		if futs[i] == nil {
			c.unanswered(d)
			continue
		}
		ack, answered, err := answer(futs[i], timer.C, &expired)
		switch {
		case !answered:
			c.unanswered(d)
		case err != nil:
			c.refreshFailed(d, err)
		default:
			c.refreshed.Add(1)
			c.update(d, &claim{g: d.cl.g, rev: ack.Sequence, at: now})
		}
	}
}

// answer waits for f's answer until timer fires (then *expired), and
// after that takes only an answer already in: one lost acknowledgement
// must not void the answers of the refreshes after it.
func answer(f natsjs.PubAckFuture, timer <-chan time.Time, expired *bool) (ack *natsjs.PubAck, answered bool, err error) {
	if !*expired {
		select {
		case ack := <-f.Ok():
			return ack, true, nil
		case err := <-f.Err():
			return nil, true, err
		case <-timer:
			*expired = true
		}
	}
	select {
	case ack := <-f.Ok():
		return ack, true, nil
	case err := <-f.Err():
		return nil, true, err
	default:
		return nil, false, nil
	}
}

// due is a claim to refresh: a held one (key), or an acked one's.
type due struct {
	key   storage.HeldKey
	cl    claim
	acked bool
}

// update replaces d's claim, if still current (same revision), with to,
// or drops it when to is nil, and reports whether it was current: an
// ack, a release or another refresh may have come meanwhile.
func (c *claims) update(d due, to *claim) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !d.acked {
		cur, ok := c.held[d.key]
		if !ok || cur.rev != d.cl.rev {
			return false
		}
		if to == nil {
			delete(c.held, d.key)
		} else {
			c.held[d.key] = *to
		}
		return true
	}
	for i := range c.acking {
		if a := &c.acking[i]; a.g == d.cl.g && a.rev == d.cl.rev {
			if to == nil {
				c.acking = append(c.acking[:i], c.acking[i+1:]...)
			} else {
				a.claim = *to
			}
			return true
		}
	}
	return false
}

// unanswered handles a claim whose refresh got no answer in claimWait: it
// is tried again at the next tick while it lives, and taken as lost once
// its TTL may have run out (the bucket may have dropped it, and another
// node claim the item).
func (c *claims) unanswered(d due) {
	if c.s.now()-d.cl.at < int64(claimTTL) {
		return
	}
	c.lapse(d, errors.New("refresh not acknowledged within the claim's TTL"))
}

// refreshFailed re-reads a claim whose refresh was refused: still this
// node's (an earlier refresh's acknowledgement came late), its revision is
// taken; gone or another node's, it is lost; unread, it is handled as an
// unanswered refresh.
func (c *claims) refreshFailed(d due, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), claimWait)
	defer cancel()
	e, gerr := c.kv.Get(ctx, claimKey(d.cl.g))
	switch {
	case gerr == nil && string(e.Value()) == string(c.me):
		c.update(d, &claim{g: d.cl.g, rev: e.Revision(), at: d.cl.at})
	case gerr == nil || errors.Is(gerr, natsjs.ErrKeyNotFound):
		c.lapse(d, err)
	default:
		c.unanswered(d)
	}
}

// lapse drops a claim this node can no longer count on while its item
// may be in delivery here or its ack not yet written: not refreshed
// again (another node may hold it now), counted once, and logged.
func (c *claims) lapse(d due, err error) {
	if !c.update(d, nil) {
		return
	}
	c.lapsedN.Add(1)
	c.s.lg.Warn().Err(err).Str("event", "held_claim_lost").Uint64("item", d.cl.g).Bool("acked", d.acked).
		Dur("since_refresh", time.Duration(c.s.now()-d.cl.at)).
		Msg("store: a held item's claim lapsed while this node delivered it; another node may deliver it too")
}

// close stops the refresh.
func (c *claims) close() {
	if c.stop != nil {
		close(c.stop)
		<-c.done
	}
}

func isWrongSequence(err error) bool {
	var apiErr *natsjs.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == natsjs.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == natsjs.JSErrCodeStreamWrongLastSequenceConstant)
}

func appendUser(users []string, u string) []string {
	for _, x := range users {
		if x == u {
			return users
		}
	}
	return append(users, u)
}
