package flow

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/msg"
)

// later holds messages that are accepted and stored but not yet handed to
// a connector: far-future scheduled ones (with Options.Durable, a
// schedule_delivery_time beyond the horizon), which would otherwise sit in
// a connector's bounded queue, shared with every other user, for hours;
// and messages re-driven at start (Redrive) while their connector has no
// room. One goroutine hands each over when it is due or, when its
// connector's queue is full, again shortly after.
//
// A message here is in the live index (cancel_sm and replace_sm act on
// it as on a queued one: the connector reports a cancelled one DELETED)
// and its charge stays boxed. At Stop the messages are let go: their
// records and bodies stay in the durable store, so the next start re-drives
// them.
type later struct {
	h       *Hub
	horizon int64
	max     int64

	mu    sync.Mutex
	items laterHeap
	n     atomic.Int64 // far-future items held (bounded by max)

	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	started atomic.Bool
	once    sync.Once

	scheduled, handed, retried atomic.Uint64
}

// Defaults of Options.ScheduleHorizon and Options.MaxScheduled.
const (
	DefaultScheduleHorizon = 5 * time.Minute
	DefaultMaxScheduled    = 100_000
)

// laterRetry is how soon a message whose connectors were all full is
// offered again.
const laterRetry = 20 * time.Millisecond

// laterItem is one message, or one receipt re-driven from the store, and
// when it is due (Unix ns).
type laterItem struct {
	due     int64
	m       *msg.Message
	rc      *msg.Receipt // instead of m: a recovered outcome's receipt
	counted bool         // against max (a far-future submit, not a re-drive)
}

func (l *later) init(h *Hub, horizon time.Duration, max int) {
	if horizon <= 0 {
		horizon = DefaultScheduleHorizon
	}
	if max <= 0 {
		max = DefaultMaxScheduled
	}
	l.h, l.horizon, l.max = h, int64(horizon), int64(max)
	l.wake = make(chan struct{}, 1)
	l.quit, l.done = make(chan struct{}), make(chan struct{})
}

// farFuture reports whether a message scheduled at schedule should wait
// here rather than in its connector's queue.
func (l *later) farFuture(schedule, now int64) bool {
	return l.h.opts.Durable && schedule > now+l.horizon
}

// reserve counts one far-future message against the bound; false when it
// is reached (the submit is refused).
func (l *later) reserve() bool {
	if l.n.Add(1) > l.max {
		l.n.Add(-1)
		return false
	}
	return true
}

// unreserve gives back a reservation that was not used.
func (l *later) unreserve() { l.n.Add(-1) }

// add holds m until due; counted says it was reserved.
func (l *later) add(m *msg.Message, due int64, counted bool) {
	l.mu.Lock()
	l.items.push(laterItem{due: due, m: m, counted: counted})
	first := l.items[0].m == m
	l.mu.Unlock()
	if counted {
		l.scheduled.Add(1)
	}
	if first {
		l.poke()
	}
}

// addReceipt sends rc at due (a recovered outcome decided at acceptance).
func (l *later) addReceipt(rc *msg.Receipt, due int64) {
	l.mu.Lock()
	l.items.push(laterItem{due: due, rc: rc})
	l.mu.Unlock()
	l.poke()
}

func (l *later) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// len is the number of messages held.
func (l *later) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items)
}

func (l *later) start() {
	if l.started.CompareAndSwap(false, true) {
		go l.run()
	}
}

// stop ends the goroutine and lets every held message go: its record and
// body stay in the store for the next start.
func (l *later) stop() {
	if l.started.Load() {
		l.once.Do(func() { close(l.quit) })
		<-l.done
	}
	l.mu.Lock()
	items := l.items
	l.items = nil
	l.mu.Unlock()
	for _, it := range items {
		if it.m != nil {
			l.release(it)
		}
	}
}

// release lets go of a message that stays in the store.
func (l *later) release(it laterItem) {
	h := l.h
	h.live.remove(it.m)
	h.dropCharge(it.m)
	h.pullSettled(it.m.ID, true) // a pulled one goes back to its shared queue
	if it.counted {
		l.n.Add(-1)
	}
	it.m.Release()
}

func (l *later) run() {
	defer close(l.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		wait := l.step(l.h.now().UnixNano())
		t.Reset(wait)
		select {
		case <-l.quit:
			return
		case <-l.wake:
		case <-t.C:
		}
	}
}

// step hands over every message due at now and returns how long to sleep.
func (l *later) step(now int64) time.Duration {
	for {
		l.mu.Lock()
		if len(l.items) == 0 {
			l.mu.Unlock()
			return time.Minute
		}
		if d := l.items[0].due - now; d > 0 {
			l.mu.Unlock()
			return time.Duration(d)
		}
		it := l.items.pop()
		l.mu.Unlock()
		if it.rc != nil {
			l.h.Receipt(it.rc)
			continue
		}
		if e := it.m.Expires; e != 0 && e <= now {
			// Its validity ended while it waited: failed here as a
			// connector fails it (state, refund, receipt).
			if it.counted {
				l.n.Add(-1)
			}
			l.h.Failed(it.m, 0, msg.StateExpired)
			it.m.Release()
			continue
		}
		if !l.hand(it.m) {
			l.retried.Add(1)
			it.due = now + int64(laterRetry)
			l.mu.Lock()
			l.items.push(it)
			l.mu.Unlock()
			continue
		}
		if it.counted {
			l.n.Add(-1)
		}
		l.handed.Add(1)
	}
}

// hand submits m to its connector; false when its queue is full or it is
// stopped (m stays here and is offered again). No failover: the record
// names this connector, and cancel_sm and replace_sm go where it says.
// A removed connector's message is routed again first (connset.go); one
// no route takes any more fails as undeliverable (true: it is gone).
func (l *later) hand(m *msg.Message) bool {
	h := l.h
	s := h.cs()
	c := m.Connector
	if s.has(c) && s.removed[c] {
		if !h.routeLater(m) {
			return true
		}
		s, c = h.cs(), m.Connector
	}
	if h.spilling(c) && h.spillOff(m, true) {
		return true
	}
	return s.has(c) && s.conns[c].Submit(m)
}

// laterHeap orders items by due time (a binary min-heap).
type laterHeap []laterItem

func (q *laterHeap) push(it laterItem) {
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

func (q *laterHeap) pop() laterItem {
	s := *q
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = laterItem{}
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
