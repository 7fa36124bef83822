package delivery

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// item is one deliver_sm (a receipt or an MO) from creation until it is
// acknowledged, refused for good, dropped, expired or held. It embeds what
// the engine and the hold store need (engine.Delivery, storage.Held) so
// neither hand-off allocates. Items live in a slab: Delivery.Ref names the
// slot and its generation.
//
// Ownership moves with the item: the creator, then the engine (between a
// nil Deliver and DeliveryDone), or the background goroutine (while it
// waits for a retry or for room). Held, it is the store's: the hold store
// keeps a copy and the item goes back to the slab; a lease brings a new
// item with the copy's key, acknowledged (Ack) when it is done with, or
// given back in place (Release) when it must be held again.
type item struct {
	// The first cache line holds what get, DeliveryDone and put touch for
	// every deliver_sm, the second what the rest of its life does, the
	// last two what only retries and the hold store need: an item is 256
	// bytes and chunks are page-aligned, so each starts a cache line
	// (TestItemLayout). A receipt's item is cold when its response
	// comes, often on another core: every line touched is a miss.
	d        engine.Delivery
	gen      uint32
	idx      int32
	systemID string

	key      storage.HeldKey // the key of the item's held copy while it is leased from the store (0 otherwise)
	id       msg.ID          // receipted id (receipts); 0 for MO
	expires  int64           // Unix ns: creation + HoldLifetime
	attempts int             // deliveries tried
	buf      []byte          // the encoded deliver_sm, header included; d.Body is buf[16:]
	kind     storage.HeldKind

	itemCold
	_ [itemPad]byte
}

// itemCold is the part of an item only retries, waits and the hold store
// touch.
type itemCold struct {
	next *item // retry inbox and wait queue link; nil whenever the item is in neither
	due  int64 // Unix ns of the next retry, set before the item goes to the retry inbox
	// held is Hold's argument, in the slab so passing it does not
	// allocate; zero between calls.
	held storage.Held
}

// itemSize is four cache lines: two for the hot fields, then itemCold and
// the padding.
const (
	itemSize = 256
	itemPad  = itemSize - 128 - unsafe.Sizeof(itemCold{})
)

// maxItemBuf is the largest buffer an item keeps when it is recycled
// (a deliver_sm with a long reassembled message_payload goes to the GC).
const maxItemBuf = 8 << 10

// slabChunk items are allocated at a time; slots never move.
const slabChunk = 256

// slab holds every item. get and put take mu; byRef does not (it runs on
// an event loop for every deliver_sm_resp): the chunk list it reads is
// replaced whole under mu when it grows, and the item a Ref names belongs
// to the caller, handed over after get wrote its generation.
type slab struct {
	mu     sync.Mutex
	chunks atomic.Pointer[[]*[slabChunk]item]
	free   []int32
	live   int
	// Counted under mu, which get and put hold anyway: an atomic counter
	// of their own, written by connector goroutines and event loops alike
	// for every receipt, was a cache line passed between cores each time.
	rcptMade, rcptDelivered, moDelivered uint64
}

// get returns a cleared item with a fresh Ref.
func (s *slab) get() *item { return s.take(nil) }

// getReceipt is get for a receipt being built (counted as generated;
// putUnbuilt takes the count back when its encoding fails).
func (s *slab) getReceipt() *item { return s.take(&s.rcptMade) }

// take is get, adding one to count (when not nil) under mu.
func (s *slab) take(count *uint64) *item {
	s.mu.Lock()
	if len(s.free) == 0 {
		s.grow()
	}
	i := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	s.live++
	if count != nil {
		*count++
	}
	it := &(*s.chunks.Load())[i/slabChunk][i%slabChunk]
	it.gen++
	it.idx = i
	it.d.Ref = uint64(it.gen)<<32 | uint64(uint32(i))
	s.mu.Unlock()
	return it
}

// grow adds a chunk; the caller holds mu.
func (s *slab) grow() {
	c := new([slabChunk]item)
	var old []*[slabChunk]item
	if p := s.chunks.Load(); p != nil {
		old = *p
	}
	base := int32(len(old) * slabChunk)
	chunks := append(old[:len(old):len(old)], c) // a new array: byRef may be reading the old one
	s.chunks.Store(&chunks)
	for j := slabChunk - 1; j >= 0; j-- {
		s.free = append(s.free, base+int32(j))
	}
}

// put recycles it; nothing may touch it afterwards.
func (s *slab) put(it *item) { s.release(it, nil, 0) }

// putDelivered is put for an item its ESME acknowledged ESME_ROK
// (counted as a receipt or an MO delivered).
func (s *slab) putDelivered(it *item) {
	if it.kind == storage.HeldMO {
		s.release(it, &s.moDelivered, 1)
	} else {
		s.release(it, &s.rcptDelivered, 1)
	}
}

// putUnbuilt is put for a getReceipt item whose encoding failed.
func (s *slab) putUnbuilt(it *item) { s.release(it, &s.rcptMade, ^uint64(0)) }

// release is put, adding add to count (when not nil) under mu.
func (s *slab) release(it *item, count *uint64, add uint64) {
	buf := it.buf[:0]
	if cap(buf) > maxItemBuf {
		buf = nil
	}
	// Only the first two cache lines are cleared: next and held are
	// already zero (the lists unlink, Hold's callers clear held) and due
	// is set before it is read, so the cold lines stay unwritten.
	it.d = engine.Delivery{}
	it.systemID = ""
	it.key, it.id, it.expires, it.attempts, it.buf, it.kind = 0, 0, 0, 0, buf, 0
	s.mu.Lock()
	s.free = append(s.free, it.idx)
	s.live--
	if count != nil {
		*count += add
	}
	s.mu.Unlock()
}

// counts returns the receipts generated and delivered and the MO
// delivered so far.
func (s *slab) counts() (rcptMade, rcptDelivered, moDelivered uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcptMade, s.rcptDelivered, s.moDelivered
}

// byRef finds the item a Delivery.Ref names; nil if stale or unknown.
func (s *slab) byRef(ref uint64) *item {
	i, gen := int32(uint32(ref)), uint32(ref>>32)
	p := s.chunks.Load()
	if p == nil || i < 0 || int(i) >= len(*p)*slabChunk {
		return nil
	}
	if it := &(*p)[i/slabChunk][i%slabChunk]; it.gen == gen {
		return it
	}
	return nil
}

// inUse is the number of items not in the free list.
func (s *slab) inUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}

// newItem returns an item for systemID whose lifetime starts now; a
// receipt is counted as generated (putUnbuilt takes that back).
func (h *Service) newItem(systemID string, kind storage.HeldKind, id msg.ID, now time.Time) *item {
	var it *item
	if kind == storage.HeldReceipt {
		it = h.items.getReceipt()
	} else {
		it = h.items.get()
	}
	it.systemID, it.kind, it.id = systemID, kind, id
	it.expires = now.UnixNano() + int64(h.opts.HoldLifetime)
	return it
}

// leasedItem returns an item for a held copy a lease handed out: the
// body as stored, laid out as setBody lays it (the header room is unused:
// the engine writes its own header before Body).
func (h *Service) leasedItem(l *storage.Held) *item {
	it := h.items.get()
	it.systemID, it.kind, it.id, it.key = l.SystemID, l.Kind, l.ID, l.Key
	it.expires, it.attempts = l.Expires, l.Attempts
	it.buf = append(append(it.buf[:0], make([]byte, codec.HeaderLen)...), l.Body...)
	it.d.Body = it.buf[codec.HeaderLen:]
	h.leased.Add(1)
	return it
}

// done ends an item that was delivered, refused for good or expired: its
// held copy, if it came from the store, is acknowledged (so it is not
// offered again), and it goes back to the slab.
func (h *Service) done(it *item) {
	if it.key != 0 {
		h.ack(it)
	}
	h.items.put(it)
}

// ack removes it's held copy from the store (done's rare case, out of line).
func (h *Service) ack(it *item) {
	h.noteStore(h.holds.Ack(it.key), "ack", it.id)
	h.leased.Add(-1)
}

// setBody encodes p as a deliver_sm into it's buffer.
func (it *item) setBody(p *codec.SM) error {
	var err error
	it.buf, err = p.Append(it.buf[:0], codec.Header{CommandID: codec.DeliverSMID})
	if err != nil {
		return err
	}
	it.d.Body = it.buf[codec.HeaderLen:]
	return nil
}

// outcome is what dispatch did with an item.
type outcome uint8

const (
	sent    outcome = iota // the engine took it
	held                   // no receiver bound: held
	busy                   // every receiver of the user was full: waiting for room
	dropped                // the hold store or the waiting backlog was full (counted, logged)
	full                   // offer only: no receiver bound and the hold store refused an acknowledged item, which the caller keeps
)

// dispatch hands it to a bound receiver of its user, holds it when there
// is none (or no engine yet), or, when every receiver of the user is full,
// queues it for the background goroutine to offer again as soon as room
// frees. The item belongs to whoever took it afterwards. Its source was
// answered already: when the hold store refuses it (past MaxWaiting, or
// with no receiver bound) it waits in memory all the same (counted,
// logged), so a busy or absent ESME costs memory, never its receipt; the
// user's receipt backlog (runBacklog) slows the MT that would outgrow it.
func (h *Service) dispatch(it *item, now time.Time) outcome {
	o, err := h.offer(it, false)
	switch o {
	case busy:
		if !h.awaitRoom(it, true, false) {
			return dropped
		}
	case full:
		h.waitOver(it, err)
		h.queueWaiting(it, false)
		return held
	}
	return o
}

// dispatchRefusable is dispatch for an item whose source has not been
// answered yet (an MO its connector acknowledges after this call): when
// the hold store refuses it, it is dropped (counted, logged) and the
// caller asks its upstream to send it again.
func (h *Service) dispatchRefusable(it *item, now time.Time) outcome {
	o, _ := h.offer(it, true)
	if o == busy && !h.awaitRoom(it, true, true) {
		return dropped
	}
	return o
}

// offer tries the engine once: sent, held (no receiver bound), or busy
// (every receiver's window and queue full; the caller keeps it). With no
// receiver bound an item is held; when the store refuses it, a refusable
// or leased one is dropped (hold), any other is kept for the caller
// (full, with the store's error).
func (h *Service) offer(it *item, refusable bool) (outcome, error) {
	out := h.deliverer()
	if out == nil {
		return h.holdOrKeep(it, refusable)
	}
	user := it.systemID
	epoch := h.binds.epoch.Load()
	switch err := out.Deliver(user, &it.d); err {
	case nil:
		return sent, nil
	case engine.ErrNoSession, engine.ErrNotRunning:
		if o, err := h.holdOrKeep(it, refusable); o != held {
			return o, err
		}
		// A receiver that bound between Deliver and Hold found nothing to
		// release: look again.
		if h.binds.epoch.Load() != epoch {
			h.binds.add(user)
			h.bg.poke()
		}
		return held, nil
	default:
		return busy, nil
	}
}

// holdOrKeep is hold for a refusable or leased item; any other the store
// refuses stays the caller's (full).
func (h *Service) holdOrKeep(it *item, refusable bool) (outcome, error) {
	if refusable || it.key != 0 {
		return h.hold(it), nil
	}
	if err := h.holdCopy(it); err != nil {
		return full, err
	}
	return held, nil
}

// awaitRoom queues it behind its user's other waiting deliveries: back-pressure
// from a busy ESME is not a failure, so no attempt is counted and no
// backoff applies; the background goroutine offers it again when a
// response frees room (DeliveryDone pokes it) or after waitRetry. Past
// MaxWaiting it goes to the hold store instead (bounded too), from which
// runWaiting takes it back when the user's queue has drained. When that
// store refuses it too, a refusable item is dropped (counted, logged;
// false) for its source to send again; any other was acknowledged to its
// source already and waits past MaxWaiting (counted, logged): what bounds
// those is the MT admission a user's backlog switches on (Options.Backlog).
func (h *Service) awaitRoom(it *item, backpressure, refusable bool) bool {
	if h.bg.waitingNow.Load() >= int64(h.opts.MaxWaiting) {
		h.stats.waitFull.Add(1)
		o, err := h.holdOrKeep(it, refusable)
		if o != full {
			return o != dropped
		}
		h.waitOver(it, err)
	}
	h.queueWaiting(it, backpressure)
	return true
}

// queueWaiting hands it to the background goroutine's wait queues
// (counted as back-pressure when it is).
func (h *Service) queueWaiting(it *item, backpressure bool) {
	if backpressure {
		h.stats.waited.Add(1)
	}
	h.bg.waitingNow.Add(1)
	h.waiting.push(it)
	h.bg.poke()
}

// waitOver counts and logs an acknowledged item that waits in memory
// because the hold store refused it (past MaxWaiting, or with no receiver
// bound).
func (h *Service) waitOver(it *item, err error) {
	h.stats.waitOver.Add(1)
	if !errors.Is(err, storage.ErrHeldFull) {
		h.noteStore(err, "hold", it.id)
	}
	if e := h.event(&h.warn.waitOver, zerologWarn); e != nil {
		e.Str("system_id", it.systemID).Str("kind", kindName(it.kind)).Err(err).
			Int64("waiting", h.bg.waitingNow.Load()).Uint64("over_total", h.stats.waitOver.Load()).
			Msg("the hold store refused a delivery acknowledged to its source: it waits in memory all the same")
	}
}

// hold puts it in the hold store: a copy (counted as held), or, for an
// item leased from the store, its copy given back in place. A copy a full
// or failing store refuses is dropped here (counted, logged): callers pass
// only refusable items, whose source is told and sends them again
// (holdOrKeep). Either way the item goes back to the slab.
func (h *Service) hold(it *item) outcome {
	kind, user := it.kind, it.systemID
	if it.key != 0 {
		err := h.holds.Release(it.key, it.attempts)
		h.leased.Add(-1)
		h.items.put(it)
		if err != nil {
			h.noteStore(err, "release", it.id)
			return dropped
		}
		return held
	}
	id := it.id
	if err := h.holdCopy(it); err != nil {
		h.items.put(it)
		h.stats.heldFull.Add(1)
		if !errors.Is(err, storage.ErrHeldFull) {
			h.noteStore(err, "hold", id)
		}
		if e := h.event(&h.warn.heldFull, zerologError); e != nil {
			e.Str("system_id", user).Str("kind", kindName(kind)).Err(err).
				Uint64("dropped_total", h.stats.heldFull.Load()).Msg("hold store full or failing: item refused to its source")
		}
		return dropped
	}
	return held
}

// holdCopy puts a copy of it (not leased: key 0) in the hold store and
// recycles it (counted as held); on an error it keeps it for the caller.
func (h *Service) holdCopy(it *item) error {
	it.held = storage.Held{SystemID: it.systemID, Kind: it.kind, ID: it.id, Body: it.d.Body, Expires: it.expires, Attempts: it.attempts}
	_, err := h.holds.Hold(&it.held)
	it.held = storage.Held{}
	if err != nil {
		return err
	}
	if it.kind == storage.HeldMO {
		h.stats.moHeld.Add(1)
	} else {
		h.stats.rcptHeld.Add(1)
	}
	h.items.put(it)
	return nil
}

// DeliveryDone implements engine.DeliverySink (on an event loop): ESME_ROK
// completes the item, ESME_RX_P_APPN drops it for good, a full queue or a
// closed session offers it again at once (awaitRoom), anything else (an error
// status, no response after the engine's attempts) retries it after a
// backoff within its lifetime.
func (h *Service) DeliveryDone(d *engine.Delivery, status codec.Status, err error) {
	it := h.items.byRef(d.Ref)
	if it == nil {
		return
	}
	if h.bg.waitingNow.Load() > 0 {
		h.bg.poke() // a slot freed (or a session went): offer what waits
	}
	switch {
	case errors.Is(err, engine.ErrQueueFull), errors.Is(err, engine.ErrSessionGone):
		// Not the ESME's failure: the session filled up or closed with it
		// queued. Offer it again (another bind, or the hold store).
		h.awaitRoom(it, errors.Is(err, engine.ErrQueueFull), false)
	case err == nil && status == codec.StatusOK:
		if h.opts.Delivered != nil {
			h.opts.Delivered(it.systemID, it.kind == storage.HeldMO)
		}
		if it.key != 0 {
			h.ack(it)
		}
		h.items.putDelivered(it) // done, counting it
	case err == nil && status == codec.StatusXPAppn:
		h.stats.failedPermanent.Add(1)
		if e := h.event(&h.warn.permanent, zerologWarn); e != nil {
			e.Str("system_id", it.systemID).Str("kind", kindName(it.kind)).
				Uint64("failed_total", h.stats.failedPermanent.Load()).
				Msg("deliver_sm refused permanently (ESME_RX_P_APPN): dropped")
		}
		h.done(it)
	default:
		h.retryLater(it, h.now().UnixNano())
	}
}

// retryLater schedules it after the backoff for its attempt count, or
// expires it when that falls beyond its lifetime.
func (h *Service) retryLater(it *item, now int64) {
	it.attempts++
	due := now + int64(h.backoff(it.attempts))
	if due >= it.expires {
		h.expire(it)
		return
	}
	it.due = due
	h.stats.retried.Add(1)
	h.retries.push(it)
	h.bg.poke()
}

// backoff is RetryMin doubled per attempt after the first, up to RetryMax.
func (h *Service) backoff(attempt int) time.Duration {
	d := h.opts.RetryMin
	for i := 1; i < attempt && d < h.opts.RetryMax; i++ {
		d *= 2
	}
	return min(d, h.opts.RetryMax)
}

// expire drops an item whose lifetime ended (counted, logged).
func (h *Service) expire(it *item) {
	if it.kind == storage.HeldMO {
		h.stats.moExpired.Add(1)
	} else {
		h.stats.rcptExpired.Add(1)
	}
	if e := h.event(&h.warn.expired, zerologWarn); e != nil {
		e.Str("system_id", it.systemID).Str("kind", kindName(it.kind)).Int("attempts", it.attempts).
			Uint64("mo_expired_total", h.stats.moExpired.Load()).
			Uint64("receipts_expired_total", h.stats.rcptExpired.Load()).
			Msg("delivery lifetime over: dropped")
	}
	h.done(it)
}

func kindName(k storage.HeldKind) string {
	if k == storage.HeldMO {
		return "mo"
	}
	return "receipt"
}

// retryInbox carries items from DeliveryDone (event loops) and dispatch to
// the background goroutine: an intrusive list under a mutex held for a few
// instructions, so no loop waits on the goroutine's work.
type retryInbox struct {
	mu         sync.Mutex
	head, tail *item
}

func (q *retryInbox) push(it *item) {
	it.next = nil
	q.mu.Lock()
	if q.tail == nil {
		q.head = it
	} else {
		q.tail.next = it
	}
	q.tail = it
	q.mu.Unlock()
}

// takeAll empties the inbox and returns its first item (linked by next).
func (q *retryInbox) takeAll() *item {
	q.mu.Lock()
	h := q.head
	q.head, q.tail = nil, nil
	q.mu.Unlock()
	return h
}
