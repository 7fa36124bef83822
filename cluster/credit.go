package cluster

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Credit leases. A limited balance or quota is a pool in AccountsBucket;
// a node borrows a slice of it with a compare-and-set (pool -= slice),
// charges from the slice locally (accounts' counters, one CAS per
// submit), borrows again when the slice runs low, and gives an idle slice
// back. Its unspent slice is written under lease.<node>.<account> every
// heartbeat, so when the node dies the lowest live node moves that value
// back to the pool (Reclaim). The sum of what every node charges is
// therefore the balance, except for what docs/CLUSTER.md bounds: a set
// (new epoch) while slices of the old one are being spent, and a dead
// node's spending since its last write of its slice.

const (
	// lendTick is how often the lender checks its slices for a refill.
	lendTick = 100 * time.Millisecond
	// idleReturn: a slice nothing was charged from for this long goes
	// back to the pool, where the other nodes can borrow it.
	idleReturn = 2 * time.Second
	// firstSlice is how many charges of the size that ran short a first
	// borrow takes, before any spending rate is known.
	firstSlice = 16
)

// shortReq is a charge this node's slice could not cover.
type shortReq struct {
	account string
	need    int64
}

// slice is this node's lease on one account's pool.
type slice struct {
	mu      sync.Mutex // held across a borrow's round trips: a set's void waits for it
	account string
	epoch   uint64 // the pool epoch the slice was borrowed in
	rev     uint64 // the revision of lease.<node>.<account>; 0: none written
	written int64  // the value last written there
	held    int64  // the local counter at the last tick
	spent   int64  // charged since the window began (net of refunds)
	rate    int64  // charged in the last full second
	window  time.Time
	lastUse time.Time // the last charge from the slice, or borrow
	spentAt time.Time // the last charge from the slice
	need    int64     // the largest single charge seen short
	void    uint64    // a newer epoch the watch saw: the slice is void (guarded by Accounts.mu)
}

// voidAfter records that the pool reached epoch (a set), with
// Accounts.mu held; the lender drops the slice if it was borrowed before
// (drop compares under s.mu).
func (s *slice) voidAfter(epoch uint64) { s.void = max(s.void, epoch) }

// Short asks for a refill of account (this node's slice could not cover
// need). It never blocks: a full queue drops the request, and the next
// tick's refill covers it.
func (a *Accounts) Short(account string, need int64) {
	select {
	case a.short <- shortReq{account: account, need: need}:
	default:
	}
}

// Refilling reports whether account's pool, as last seen, could cover
// need: a borrow is coming, so a charge refused now is worth retrying.
func (a *Accounts) Refilling(account string, need int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.pools[account]
	return ok && !p.Unlimited && p.Amount >= need
}

// lend runs the lender: refills on Short, checks every slice each tick,
// writes changed slices every heartbeat, and counts the live nodes.
func (a *Accounts) lend() {
	defer a.done.Done()
	tick := time.NewTicker(lendTick)
	defer tick.Stop()
	beat := time.NewTicker(a.n.o.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-a.stop:
			return
		case r := <-a.short:
			s := a.sliceOf(r.account)
			s.mu.Lock()
			s.need = max(s.need, r.need)
			s.mu.Unlock()
			a.borrow(s, r.need)
		case <-tick.C:
			for _, s := range a.slices() {
				a.check(s)
			}
		case <-beat.C:
			a.countLive()
			for _, s := range a.slices() {
				s.mu.Lock()
				a.drop(s)
				if h, ok := a.local.Held(s.account); ok && h != s.written {
					a.writeLease(s, h)
				}
				s.mu.Unlock()
			}
		}
	}
}

func (a *Accounts) sliceOf(account string) *slice {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.mine[account]
	if s == nil {
		now := time.Now()
		s = &slice{account: account, window: now, lastUse: now}
		if p, ok := a.pools[account]; ok {
			s.epoch = p.Epoch
		}
		a.mine[account] = s
	}
	return s
}

func (a *Accounts) slices() []*slice {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*slice, 0, len(a.mine))
	for _, s := range a.mine {
		out = append(out, s)
	}
	return out
}

func (a *Accounts) countLive() {
	ctx, cancel := context.WithTimeout(context.Background(), a.n.o.Heartbeat)
	defer cancel()
	if ms, err := a.n.Members(ctx); err == nil && len(ms) > 0 {
		a.live.Store(int32(len(ms)))
	}
}

// LiveNodes is the number of live nodes as last counted (at least 1).
func (a *Accounts) LiveNodes() int { return int(max(a.live.Load(), 1)) }

// drop empties a void slice (s.mu held): a set made the pool a new
// epoch, so what this node held of the old one is no one's any more.
func (a *Accounts) drop(s *slice) {
	a.mu.Lock()
	v := s.void
	s.void = 0
	a.mu.Unlock()
	if v == 0 || v <= s.epoch {
		return
	}
	got := a.local.Withdraw(s.account, math.MaxInt64)
	s.epoch = v
	s.held = 0
	a.voided.Add(1)
	a.n.lg.Info().Str("event", "credit_slice_void").Str("account", s.account).Int64("dropped", got).
		Uint64("epoch", v).Msg("cluster: the balance was set; this node's slice of the previous one is dropped")
	a.writeLease(s, 0)
}

// check tracks the slice's spending and refills or returns it (one tick).
func (a *Accounts) check(s *slice) {
	s.mu.Lock()
	a.drop(s)
	h, ok := a.local.Held(s.account)
	now := time.Now()
	if !ok {
		s.mu.Unlock()
		return
	}
	if h < s.held {
		s.spent += s.held - h
		s.lastUse, s.spentAt = now, now
	}
	s.held = h
	if now.Sub(s.window) >= time.Second {
		s.rate, s.spent, s.window = s.spent, 0, now
	}
	idle := now.Sub(s.lastUse) >= idleReturn
	need := max(s.need, 1)
	// Refilled ahead only while charges keep coming: a node whose traffic
	// stopped must not take a slice the others then wait 2 s for.
	low := s.rate > 0 && h < s.rate/2 && now.Sub(s.spentAt) < 3*lendTick
	s.mu.Unlock()
	low = low && a.Refilling(s.account, need)
	switch {
	case idle && h > 0:
		a.giveBack(s)
	case low:
		a.borrow(s, need)
	}
}

// borrow takes a slice of the pool for s: at least need, aimed at
// firstSlice charges of need or two seconds of the current rate, never
// more than the pool's share per live node (so the others find some).
func (a *Accounts) borrow(s *slice, need int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.drop(s)
	if _, ok := a.local.Held(s.account); !ok {
		return
	}
	want := max(need*firstSlice, 2*s.rate)
	var took int64
	_, err := a.casPoolRev(s.account, func(p Pool, exists bool) (Pool, error) {
		took = 0
		if !exists || p.Unlimited {
			return p, ErrNoPool
		}
		fair := p.Amount / int64(a.LiveNodes())
		took = min(p.Amount, max(need, min(want, fair)))
		if took < need {
			took = 0
			return p, errEmpty
		}
		p.Amount -= took
		return p, nil
	}, &s.epoch)
	if err != nil {
		if !errors.Is(err, ErrNoPool) && !errors.Is(err, errEmpty) {
			a.n.lg.Warn().Err(err).Str("event", "credit_borrow_failed").Str("account", s.account).
				Msg("cluster: could not borrow from the pool; charges on this node are refused until a borrow succeeds")
		}
		return
	}
	if !a.local.Lend(s.account, took) {
		a.giveBackAmount(s, took) // the user went unlimited or away meanwhile
		return
	}
	a.borrows.Add(1)
	s.held += took
	s.lastUse = time.Now()
	h, _ := a.local.Held(s.account)
	a.writeLease(s, h)
}

var errEmpty = errors.New("cluster: pool cannot cover the charge")

// casPoolRev is casPool for the lender: it also stops at a pool whose
// epoch is newer than *epoch after voiding what this node held of the
// old one, so a slice never mixes epochs.
func (a *Accounts) casPoolRev(account string, f func(p Pool, exists bool) (Pool, error), epoch *uint64) (uint64, error) {
	return a.casPool(account, func(p Pool, exists bool) (Pool, error) {
		if exists && p.Epoch > *epoch {
			if got := a.local.Withdraw(account, math.MaxInt64); got > 0 {
				a.voided.Add(1)
			}
			*epoch = p.Epoch
		}
		return f(p, exists)
	})
}

// giveBack returns s's whole unspent slice to the pool (idle).
func (a *Accounts) giveBack(s *slice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.drop(s)
	got := a.local.Withdraw(s.account, math.MaxInt64)
	s.held = 0
	if got > 0 {
		a.giveBackAmount(s, got)
	}
	a.writeLease(s, 0)
}

// giveBackAmount adds n to the pool if it is still of s's epoch (s.mu
// held); otherwise n was void anyway.
func (a *Accounts) giveBackAmount(s *slice, n int64) {
	_, err := a.casPool(s.account, func(p Pool, exists bool) (Pool, error) {
		if !exists || p.Unlimited || p.Epoch != s.epoch {
			return p, ErrNoPool
		}
		p.Amount = min(p.Amount+n, math.MaxInt64/2)
		return p, nil
	})
	switch {
	case err == nil:
		a.returns.Add(1)
	case !errors.Is(err, ErrNoPool):
		a.n.lg.Warn().Err(err).Str("event", "credit_return_failed").Str("account", s.account).Int64("amount", n).
			Msg("cluster: an unspent slice could not be given back; it is lost to the balance")
	}
}

// writeLease writes s's unspent slice v (s.mu held). A lease key another
// node deleted (it reclaimed the slice, believing this node dead) makes
// the slice void: the reclaimer gave it back to the pool.
func (a *Accounts) writeLease(s *slice, v int64) {
	ctx, cancel := context.WithTimeout(context.Background(), a.n.o.Heartbeat)
	defer cancel()
	key := leaseKey(a.n.o.NodeID, s.account)
	val := []byte(Pool{Epoch: s.epoch, Amount: v}.String())
	var (
		rev uint64
		err error
	)
	switch {
	case s.rev == 0 && v == 0:
		s.written = 0
		return
	case s.rev == 0:
		rev, err = a.kv.Create(ctx, key, val)
		if errors.Is(err, jetstream.ErrKeyExists) {
			// This node's leftover of an earlier run that the start's
			// reclaim missed: back to the pool, then ours.
			a.reclaimKey(ctx, key)
			rev, err = a.kv.Create(ctx, key, val)
		}
	case v == 0:
		err = a.kv.Delete(ctx, key, jetstream.LastRevision(s.rev))
	default:
		rev, err = a.kv.Update(ctx, key, val, s.rev)
	}
	if err != nil && (isWrongSequence(err) || errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound)) {
		got := a.local.Withdraw(s.account, math.MaxInt64)
		a.voided.Add(1)
		a.n.lg.Warn().Str("event", "credit_slice_reclaimed").Str("account", s.account).Int64("dropped", got).
			Msg("cluster: another node reclaimed this node's slice (it saw this node gone); the slice is dropped")
		s.rev, s.written, s.held = 0, 0, 0
		return
	}
	if err != nil {
		a.n.lg.Warn().Err(err).Str("event", "credit_lease_write_failed").Str("account", s.account).
			Msg("cluster: this node's slice not written; if it dies now its last written value is reclaimed")
		return
	}
	s.rev, s.written = rev, v
}

// Reclaim moves a departed node's unspent slices back to their pools
// (each once: the lease key is deleted at the revision read, and only a
// slice of the pool's current epoch counts). The lowest live node calls
// it once per departure (WatchDeparted).
func (a *Accounts) Reclaim(node int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*a.n.o.JoinTimeout)
	defer cancel()
	lister, err := a.kv.ListKeysFiltered(ctx, "lease."+strconv.Itoa(node)+".>")
	if err != nil {
		if !errors.Is(err, jetstream.ErrNoKeysFound) {
			a.n.lg.Warn().Err(err).Str("event", "credit_reclaim_failed").Int("departed", node).
				Msg("cluster: a departed node's slices were not listed; they stay lost to their balances")
		}
		return
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	var n int
	var total int64
	for _, k := range keys {
		if v, ok := a.reclaimKey(ctx, k); ok {
			n++
			total += v
		}
	}
	a.n.lg.Info().Str("event", "credit_reclaimed").Int("departed", node).Int("slices", n).Int64("amount", total).
		Msg("cluster: a departed node's unspent slices are back in their pools")
}

// reclaimKey moves one lease key's slice back to its pool: the key is
// deleted at the revision read (a node that rewrote it meanwhile keeps
// it), then the amount is added if the pool is still of its epoch. It
// reports the amount and whether it went back.
func (a *Accounts) reclaimKey(ctx context.Context, k string) (int64, bool) {
	e, err := a.kv.Get(ctx, k)
	if err != nil {
		return 0, false
	}
	l, ok := parsePool(string(e.Value()))
	_, acctEnc, _ := strings.Cut(strings.TrimPrefix(k, "lease."), ".")
	acct, dok := dec(acctEnc)
	if !ok || !dok {
		return 0, false
	}
	if err := a.kv.Delete(ctx, k, jetstream.LastRevision(e.Revision())); err != nil || l.Amount == 0 {
		return 0, false
	}
	_, err = a.casPool(acct, func(p Pool, exists bool) (Pool, error) {
		if !exists || p.Unlimited || p.Epoch != l.Epoch {
			return p, ErrNoPool
		}
		p.Amount = min(p.Amount+l.Amount, math.MaxInt64/2)
		return p, nil
	})
	if err != nil {
		return 0, false
	}
	a.reclaimed.Add(1)
	return l.Amount, true
}

// Close stops the watch and the lender and gives every unspent slice
// back to its pool (a clean stop loses no credit).
func (a *Accounts) Close() {
	select {
	case <-a.stop:
		return
	default:
	}
	close(a.stop)
	a.done.Wait()
	if a.local == nil {
		return
	}
	for _, s := range a.slices() {
		a.giveBack(s)
	}
}
