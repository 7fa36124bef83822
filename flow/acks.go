package flow

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Responder answers deferred MT requests (*engine.Server).
type Responder interface {
	Respond(tok engine.SubmitToken, st codec.Status, messageID []byte) error
}

// acks holds the submit answers that wait for the store's commit. With a
// store that syncs before it acknowledges (sync = "always"), a submit whose
// writes are not on disk yet is answered later: the event loop pushes
// (token, id, position, messages) onto a preallocated FIFO and returns
// Deferred; the store calls onCommit after each group commit, which answers
// every entry at or below the committed position, in order. A slot is
// reserved before the submit takes anything, so a deferred answer always
// finds room, and nothing on this path allocates.
//
// The accepted messages wait in the same entries and go to their
// connectors only after their answer was posted (handOff): a connector
// that reports at once (the simulator with receipt_delay 0, a fast
// upstream) then cannot make a receipt reach the submitting session before
// the submit_sm_resp that carries its id, and nothing goes upstream before
// it is on disk.
//
// The FIFO has one consumer at a time (mu): onCommit on the store's
// goroutine when it finds mu free, otherwise the answerer goroutine, which
// also retries answers an event loop had no room for.
type acks struct {
	h     *Hub
	c     storage.Committer // nil: nothing is ever deferred
	q     ackFIFO
	limit int64
	out   atomic.Pointer[responderRef]
	wake  chan struct{} // one token: the answerer goroutine has work
	// quiet: a hand-off left a helped connector's worker asleep (mu);
	// helpc then asks the helper to make sure it is helped (handoff.go).
	quiet bool
	helpc chan struct{}

	reserved  atomic.Int64  // slots taken by submits in progress and queued answers
	committed atomic.Uint64 // the latest position onCommit reported

	mu      sync.Mutex   // the FIFO's consumer side
	got     []pendingAck // popped in one batch, answered from gi on (mu)
	gi      int
	id      [msg.HexLen]byte // mu
	stopped bool             // mu: stop let the queued messages go

	quit, done chan struct{}
	helped     chan struct{} // the helper goroutine ended
	stopOnce   sync.Once

	// answered counts the answers drain posted, added once per batch
	// (the deferred ones are the FIFO's pushed): per message, the event
	// loops and the store's goroutine share no counter but reserved.
	answered, full atomic.Uint64
	overflow       atomic.Uint64 // hand-offs whose connector had no room: held in later
}

type responderRef struct{ r Responder }

// pendingAck is one deferred answer and the message it hands over after
// it, or (ans false) a further destination of the same submit_multi.
type pendingAck struct {
	tok engine.SubmitToken
	id  msg.ID
	pos uint64
	m   *msg.Message // nil: nothing to hand over (held for its schedule)
	ans bool
}

// ackBatch is the most deferred answers drain takes from the FIFO under
// one hold of its lock, which the event loops' pushes share: a commit
// answers hundreds.
const ackBatch = 256

// DefaultMaxDeferred bounds the answers waiting for a commit when
// Options.MaxDeferred is 0.
const DefaultMaxDeferred = 1 << 16

// answerPauseMax is the longest pause between tries of an answer whose
// event loop's inbox was full.
const answerPauseMax = 10 * time.Millisecond

func (a *acks) init(h *Hub, c storage.Committer, max int) error {
	a.h = h
	if c == nil {
		return nil
	}
	if max <= 0 {
		max = DefaultMaxDeferred
	}
	a.q.init(max)
	a.got = make([]pendingAck, 0, ackBatch)
	a.c, a.limit, a.wake = c, int64(max), make(chan struct{}, 1)
	a.helpc = make(chan struct{}, 1)
	a.quit, a.done, a.helped = make(chan struct{}), make(chan struct{}), make(chan struct{})
	a.committed.Store(c.Committed())
	c.OnCommit(a.onCommit)
	return nil
}

// attach sets who answers (two-phase wiring: the engine is built after the
// hub).
func (a *acks) attach(r Responder) {
	if r == nil {
		a.out.Store(nil)
		return
	}
	a.out.Store(&responderRef{r: r})
}

// reserve takes room for a deferred answer and its n messages (n ≥ 1:
// one per destination) before a submit takes anything; false when the
// FIFO is full (the submit is refused).
func (a *acks) reserve(n int) bool {
	if a.c == nil {
		return true
	}
	if a.reserved.Add(int64(n)) > a.limit {
		a.reserved.Add(-int64(n))
		a.full.Add(1)
		return false
	}
	return true
}

// unreserve gives back n reserved slots the submit did not use.
func (a *acks) unreserve(n int) {
	if a.c != nil && n > 0 {
		a.reserved.Add(-int64(n))
	}
}

// collects reports whether a submit's messages wait for its answer
// (deferAnswer) instead of going to their connectors at once.
func (a *acks) collects() bool { return a.c != nil }

// deferAnswer decides, after a submit's writes, whether its answer must
// wait: true when they are not durable yet, with the answer and the
// messages to hand over after it (hands, at most n) queued on the
// reservation of n; false, with the reservation given back, when they are
// (the caller hands them over itself).
func (a *acks) deferAnswer(tok engine.SubmitToken, id msg.ID, hands []*msg.Message, n int) bool {
	if a.c == nil {
		return false
	}
	w := a.c.Written()
	if w <= a.c.Committed() {
		a.reserved.Add(-int64(n))
		return false
	}
	a.unreserve(n - max(1, len(hands)))
	a.q.pushAnswer(tok, id, w, hands) // reserved: never full
	// A commit that covered w before the push found nothing to answer.
	if a.committed.Load() >= w {
		a.ring()
	}
	return true
}

// onCommit is the store's callback after each commit, on its goroutine:
// it answers what the commit made durable unless the answerer goroutine
// holds the FIFO (it then only wakes it). It never blocks.
func (a *acks) onCommit(committed uint64) {
	a.committed.Store(committed)
	if a.reserved.Load() == 0 {
		return
	}
	if !a.mu.TryLock() {
		a.ring()
		return
	}
	stuck := a.drain()
	a.afterDrain()
	a.mu.Unlock()
	if stuck {
		a.ring()
	}
}

// ring wakes the answerer goroutine without blocking.
func (a *acks) ring() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// start runs the answerer and the helper goroutines.
func (a *acks) start() {
	if a.c != nil {
		go a.run()
		go a.helper()
	}
}

// stop ends the answerer goroutine. Answers still queued are not sent:
// the engine has closed its sessions by then. Their messages are let go:
// their records and bodies stay in the store (committed by its close), so
// the next start sends them.
func (a *acks) stop() {
	if a.c == nil {
		return
	}
	a.stopOnce.Do(func() { close(a.quit) })
	<-a.done
	<-a.helped
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return
	}
	a.stopped = true
	for {
		for _, p := range a.got[a.gi:] {
			if p.m != nil {
				a.h.letGo(p.m)
			}
		}
		a.got, a.gi = a.q.popBatch(a.got[:0]), 0
		if len(a.got) == 0 {
			return
		}
	}
}

// run answers what onCommit left: an answer an event loop could not take
// (its inbox full), or a commit that found the FIFO busy.
func (a *acks) run() {
	defer close(a.done)
	for {
		select {
		case <-a.quit:
			return
		case <-a.wake:
		}
		pause := 50 * time.Microsecond
		for {
			a.mu.Lock()
			stuck := a.drain()
			a.afterDrain()
			a.mu.Unlock()
			if !stuck {
				break
			}
			t := time.NewTimer(pause)
			select {
			case <-a.quit:
				t.Stop()
				return
			case <-t.C:
			}
			pause = min(2*pause, answerPauseMax)
		}
	}
}

// drain answers queued entries in order while they are committed, each
// entry's message going to its connector after its answer; true when it
// stopped at an answer the event loop could not take now. mu held.
func (a *acks) drain() (stuck bool) {
	ref := a.out.Load()
	if a.stopped {
		return false
	}
	// The entries done and answers posted, given back to reserved and
	// added to answered once a popped batch (at most ackBatch), not once
	// an entry: a commit answers hundreds, and reserved's line is the one
	// every submit's reserve writes.
	var done, answered int64
	settle := func() {
		if done > 0 {
			a.reserved.Add(-done)
			done = 0
		}
		if answered > 0 {
			a.answered.Add(uint64(answered))
			answered = 0
		}
	}
	defer settle()
	for {
		if a.gi == len(a.got) {
			settle()
			a.got, a.gi = a.q.popBatch(a.got[:0]), 0
			if len(a.got) == 0 {
				return false
			}
		}
		h := &a.got[a.gi]
		if h.pos > a.committed.Load() {
			return false // the next commit covers it
		}
		if h.ans {
			if ref == nil {
				return false // answers wait for Attach; a direct submit's messages behind them too
			}
			err := ref.r.Respond(h.tok, codec.StatusOK, h.id.AppendHex(a.id[:0]))
			if errors.Is(err, engine.ErrQueueFull) {
				return true // its message waits with it
			}
			// Another error is a token whose session is gone: nothing to
			// answer, but the message is accepted and on disk: it goes.
			answered++
		}
		if h.m != nil {
			a.handOff(h.m)
		}
		*h = pendingAck{}
		a.gi++
		done++
	}
}

// handOff gives m, answered, to its connector (handoff.go). mu held.
func (a *acks) handOff(m *msg.Message) {
	if a.h.handQuiet(m) {
		a.quiet = true
		return
	}
	if !a.h.later.hand(m) {
		a.h.handLater(m)
	}
}

// afterDrain asks the helper to check on the workers left asleep by this
// drain's hand-offs. mu held.
func (a *acks) afterDrain() {
	if !a.quiet {
		return
	}
	a.quiet = false
	select {
	case a.helpc <- struct{}{}:
	default:
	}
}

// helpDelay is how long the helper lets the event loops help a connector
// fed by the hand-offs (EndTurn, at the end of their next turn) before it
// helps it itself: only a quiet server's last messages wait that long.
const helpDelay = 200 * time.Microsecond

// helper makes sure every connector a hand-off fed quietly is helped: the
// event loops do it at the end of their turns while submits arrive; after
// the last ones, the helper does, helpDelay later.
func (a *acks) helper() {
	defer close(a.helped)
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-a.quit:
			return
		case <-a.helpc:
		}
		t.Reset(helpDelay)
		select {
		case <-a.quit:
			t.Stop()
			return
		case <-t.C:
		}
		a.h.EndTurn()
	}
}

// deferredTotal is the number of answers ever deferred.
func (a *acks) deferredTotal() uint64 {
	if a.c == nil {
		return 0
	}
	return a.q.answers()
}

// waiting is the number of answers queued for a commit now (a drain in
// progress counts its batch until it ends).
func (a *acks) waiting() int {
	if a.c == nil {
		return 0
	}
	return int(a.q.answers() - a.answered.Load())
}

// ackFIFO is the deferred answers in arrival order: a ring under a mutex
// held for a copy (event loops push one each; the consumer pops a batch).
// Pushes never find it full: acks.reserve bounds what is in it, max.
// The ring starts at ackFIFOFirst slots and doubles when they are all
// taken, so it is as large as answers have waited at once (6,400 at
// 64 × 100), not max (65,536 × 64 B by default: an array with pointers is
// read whole by the collector's scans, which makes every page resident).
type ackFIFO struct {
	mu         sync.Mutex
	buf        []pendingAck
	head, size int
	max        int
	pushed     uint64 // answers pushed, ever (mu)
}

// ackFIFOFirst is the ring's first size.
const ackFIFOFirst = 1024

func (q *ackFIFO) init(n int) { q.buf, q.max = make([]pendingAck, min(ackFIFOFirst, n)), n }

// pushAnswer queues the answer (tok, id) at position pos, then each of
// hands after it, in one hold of the lock (a submit_multi's entries stay
// together).
func (q *ackFIFO) pushAnswer(tok engine.SubmitToken, id msg.ID, pos uint64, hands []*msg.Message) {
	q.mu.Lock()
	q.pushed++
	v := pendingAck{tok: tok, id: id, pos: pos, ans: true}
	if len(hands) > 0 {
		v.m = hands[0]
	}
	q.put(v)
	for i := 1; i < len(hands); i++ {
		q.put(pendingAck{id: id, pos: pos, m: hands[i]})
	}
	q.mu.Unlock()
}

// answers is the number of answers ever pushed.
func (q *ackFIFO) answers() uint64 {
	q.mu.Lock()
	n := q.pushed
	q.mu.Unlock()
	return n
}

// put appends v; mu held.
func (q *ackFIFO) put(v pendingAck) {
	if q.size == len(q.buf) && q.size < q.max {
		q.grow()
	}
	q.buf[(q.head+q.size)%len(q.buf)] = v
	q.size++
}

// grow moves the entries, oldest first, into a ring twice the size (up to
// max). mu held.
func (q *ackFIFO) grow() {
	b := make([]pendingAck, min(2*len(q.buf), q.max))
	k := copy(b, q.buf[q.head:min(q.head+q.size, len(q.buf))])
	copy(b[k:], q.buf[:q.size-k])
	q.buf, q.head = b, 0
}

// popBatch appends to dst the oldest entries, as many as dst has room
// for, and removes them.
func (q *ackFIFO) popBatch(dst []pendingAck) []pendingAck {
	q.mu.Lock()
	n := min(q.size, cap(dst)-len(dst))
	for range n {
		dst = append(dst, q.buf[q.head])
		q.buf[q.head] = pendingAck{}
		if q.head++; q.head == len(q.buf) {
			q.head = 0
		}
	}
	q.size -= n
	q.mu.Unlock()
	return dst
}
