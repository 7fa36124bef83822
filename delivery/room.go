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
// and backlogNear how often while a user is past half a mark: at 300,000
// receipts a second, 300 come in a millisecond.
const (
	backlogEvery = 10 * time.Millisecond
	backlogNear  = time.Millisecond
)

// runBacklog tells Options.Backlog when a user's receipts and MO near what
// the service can keep without refusing or dropping any (on) and when
// they are back to half of it (off). While on, the hub answers the user's
// MT asking a receipt ESME_RTHROTTLED: a client that submits faster than
// it takes its receipts is slowed at the source, before an
// acknowledgement. The marks are the last line, not routine pacing: a
// busy ESME's receipts wait in memory (waitMark: half of MaxWaiting, at
// least the user's share) and a user's held ones fill its share of the
// store (heldMark: 90% of it; with the disk store every receipt is held
// until its ESME answers, with the memory store those of a user with no
// receiver bound). The gap between on and off keeps it from flapping.
func (h *Service) runBacklog(ns int64) {
	b := &h.bg
	if h.opts.Backlog == nil || ns < b.nextBacklog {
		return
	}
	clear(b.held)
	if b.heldBy != nil {
		b.heldBy.HeldByUser(b.addHeldFn)
	}
	every := backlogEvery
	check := func(user string, waiting, held int) {
		share := h.waitShare(user)
		waitMark, heldMark := max(h.opts.MaxWaiting/2, share), max(share*9/10, 1)
		if waiting > waitMark/2 || held > heldMark/2 {
			every = backlogNear
		}
		on := b.backlogged[user]
		switch {
		case !on && (waiting >= waitMark || held >= heldMark):
			b.backlogged[user] = true
			h.bg.backloggedNow.Add(1)
			h.stats.backlogOn.Add(1)
			h.opts.Backlog(user, true)
			if e := h.event(&h.warn.backlog, zerologWarn); e != nil {
				e.Str("event", "receipt_backlog").Str("system_id", user).Int("waiting", waiting).Int("held", held).
					Int("share", share).Uint64("backlog_on_total", h.stats.backlogOn.Load()).
					Msg("receipts and MO near what can be kept for the user: its MT asking a receipt answered ESME_RTHROTTLED until half of it is delivered")
			}
		case on && waiting <= waitMark/2 && held <= heldMark/2:
			delete(b.backlogged, user)
			h.bg.backloggedNow.Add(-1)
			h.opts.Backlog(user, false)
			if e := h.event(&h.warn.backlogOff, zerologInfo); e != nil {
				e.Str("event", "receipt_backlog_cleared").Str("system_id", user).Int("waiting", waiting).Int("held", held).
					Msg("receipts and MO caught up: MT asking a receipt admitted again")
			}
		}
	}
	for user, q := range b.queues {
		if q.n > 0 || b.held[user] > 0 || b.backlogged[user] {
			check(user, q.n, b.held[user])
		}
	}
	for user, n := range b.held {
		if b.queues[user] == nil {
			check(user, 0, n)
		}
	}
	for user := range b.backlogged {
		if b.queues[user] == nil && b.held[user] == 0 {
			check(user, 0, 0)
		}
	}
	b.nextBacklog = ns + int64(every)
}

// addHeld is the HeldByUser callback. Internal queues (no system_id
// starts with NUL) are their owners' business.
func (b *background) addHeld(user string, n int) {
	if len(user) > 0 && user[0] == 0 {
		return
	}
	b.held[user] = n
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
