package delivery

import "time"

// Deliveries waiting for room. An ESME that answers deliver_sm slower than
// receipts and MO arrive fills its sessions' windows and queues; the
// engine then refuses at once (ErrQueueFull) and the item waits here, per
// user in the order they were refused, until a response frees a slot. The
// order is not strict across the queue: a new item that finds a free slot
// first goes ahead of older waiting ones (SMPP does not order deliver_sm). The background
// goroutine owns the queues; producers hand items over through
// Service.waiting (a mutex-guarded list, a few instructions per item).

// waitRetry is how soon waiting items are offered again when no response
// arrives to wake the goroutine earlier.
const waitRetry = 5 * time.Millisecond

// waitCoalesce is the pause after a round that left items waiting: every
// deliver_sm_resp from a busy ESME frees a slot and pokes the goroutine,
// and a round per answer cost a goroutine wake-up (and often a thread's)
// per receipt; one round per pause offers what many answers freed. The
// engine's per-session queue (DeliverQueue, 4 windows by default) keeps
// the ESME busy meanwhile.
const waitCoalesce = 250 * time.Microsecond

// waitQueue is one user's waiting items, oldest first.
type waitQueue struct {
	head, tail *item
	n          int // items in the queue
}

func (q *waitQueue) push(it *item) {
	q.n++
	it.next = nil
	if q.tail == nil {
		q.head = it
	} else {
		q.tail.next = it
	}
	q.tail = it
}

func (q *waitQueue) pushFront(it *item) {
	q.n++
	it.next = q.head
	q.head = it
	if q.tail == nil {
		q.tail = it
	}
}

func (q *waitQueue) pop() *item {
	q.n--
	it := q.head
	q.head = it.next
	if q.head == nil {
		q.tail = nil
	}
	it.next = nil
	return it
}

// runWaiting moves newly waiting items to their user's queue, then offers
// each user's items in order until one finds the user's receivers full
// again. Expired items are dropped (counted, logged).
func (h *Service) runWaiting(now time.Time) {
	b := &h.bg
	for it := h.waiting.takeAll(); it != nil; {
		next := it.next
		q := b.queues[it.systemID]
		if q == nil {
			q = new(waitQueue) // once per user that ever waits
			b.queues[it.systemID] = q
		}
		q.push(it)
		it = next
	}
	ns := now.UnixNano()
	for user, q := range b.queues {
		had := q.head != nil
		for q.head != nil {
			// Unlinked before the offer: once the engine has it, its
			// outcome may already be running on an event loop.
			it := q.pop()
			if ns >= it.expires {
				b.waitingNow.Add(-1)
				h.expire(it)
				continue
			}
			// Still no room, or no receiver and a store that refuses it
			// (it was counted when it first waited): it keeps its place.
			if o, _ := h.offer(it, false); o == busy || o == full {
				q.pushFront(it)
				break
			}
			b.waitingNow.Add(-1)
		}
		if had && q.head == nil {
			// Drained: what overflowed to the hold store comes back next.
			h.binds.add(user)
			h.bg.poke()
		}
	}
}

// backlogEvery is how often the users' backlogs are measured (the
// background goroutine ticks at least this often with Options.Backlog),
// and backlogNear how often while a user is past a quarter of its share:
// at 300,000 receipts a second, 300 come in a millisecond, well within
// the half of a default share (10,000) left when the MT is slowed.
const (
	backlogEvery = 10 * time.Millisecond
	backlogNear  = time.Millisecond
)

// runBacklog tells Options.Backlog when a user's receipts and MO pass half
// its share (on) and when they fall to a quarter of it (off): its items
// waiting for room at its busy receivers, or those it holds in the store,
// whichever is more (with the disk store every item is held until its ESME
// answers; with the memory store those of a user with no receiver bound
// are). While on, the hub answers the user's MT asking a receipt
// ESME_RTHROTTLED: a client that submits faster than it takes its
// receipts is slowed at the source, before an acknowledgement, while half
// its share is still free for the receipts of what it was sent already.
// The gap between the marks keeps it from flapping.
func (h *Service) runBacklog(ns int64) {
	b := &h.bg
	if h.opts.Backlog == nil || ns < b.nextBacklog {
		return
	}
	clear(b.load)
	for user, q := range b.queues {
		if q.n > 0 {
			b.load[user] = q.n
		}
	}
	if b.heldBy != nil {
		b.heldBy.HeldByUser(b.addLoadFn)
	}
	every := backlogEvery
	for user, n := range b.load {
		share := h.waitShare(user)
		if n > share/4 {
			every = backlogNear
		}
		if b.backlogged[user] {
			continue
		}
		if n >= max(share/2, 1) {
			b.backlogged[user] = true
			h.bg.backloggedNow.Add(1)
			h.stats.backlogOn.Add(1)
			h.opts.Backlog(user, true)
			if e := h.event(&h.warn.backlog, zerologWarn); e != nil {
				e.Str("event", "receipt_backlog").Str("system_id", user).Int("pending", n).Int("share", share).
					Uint64("backlog_on_total", h.stats.backlogOn.Load()).
					Msg("receipts and MO behind by half the user's share: its MT asking a receipt answered ESME_RTHROTTLED until a quarter is left")
			}
		}
	}
	b.nextBacklog = ns + int64(every)
	for user := range b.backlogged {
		if n := b.load[user]; n <= h.waitShare(user)/4 {
			delete(b.backlogged, user)
			h.bg.backloggedNow.Add(-1)
			h.opts.Backlog(user, false)
			if e := h.event(&h.warn.backlogOff, zerologInfo); e != nil {
				e.Str("event", "receipt_backlog_cleared").Str("system_id", user).Int("pending", n).
					Msg("receipts and MO caught up: MT asking a receipt admitted again")
			}
		}
	}
}

// addLoad is the HeldByUser callback: a user's held items, when more than
// its waiting ones. Internal queues (no system_id starts with NUL) are
// their owners' business.
func (b *background) addLoad(user string, n int) {
	if len(user) > 0 && user[0] == 0 {
		return
	}
	if n > b.load[user] {
		b.load[user] = n
	}
}

// waitShare is user's share of the waiting items: its held share
// (Options.RetryShare), or a tenth of MaxWaiting without one.
func (h *Service) waitShare(user string) int {
	if h.opts.RetryShare != nil {
		if lim := h.opts.RetryShare(user); lim > 0 {
			return lim
		}
	}
	return max(h.opts.MaxWaiting/10, 1)
}
