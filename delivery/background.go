package delivery

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/storage"
)

// sweepEvery is how often held items, reassembly sets and (through
// Options.Sweep) the caller's records are checked for expiry.
const sweepEvery = time.Second

// leaseBatch is how many held items one Lease hands out.
const leaseBatch = 64

// bindQueue collects users whose receiver bound, for the background
// goroutine; epoch counts binds so dispatch can tell one happened while it
// was holding an item.
type bindQueue struct {
	mu    sync.Mutex
	users []string
	epoch atomic.Uint64
}

func (q *bindQueue) add(user string) {
	q.epoch.Add(1)
	q.mu.Lock()
	for _, u := range q.users {
		if u == user {
			q.mu.Unlock()
			return
		}
	}
	q.users = append(q.users, user)
	q.mu.Unlock()
}

// take moves the queued users into dst.
func (q *bindQueue) take(dst []string) []string {
	q.mu.Lock()
	dst = append(dst[:0], q.users...)
	clear(q.users)
	q.users = q.users[:0]
	q.mu.Unlock()
	return dst
}

// Bound implements engine.BindObserver: a receiver or transceiver of
// systemID is now bound, so the background goroutine releases what is
// held for it. It never blocks.
func (h *Service) Bound(systemID string, t engine.BindType) {
	if !takesDeliveries(t) {
		return
	}
	h.receivers.add(systemID, 1)
	h.binds.add(systemID)
	h.bg.poke()
}

// Unbound implements engine.BindObserver. Deliveries in flight on that
// session come back through DeliveryDone (ErrSessionGone) and are offered
// again: to another bind of the user, or to the hold store.
func (h *Service) Unbound(systemID string, t engine.BindType) {
	if takesDeliveries(t) {
		h.receivers.add(systemID, -1)
	}
}

// background is the service's one goroutine: bind releases, retries, sweeps.
// Its fields other than the channels are touched only by that goroutine
// (or by tests calling step with the goroutine not started).
type background struct {
	started atomic.Bool
	quit    chan struct{}
	done    chan struct{}
	wake    chan struct{}
	once    sync.Once

	due        retryHeap
	queues     map[string]*waitQueue // per user, see room.go
	waitingNow atomic.Int64          // items in queues or on their way there
	// Receipt backlogs (room.go): each user's held items (reused), the
	// users told on, when next to measure, and the store's counts.
	held          map[string]int
	backlogged    map[string]bool
	backloggedNow atomic.Int64
	nextBacklog   int64
	heldBy        storage.HeldCounts
	addHeldFn     func(string, int)
	// retrying counts each user's items in due, retryingNow all of them;
	// recheck is when a user's retries moved to the hold store come back.
	retrying    map[string]int
	retryingNow atomic.Int64
	recheck     map[string]int64
	fast        *time.Timer // waitRetry while items wait
	nap         *time.Timer // waitCoalesce after a round that left items waiting
	users       []string
	leased      [leaseBatch]storage.Held // their Body buffers are reused lease after lease
	nextSweep   int64
	expireFn    func(*storage.Held)
	expiredMO   int
	expiredRc   int
}

func (b *background) init() {
	b.quit = make(chan struct{})
	b.done = make(chan struct{})
	b.wake = make(chan struct{}, 1)
	b.queues = map[string]*waitQueue{}
	b.held = map[string]int{}
	b.backlogged = map[string]bool{}
	b.addHeldFn = b.addHeld // one closure, not one per measure
	b.retrying = map[string]int{}
	b.recheck = map[string]int64{}
	b.fast = time.NewTimer(time.Hour)
	b.fast.Stop()
	b.nap = time.NewTimer(time.Hour)
	b.nap.Stop()
}

// poke wakes the goroutine without blocking.
func (b *background) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *background) run(h *Service) {
	defer close(b.done)
	t := time.NewTicker(h.tickEvery())
	defer t.Stop()
	for {
		select {
		case <-b.quit:
			return
		case <-b.wake:
		case <-t.C:
		case <-b.fast.C:
		}
		h.step(h.now())
		if b.waitingNow.Load() > 0 {
			b.fast.Reset(waitRetry)
			// Let the answers that free room gather (their pokes
			// coalesce in wake) before the next round offers again.
			b.nap.Reset(waitCoalesce)
			select {
			case <-b.quit:
				return
			case <-b.nap.C:
			}
		}
	}
}

// stop ends the goroutine, waiting for it as long as ctx allows.
func (b *background) stop(ctx context.Context) {
	if !b.started.Load() {
		return
	}
	b.once.Do(func() { close(b.quit) })
	select {
	case <-b.done:
	case <-ctx.Done():
	}
}

// exited reports whether the goroutine has ended.
func (b *background) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// tickEvery is the goroutine's wake-up period without events: a quarter of
// RetryMin, within 50ms..1s.
func (h *Service) tickEvery() time.Duration {
	d := min(max(h.opts.RetryMin/4, 50*time.Millisecond), time.Second)
	if h.opts.Backlog != nil {
		d = min(d, backlogEvery)
	}
	return d
}

// step does one round of the background work at now.
func (h *Service) step(now time.Time) {
	ns := now.UnixNano()
	h.retryUnkept()
	h.runRechecks(ns)
	h.releaseBound(now)
	h.runRetries(now)
	h.runWaiting(now)
	h.runBacklog(ns)
	if ns >= h.bg.nextSweep {
		h.sweep(now)
		h.bg.nextSweep = ns + int64(sweepEvery)
	}
}

// releaseBound delivers the held items of every user whose receiver bound
// since the last round, oldest first, leasing them for up to their
// lifetime: each is acknowledged once delivered (or refused for good, or
// expired) and given back in place if it must be held again. It stops for
// a user as soon as an item is not taken at once: back on hold (the
// receiver left again), or waiting for room (its receivers are full:
// leasing again would hand out the same items, given back in place, for
// ever; runWaiting brings the user back once its queue drained).
func (h *Service) releaseBound(now time.Time) {
	b := &h.bg
	b.users = h.binds.take(b.users)
	ns := now.UnixNano()
	for _, user := range b.users {
		for {
			n, err := h.holds.Lease(user, ns+int64(h.opts.HoldLifetime), b.leased[:])
			if err != nil {
				h.noteStore(err, "lease", 0)
				break
			}
			stop := n < len(b.leased)
			for i := range n {
				it := h.leasedItem(&b.leased[i])
				if ns >= it.expires {
					h.expire(it)
					continue
				}
				if h.dispatch(it, now) != sent {
					stop = true
				}
			}
			if stop {
				break
			}
		}
	}
	clear(b.users)
}

// runRetries moves new retries into the due-time heap and sends those
// whose time has come. The heap is bounded: a user holds at most its
// share (RetryShare) and all users MaxWaiting; past that a retry waits in
// the hold store and its user is released again at its time (recheck), so
// an ESME that refuses everything cannot grow memory with its traffic.
func (h *Service) runRetries(now time.Time) {
	b := &h.bg
	for it := h.retries.takeAll(); it != nil; {
		next := it.next
		it.next = nil
		if h.retryFull(it.systemID) {
			user, due := it.systemID, it.due
			o, err := h.holdOrKeep(it, false)
			if o != full { // it is the store's now (or gone with a failed Release, counted)
				h.stats.retryOver.Add(1)
				if at, ok := b.recheck[user]; !ok || due < at {
					b.recheck[user] = due
				}
				it = next
				continue
			}
			// Acknowledged to its source and refused by the store: it
			// waits in memory past the bound all the same.
			h.waitOver(it, err)
		}
		b.due.push(it)
		b.retrying[it.systemID]++
		b.retryingNow.Add(1)
		it = next
	}
	ns := now.UnixNano()
	for len(b.due) > 0 && b.due[0].due <= ns {
		it := b.due.pop()
		h.retried(it.systemID)
		if ns >= it.expires {
			h.expire(it)
			continue
		}
		h.dispatch(it, now)
	}
}

// retryFull reports whether user's retries must wait in the hold store.
func (h *Service) retryFull(user string) bool {
	b := &h.bg
	if b.retryingNow.Load() >= int64(h.opts.MaxWaiting) {
		return true
	}
	if h.opts.RetryShare == nil {
		return false
	}
	lim := h.opts.RetryShare(user)
	return lim > 0 && b.retrying[user] >= lim
}

// retried counts an item out of the retry heap.
func (h *Service) retried(user string) {
	b := &h.bg
	b.retryingNow.Add(-1)
	if n := b.retrying[user] - 1; n > 0 {
		b.retrying[user] = n
	} else {
		delete(b.retrying, user)
	}
}

// runRechecks releases again the users whose retries went to the hold
// store once the earliest of them is due.
func (h *Service) runRechecks(ns int64) {
	for user, at := range h.bg.recheck {
		if at <= ns {
			delete(h.bg.recheck, user)
			h.binds.add(user)
		}
	}
}

// sweep expires held items and incomplete MO, then runs Options.Sweep.
func (h *Service) sweep(now time.Time) {
	b := &h.bg
	ns := now.UnixNano()
	if b.expireFn == nil {
		b.expireFn = h.heldExpired
	}
	b.expiredMO, b.expiredRc = 0, 0
	n, err := h.holds.Expire(ns, b.expireFn)
	h.noteStore(err, "expire", 0)
	if n > 0 {
		h.log.Warn().Int("mo", b.expiredMO).Int("receipts", b.expiredRc).
			Uint64("mo_expired_total", h.stats.moExpired.Load()).
			Uint64("receipts_expired_total", h.stats.rcptExpired.Load()).
			Msg("held items expired: no receiver bound within the hold lifetime")
	}
	h.mo.expire(now)
	if h.opts.Sweep != nil {
		h.opts.Sweep(ns)
	}
}

// heldExpired is the hold store's expiry callback (background goroutine).
func (h *Service) heldExpired(hp *storage.Held) {
	if hp.Kind == storage.HeldCallback {
		return // an HTTP callback's: its sender counts its own (it leases them; one expires here only unleased)
	}
	if len(hp.SystemID) > 0 && hp.SystemID[0] == 0 {
		return // an internal queue's (MO parts, submit_multi destinations: no system_id starts with NUL); its owner counts
	}
	if hp.Kind == storage.HeldMO {
		h.stats.moExpired.Add(1)
		h.bg.expiredMO++
	} else {
		h.stats.rcptExpired.Add(1)
		h.bg.expiredRc++
	}
}

// retryHeap orders items by due time (a binary min-heap).
type retryHeap []*item

func (q *retryHeap) push(it *item) {
	*q = append(*q, it)
	s := *q
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].due <= s[i].due {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (q *retryHeap) pop() *item {
	s := *q
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = nil
	s = s[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && s[l].due < s[m].due {
			m = l
		}
		if r < n && s[r].due < s[m].due {
			m = r
		}
		if m == i {
			break
		}
		s[m], s[i] = s[i], s[m]
		i = m
	}
	*q = s
	return top
}
