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
	n          int  // items in the queue
	backlogged bool // Options.Backlog was told on (and not off since)
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
			if h.offer(it) == busy {
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
		h.checkBacklog(user, q)
	}
}

// checkBacklog tells Options.Backlog when user's waiting items pass its
// share (on) and when they fall to half of it (off). While on, the hub
// answers MT asking a receipt ESME_RTHROTTLED: a client that submits
// faster than its receivers take the receipts is slowed at the source,
// before an acknowledgement, instead of its receipts outgrowing every
// bound here. The gap between the two marks keeps it from flapping.
func (h *Service) checkBacklog(user string, q *waitQueue) {
	if h.opts.Backlog == nil {
		return
	}
	lim := h.waitShare(user)
	switch {
	case !q.backlogged && q.n >= lim:
		q.backlogged = true
		h.bg.backlogged.Add(1)
		h.stats.backlogOn.Add(1)
		h.opts.Backlog(user, true)
		if e := h.event(&h.warn.backlog, zerologWarn); e != nil {
			e.Str("event", "receipt_backlog").Str("system_id", user).Int("waiting", q.n).Int("share", lim).
				Uint64("backlog_on_total", h.stats.backlogOn.Load()).
				Msg("receivers behind by their share of waiting receipts and MO: MT asking a receipt answered ESME_RTHROTTLED until half of it is delivered")
		}
	case q.backlogged && q.n <= lim/2:
		q.backlogged = false
		h.bg.backlogged.Add(-1)
		h.opts.Backlog(user, false)
		h.log.Info().Str("event", "receipt_backlog_cleared").Str("system_id", user).Int("waiting", q.n).
			Msg("receivers caught up: MT asking a receipt admitted again")
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
