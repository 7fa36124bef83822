package webhook

import (
	"net/url"
	"strconv"
	"time"

	"github.com/smppd/smppd/storage"
)

// leaseSlack is how long past its expiry a callback's lease runs: the
// service expires its own callbacks, so the store must not offer one
// again meanwhile (it only does for a lease that ran out).
const leaseSlack = time.Hour

// entry is one callback in memory, from Enqueue (or a lease at Start)
// until it is acknowledged. Its held copy is leased to the service the
// whole time.
type entry struct {
	req      Request
	u        *url.URL
	key      storage.HeldKey
	body     []byte // the held Body, for a dead letter
	t        *target
	expires  int64 // Unix ns: creation + HoldLifetime
	due      int64 // Unix ns of the next attempt (waiting for a retry)
	attempts int
}

// target is one scheme://host:port: its callbacks ready to send, and the
// senders working through them (at most MaxPerTarget). Its fields are
// under Service.mu.
type target struct {
	key     string
	ready   fifo
	active  int // sender goroutines
	pending int // its callbacks in memory (ready, in flight, waiting for a retry)
}

// fifo is a queue of entries that reuses its array.
type fifo struct {
	q    []*entry
	head int
}

func (f *fifo) push(e *entry) { f.q = append(f.q, e) }

func (f *fifo) pop() *entry {
	if f.head == len(f.q) {
		return nil
	}
	e := f.q[f.head]
	f.q[f.head] = nil
	f.head++
	if f.head == len(f.q) {
		f.q, f.head = f.q[:0], 0
	} else if f.head > 1024 && f.head*2 > len(f.q) {
		n := copy(f.q, f.q[f.head:])
		clear(f.q[n:])
		f.q, f.head = f.q[:n], 0
	}
	return e
}

// Enqueue keeps r in Holds and sends it: now when its target has a sender
// free, else in turn. It returns ErrBadURL, ErrFull, ErrTargetFull or the
// store's error when the callback cannot be kept (counted, logged, and
// kept as a dead letter when the store takes one), and nil once it is
// held. After Stop it is held for the next Start. r is read during the
// call only.
func (s *Service) Enqueue(r *Request) error {
	now := s.now()
	u, tkey, err := parseTarget(r.URL)
	if err != nil {
		s.refuse(r, nil, "bad_url", err, now)
		return err
	}
	body, err := appendRequest(nil, r)
	if err != nil {
		s.refuse(r, nil, "too_long", err, now)
		return err
	}
	e := &entry{req: *r, u: u, body: body, expires: now.Add(s.opts.HoldLifetime).UnixNano()}
	e.req.Params = body[len(body)-len(r.Params):] // a copy: the tail of body
	h := storage.Held{SystemID: s.queue, Kind: storage.HeldCallback, ID: r.ID, Body: body, Expires: e.expires}
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		if _, err := s.opts.Holds.Hold(&h); err != nil { // unleased: the next Start takes it
			s.refuse(r, body, "store", err, now)
			return err
		}
		return nil
	}
	if err := s.reserve(e, tkey); err != nil {
		s.mu.Unlock()
		reason := "max_pending"
		if err == ErrTargetFull {
			reason = "max_pending_per_target"
		}
		s.refuse(r, body, reason, err, now)
		return err
	}
	s.mu.Unlock()
	h.LeaseUntil = e.expires + int64(leaseSlack)
	key, err := s.opts.Holds.Hold(&h)
	if err != nil {
		s.release(e)
		s.refuse(r, body, "store", err, now)
		return err
	}
	e.key = key
	s.stats.enqueued[kindIndex(r.Kind)].Add(1)
	s.ready(e)
	return nil
}

// reserve counts e against the limits and ties it to its target. Caller
// holds mu.
func (s *Service) reserve(e *entry, tkey string) error {
	if s.pending >= s.opts.MaxPending {
		return ErrFull
	}
	t := s.targets[tkey]
	if t == nil {
		t = &target{key: tkey}
		s.targets[tkey] = t
	}
	if t.pending >= s.opts.MaxPendingPerTarget {
		s.dropIdle(t)
		return ErrTargetFull
	}
	s.pending++
	t.pending++
	e.t = t
	return nil
}

// release undoes reserve, or ends an entry's life in memory: the target
// goes once it has nothing left.
func (s *Service) release(e *entry) {
	s.mu.Lock()
	s.pending--
	e.t.pending--
	s.dropIdle(e.t)
	s.mu.Unlock()
	if s.sched.more.Load() {
		s.sched.poke() // room for a callback still only in the store
	}
}

// dropIdle forgets t when it has nothing in memory. Caller holds mu.
func (s *Service) dropIdle(t *target) {
	if t.pending == 0 && t.active == 0 && s.targets[t.key] == t {
		delete(s.targets, t.key)
	}
}

// ready queues e on its target and starts a sender when one is free.
func (s *Service) ready(e *entry) {
	s.mu.Lock()
	t := e.t
	t.ready.push(e)
	if t.active < s.opts.MaxPerTarget && !s.stopping {
		t.active++
		s.wg.Add(1)
		go s.sender(t)
	}
	s.mu.Unlock()
}

// sender sends t's ready callbacks one after the other until none is
// left (or the service stops: what it has not taken stays held).
func (s *Service) sender(t *target) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		var e *entry
		if !s.stopping {
			e = t.ready.pop()
		}
		if e == nil {
			t.active--
			s.dropIdle(t)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		s.attempt(e)
	}
}

// takeHeld leases the callbacks the store holds beyond those in memory
// (a previous run's), up to MaxPending in memory. It clears sched.more
// once the store has none left to lease.
func (s *Service) takeHeld(now time.Time) {
	var batch [64]storage.Held
	for {
		s.mu.Lock()
		room := s.opts.MaxPending - s.pending
		s.mu.Unlock()
		if room <= 0 {
			return
		}
		dst := batch[:min(room, len(batch))]
		n, err := s.opts.Holds.Lease(s.queue, now.Add(s.opts.HoldLifetime+leaseSlack).UnixNano(), dst)
		if err != nil {
			s.noteStore(err, "lease", now)
			return
		}
		for i := range n {
			s.restore(&dst[i], now)
		}
		if n < len(dst) {
			s.sched.more.Store(false)
			return
		}
	}
}

// restore takes up one leased callback of a previous run.
func (s *Service) restore(h *storage.Held, now time.Time) {
	s.stats.restored.Add(1)
	s.takeUp(h, now)
}

// takeUp puts one leased held callback in memory and sends it (or ends
// it: one that does not decode, or has expired).
func (s *Service) takeUp(h *storage.Held, now time.Time) {
	e := &entry{key: h.Key, body: append([]byte(nil), h.Body...), expires: h.Expires, attempts: h.Attempts}
	err := decodeRequest(h.Body, &e.req)
	var tkey string
	if err == nil {
		e.u, tkey, err = parseTarget(e.req.URL)
	}
	e.req.ID = h.ID
	if err != nil {
		s.ack(e, now)
		s.dead(e, "held callback does not decode: "+err.Error(), now)
		s.stats.permanent[kindIndex(e.req.Kind)].Add(1)
		return
	}
	s.mu.Lock()
	t := s.targets[tkey]
	if t == nil {
		t = &target{key: tkey}
		s.targets[tkey] = t
	}
	s.pending++ // above the per-target bound if need be: it was accepted before
	t.pending++
	e.t = t
	s.mu.Unlock()
	if now.UnixNano() >= e.expires {
		s.expire(e, "expired before the restart", now)
		return
	}
	s.ready(e)
}

// kindIndex maps a Kind to the counters' index.
func kindIndex(k Kind) int {
	if k == KindMO {
		return 1
	}
	return 0
}

// statusText is "HTTP <code>".
func statusText(code int) string { return "HTTP " + strconv.Itoa(code) }
