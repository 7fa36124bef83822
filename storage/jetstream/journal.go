package jetstream

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Errors of the journal's writes.
var (
	// ErrBacklog: more than Options.MaxPending bytes of writes wait for
	// JetStream's acknowledgement (no quorum, a partition, a slow
	// cluster); new submits are refused until it drains.
	ErrBacklog = errors.New("jetstream: journal backlog full (JetStream not acknowledging)")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("jetstream: store closed")
)

// Header names on a journal batch.
const hdrNode = "Smppd-Node"

// journal batches the store's writes and publishes them to the node's
// journal subject asynchronously: appends only copy bytes under a short
// lock; one goroutine publishes whatever accumulated while the previous
// batches were in flight (so under load one JetStream operation carries
// many writes), another waits for the acknowledgements in order and
// advances Committed. It is the store's storage.Committer.
type journal struct {
	js      natsjs.JetStream
	subject string
	node    string
	run     string // this open's unique prefix of the batches' Nats-Msg-Id
	lg      zerolog.Logger

	mu       sync.Mutex
	cur      []byte   // entries not yet sealed
	sealed   [][]byte // full batches waiting to be published
	sealEnd  []uint64 // the position after each sealed batch
	written  uint64   // position after the last append
	closed   bool
	maxBatch int
	maxPend  uint64
	// seen and waitSince (Unix ns, 0 = nothing waits) time how long
	// Committed has not moved while writes wait for it (stalled).
	seen      uint64
	waitSince int64

	committed atomic.Uint64
	onCommit  atomic.Pointer[func(uint64)] // set after the acker started (flow's acks)
	cond      *sync.Cond                   // on mu: WaitCommitted and Close wait on it
	wake      chan struct{}
	flights   chan flight
	stop      chan struct{}
	wg        sync.WaitGroup
	batches   atomic.Uint64 // published (JetStream operations)
	entries   atomic.Uint64 // entries appended
	retries   atomic.Uint64 // batches published again after an error
	raw       atomic.Uint64 // bytes of the batches before compression
	sent      atomic.Uint64 // bytes published (compressed, retries included)
	refused   atomic.Uint64 // appends refused (backlog)
}

// flight is one published batch waiting for its acknowledgement.
type flight struct {
	data []byte
	end  uint64
	id   string
	fut  natsjs.PubAckFuture
	at   time.Time // of the last publish
}

func newJournal(js natsjs.JetStream, subject string, node int, maxPending int64, lg zerolog.Logger) *journal {
	j := &journal{
		js: js, subject: subject, node: strconv.Itoa(node),
		run:      strconv.Itoa(node) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-",
		lg:       lg,
		maxBatch: 1 << 20,
		maxPend:  uint64(maxPending),
		wake:     make(chan struct{}, 1),
		flights:  make(chan flight, maxFlights),
		stop:     make(chan struct{}),
	}
	j.cond = sync.NewCond(&j.mu)
	j.wg.Add(2)
	go j.publisher()
	go j.acker()
	return j
}

// maxFlights bounds the batches published and not yet acknowledged: past
// it the publisher waits, and the next batch grows instead.
const maxFlights = 64

// append adds one entry (kind and payload) and returns the position after
// it. urgent writes (states of accepted messages) may use twice the
// backlog a new message may.
func (j *journal) append(kind byte, payload []byte, urgent bool) (uint64, error) {
	n := 5 + len(payload)
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return 0, ErrClosed
	}
	limit := j.maxPend
	if urgent {
		limit *= 2
	}
	if j.written-j.committed.Load()+uint64(n) > limit {
		j.mu.Unlock()
		j.refused.Add(1)
		return 0, ErrBacklog
	}
	if len(j.cur) > 0 && len(j.cur)+n > j.maxBatch {
		j.sealed = append(j.sealed, j.cur)
		j.sealEnd = append(j.sealEnd, j.written)
		j.cur = getBuf()
	}
	if j.cur == nil {
		j.cur = getBuf()
	}
	j.cur = appendU32(j.cur, uint32(1+len(payload)))
	j.cur = append(j.cur, kind)
	j.cur = append(j.cur, payload...)
	j.written += uint64(n)
	pos := j.written
	j.mu.Unlock()
	j.entries.Add(1)
	select {
	case j.wake <- struct{}{}:
	default:
	}
	return pos, nil
}

// backlogged reports whether a new message's write would be refused:
// past MaxPending bytes wait for an acknowledgement, or no acknowledgement
// came for stallAfter while writes wait (a node cut off from a JetStream
// quorum: it must not accept what it cannot replicate).
func (j *journal) backlogged() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.committed.Load()
	if j.written-c >= j.maxPend {
		return true
	}
	if j.written == c {
		j.waitSince = 0
		return false
	}
	now := time.Now().UnixNano()
	if c != j.seen || j.waitSince == 0 {
		j.seen, j.waitSince = c, now
		return false
	}
	return now-j.waitSince > int64(stallAfter)
}

// stallAfter is how long writes may wait for JetStream's acknowledgement,
// with none arriving, before new messages are refused (ErrBacklog): longer
// than a busy RAFT round, short enough that ESMEs hear of a partition in
// seconds. A journal stream's leader election after a node's death can
// take as long: new submits are refused meanwhile, never accepted blind.
const stallAfter = 2 * time.Second

// ackTimeout bounds the wait for one batch's acknowledgement before it is
// published again (same Nats-Msg-Id: stored once): a reply lost in a
// partition must not hold the acker forever.
const ackTimeout = 5 * time.Second

// publisher publishes sealed batches and then the current one, each as
// soon as there is room in flight.
func (j *journal) publisher() {
	defer j.wg.Done()
	defer close(j.flights)
	var seq uint64
	for {
		j.mu.Lock()
		var data []byte
		var end uint64
		switch {
		case len(j.sealed) > 0:
			data, end = j.sealed[0], j.sealEnd[0]
			j.sealed, j.sealEnd = j.sealed[1:], j.sealEnd[1:]
		case len(j.cur) > 0:
			data, end = j.cur, j.written
			j.cur = nil
		}
		closed := j.closed
		j.mu.Unlock()
		if data == nil {
			if closed {
				return
			}
			select {
			case <-j.wake:
			case <-j.stop:
			}
			continue
		}
		seq++
		j.raw.Add(uint64(len(data)))
		// The raw batch is not needed once compressed: a retry publishes
		// the same bytes.
		c := getBuf()
		if out := compressBatch(c, data); len(out) < len(data) {
			putBuf(data)
			data = out
		} else {
			putBuf(c)
		}
		f := flight{data: data, end: end, id: j.run + strconv.FormatUint(seq, 10)}
		f.fut = j.publish(&f)
		j.flights <- f
	}
}

// publish sends f's batch; a batch whose publish fails at once gets a nil
// future and is retried by the acker.
func (j *journal) publish(f *flight) natsjs.PubAckFuture {
	m := nats.NewMsg(j.subject)
	m.Data = f.data
	m.Header.Set(hdrNode, j.node)
	m.Header.Set(nats.MsgIdHdr, f.id)
	f.at = time.Now()
	fut, err := j.js.PublishMsgAsync(m)
	if err != nil {
		j.lg.Warn().Err(err).Str("event", "journal_publish_failed").Msg("jetstream store: publishing a journal batch failed; retrying")
		return nil
	}
	j.batches.Add(1)
	j.sent.Add(uint64(len(f.data)))
	return fut
}

// acker waits for each batch's acknowledgement in publish order, retries
// a failed one with the same message id (JetStream stores it once), and
// advances Committed.
func (j *journal) acker() {
	defer j.wg.Done()
	wait := time.NewTimer(ackTimeout)
	wait.Stop()
	for f := range j.flights {
		backoff := 50 * time.Millisecond
		for {
			var err error
			if f.fut == nil {
				err = errors.New("not published")
			} else {
				err = awaitAck(&f, wait)
			}
			if err == nil {
				break
			}
			if j.stopping() {
				// Closed with this batch unacknowledged: its writes were
				// never answered ESME_ROK; what follows is dropped too.
				for range j.flights {
				}
				return
			}
			j.retries.Add(1)
			j.lg.Warn().Err(err).Str("event", "journal_retry").Str("batch", f.id).
				Msg("jetstream store: a journal batch was not acknowledged; publishing it again")
			time.Sleep(backoff)
			backoff = min(2*backoff, 2*time.Second)
			f.fut = j.publish(&f)
		}
		j.committed.Store(f.end)
		putBuf(f.data)
		if fn := j.onCommit.Load(); fn != nil {
			(*fn)(f.end)
		}
		j.mu.Lock()
		j.cond.Broadcast()
		j.mu.Unlock()
	}
}

// awaitAck waits for f's acknowledgement until ackTimeout after its
// publish, not after the wait began: the batches published while
// JetStream could not answer (a partition) are given up together once the
// first is, and published again one round trip apart, instead of
// ackTimeout each in turn.
func awaitAck(f *flight, wait *time.Timer) error {
	select {
	case <-f.fut.Ok():
		return nil
	case err := <-f.fut.Err():
		return err
	default:
	}
	wait.Reset(ackTimeout - time.Since(f.at))
	defer wait.Stop()
	select {
	case <-f.fut.Ok():
		return nil
	case err := <-f.fut.Err():
		return err
	case <-wait.C:
		return errors.New("no acknowledgement within " + ackTimeout.String())
	}
}

// stopping reports whether Close was called.
func (j *journal) stopping() bool {
	select {
	case <-j.stop:
		return true
	default:
		return false
	}
}

// Written implements storage.Committer.
func (j *journal) Written() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.written
}

// Committed implements storage.Committer: the position JetStream
// acknowledged (stored on a majority of the replicas).
func (j *journal) Committed() uint64 { return j.committed.Load() }

// OnCommit implements storage.Committer.
func (j *journal) OnCommit(fn func(uint64)) { j.onCommit.Store(&fn) }

// WaitCommitted implements storage.Committer.
func (j *journal) WaitCommitted(pos uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.committed.Load() < pos {
		if j.closed {
			return ErrClosed
		}
		j.cond.Wait()
	}
	return nil
}

// waitFor waits up to d for Committed to reach pos and reports whether it
// did (false too once closed).
func (j *journal) waitFor(pos uint64, d time.Duration) bool {
	if j.committed.Load() >= pos {
		return true
	}
	deadline := time.Now().Add(d)
	t := time.AfterFunc(d, func() {
		j.mu.Lock()
		j.cond.Broadcast()
		j.mu.Unlock()
	})
	defer t.Stop()
	j.mu.Lock()
	defer j.mu.Unlock()
	for j.committed.Load() < pos {
		if j.closed || !time.Now().Before(deadline) {
			return false
		}
		j.cond.Wait()
	}
	return true
}

// close stops taking writes, waits up to d for what was appended to be
// acknowledged, and stops the goroutines.
func (j *journal) close(d time.Duration) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	want := j.written
	j.mu.Unlock()
	done := make(chan struct{})
	go func() {
		j.mu.Lock()
		for j.committed.Load() < want && !j.closed {
			j.cond.Wait()
		}
		j.mu.Unlock()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-time.After(d):
		err = errors.New("jetstream: journal not acknowledged within the close deadline")
	}
	j.mu.Lock()
	j.closed = true
	j.cond.Broadcast()
	j.mu.Unlock()
	close(j.stop)
	j.wg.Wait()
	<-done
	return err
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }

func putBuf(b []byte) {
	if cap(b) <= 4<<20 {
		bufPool.Put(&b)
	}
}
