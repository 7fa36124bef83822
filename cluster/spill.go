package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// SpillStream holds the connectors' shared queues: the messages a node
// could not send through its own connector (down, halted, no bind share,
// or its queue past the high-water mark), for any node whose connector is
// up to send (docs/adr/0006-shared-connector-queues.md). Work-queue
// retention: a batch is gone once a puller acknowledges it.
const SpillStream = "SMPPD_SPILL"

// SpillSubject is connector id c's queue (ids are the positions in the
// shared connector list, the same on every node). A batch of n items is
// published under SpillSubject(c).n (spillBatchSubject): the stream's
// per-subject counts then give the queue's depth in messages, with no
// counter to keep. Batches of a build before that are on SpillSubject(c)
// itself.
func SpillSubject(c int) string { return "smppd.spill." + strconv.Itoa(c) }

func spillBatchSubject(c, n int) string { return SpillSubject(c) + "." + strconv.Itoa(n) }

// spillSubjects are every connector's batches, for the depth's read.
const spillSubjects = "smppd.spill.>"

// parseSpillSubject reads a batch subject: connector c and its item
// count n (1 for a batch of an earlier build, which names none).
func parseSpillSubject(subj string) (c, n int, ok bool) {
	rest, found := strings.CutPrefix(subj, "smppd.spill.")
	if !found {
		return 0, 0, false
	}
	cs, ns, counted := strings.Cut(rest, ".")
	c, err := strconv.Atoi(cs)
	if err != nil || c < 0 {
		return 0, 0, false
	}
	if !counted {
		return c, 1, true
	}
	n, err = strconv.Atoi(ns)
	if err != nil || n < 1 {
		return 0, 0, false
	}
	return c, n, true
}

// spillConsumer is the durable pull consumer every node shares for c.
func spillConsumer(c int) string { return "spill_" + strconv.Itoa(c) }

// Tuning of the shared queues.
const (
	// A batch (one JetStream message, one publish and one acknowledgement)
	// carries up to spillBatchItems items or spillBatchBytes.
	spillBatchItems = 256
	spillBatchBytes = 256 << 10
	// spillLinger is how long the publisher lets a batch fill after its
	// first item: spilling is off the submit's path (the message is
	// acknowledged already), so a few ms buy whole batches.
	spillLinger = 5 * time.Millisecond
	// maxSpillPending bounds the bytes spilled and not yet stored: past it
	// Spill refuses and the message stays on its node as before.
	maxSpillPending = 32 << 20
	// DefaultSpillAckWait: a puller that took a batch and neither
	// acknowledged it nor said it is still at work (every third of it)
	// within it is taken for dead, and the batch goes to another puller.
	DefaultSpillAckWait = 30 * time.Second
	// maxPullsOut bounds the batches one node holds unacknowledged per
	// connector: its ring, not the shared queue, is where they wait.
	maxPullsOut = 4
	// pullIdle is how often a puller whose connector cannot take more
	// looks again; pullWait how long one fetch waits for a batch.
	pullIdle = 50 * time.Millisecond
	pullWait = time.Second
	// redoDelay is how soon a batch given back (its node stopped before
	// sending some of it) is offered again.
	redoDelay = time.Second
)

// SpillDupWindow is the spill stream's duplicate window: a batch published
// again after a lost acknowledgement within it is stored once.
const SpillDupWindow = 2 * time.Minute

// SpillConfig is the spill stream's configuration for replicas.
func SpillConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        SpillStream,
		Description: "smppd shared connector queues: messages any node with the connector up sends (docs/CLUSTER.md)",
		Subjects:    []string{spillSubjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Duplicates:  SpillDupWindow,
		MaxMsgSize:  maxPayload,
		Discard:     jetstream.DiscardNew,
	}
}

// QueuesOptions configure StartQueues.
type QueuesOptions struct {
	// Connectors is the number of connector ids (0 .. Connectors-1).
	Connectors int
	// Ready reports whether this node's connector c can take more now (up,
	// with room): its puller fetches only then. Called often; must not
	// block.
	Ready func(c int) bool
	// Pulled takes one item of c's queue (a view valid during the call)
	// and the batch it came in: the taker calls b.Done once for it when it
	// is settled (sent and answered, failed, or found done already).
	// redelivered: the batch was taken before (by a node that died or gave
	// it back).
	Pulled func(c int, item []byte, b *Batch, redelivered bool)
	// Stored is told the items of a batch once JetStream stored it (views
	// valid during the call), on the publisher's goroutine.
	Stored func(c int, items [][]byte)
	// AckWait is how long a batch taken and neither settled nor reported
	// in progress stays with its puller before another node gets it
	// (default 30 s; every node of a cluster must use the same).
	AckWait time.Duration
	Logger  zerolog.Logger
}

// QueueStats are one connector's shared-queue counters on this node and
// the queue's depth as last read (every second).
type QueueStats struct {
	Spilled     uint64 // items this node put on the queue
	Pulled      uint64 // items this node took from it
	Redelivered uint64 // of those, items of batches delivered before (their puller died, or gave them back)
	Waiting     int    // batches on the queue not taken by any node
	InFlight    int    // batches taken and not yet acknowledged (all nodes)
	// Messages are the items in the queue's batches, waiting or taken and
	// not yet acknowledged (all nodes), and Batches those batches, as read
	// from the stream's per-subject counts.
	Messages, Batches int
}

// Queues are this node's side of the shared connector queues: the
// publisher of what it spills and one puller per connector.
type Queues struct {
	n     *Node
	o     QueuesOptions
	lg    zerolog.Logger
	cons  []jetstream.Consumer
	stats []queueStats
	runID string

	mu      sync.Mutex
	open    [][]byte // per connector: the batch filling (count prefix, items)
	items   []int    // its items
	ready   []spillBatch
	pending int // bytes spilled and not yet stored
	seq     uint64

	outMu sync.Mutex
	out   map[*Batch]struct{}

	wake    chan struct{}
	stop    chan struct{} // the pullers and their helpers
	pubStop chan struct{} // the publisher
	closed  atomic.Bool   // Spill refuses
	wg      sync.WaitGroup
	pubWG   sync.WaitGroup
	once    sync.Once
	pubOnce sync.Once
}

type queueStats struct {
	spilled, pulled, redelivered atomic.Uint64
	waiting, inFlight            atomic.Int64
	messages, batches            atomic.Int64
	taken                        atomic.Int32 // batches this node holds unacknowledged
}

// spillBatch is one closed batch waiting for its publish.
type spillBatch struct {
	c, n  int // connector, items
	data  []byte
	msgID string
}

// Batch is one shared-queue message a puller took: acknowledged once every
// item in it is settled (Done), or given back for another node.
type Batch struct {
	q    *Queues
	c    int
	m    jetstream.Msg
	left atomic.Int32
	redo atomic.Bool
}

// Done settles one item of b. redo: this node could not finish it (it
// stopped while holding it): the batch is given back once its other items
// are settled, and the next puller sends what is still unsent.
func (b *Batch) Done(redo bool) {
	if redo {
		b.redo.Store(true)
	}
	if b.left.Add(-1) == 0 {
		b.q.finish(b)
	}
}

// StartQueues creates the spill stream and the connectors' consumers if
// missing and starts the publisher and the pullers; Close stops them.
func (n *Node) StartQueues(o QueuesOptions) (*Queues, error) {
	if o.AckWait <= 0 {
		o.AckWait = DefaultSpillAckWait
	}
	q := &Queues{n: n, o: o, lg: o.Logger.With().Str("component", "shared_queues").Logger(),
		runID: strconv.FormatInt(time.Now().UnixNano(), 36), out: map[*Batch]struct{}{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), pubStop: make(chan struct{})}
	q.open, q.items = make([][]byte, o.Connectors), make([]int, o.Connectors)
	q.stats = make([]queueStats, o.Connectors)
	ctx, cancel := context.WithTimeout(context.Background(), n.o.JoinTimeout)
	defer cancel()
	err := retry(ctx, func(c context.Context) error {
		_, err := n.js.CreateOrUpdateStream(c, SpillConfig(n.o.Replicas))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: stream %s: %w", SpillStream, err)
	}
	for c := range o.Connectors {
		var cons jetstream.Consumer
		err := retry(ctx, func(cx context.Context) error {
			var err error
			cons, err = n.js.CreateOrUpdateConsumer(cx, SpillStream, jetstream.ConsumerConfig{
				Durable: spillConsumer(c),
				// Both: the batches an earlier build stored too.
				FilterSubjects: []string{SpillSubject(c), SpillSubject(c) + ".*"},
				AckPolicy:      jetstream.AckExplicitPolicy, AckWait: o.AckWait, MaxDeliver: -1, MaxAckPending: -1,
				DeliverPolicy: jetstream.DeliverAllPolicy,
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("cluster: consumer %s: %w", spillConsumer(c), err)
		}
		q.cons = append(q.cons, cons)
	}
	q.pubWG.Add(1)
	go q.publisher()
	q.wg.Add(2 + o.Connectors)
	go q.progress()
	go q.depths()
	for c := range o.Connectors {
		go q.puller(c)
	}
	return q, nil
}

// Spill puts item (copied) on connector c's queue; false when c is not a
// connector id or the bytes waiting for their publish are at their bound
// (the caller keeps the message).
func (q *Queues) Spill(c int, item []byte) bool {
	if c < 0 || c >= len(q.open) || q.closed.Load() {
		return false
	}
	q.mu.Lock()
	if q.pending+len(item) > maxSpillPending {
		q.mu.Unlock()
		return false
	}
	b := q.open[c]
	if b == nil {
		b = make([]byte, 0, 4096)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(item)))
	b = append(b, item...)
	q.pending += len(item) + 4
	q.items[c]++
	if q.items[c] >= spillBatchItems || len(b) >= spillBatchBytes {
		q.closeBatch(c, b)
		b = nil
	}
	q.open[c] = b
	q.mu.Unlock()
	q.stats[c].spilled.Add(1)
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// closeBatch moves c's filling batch b to the ready list. Caller holds mu.
func (q *Queues) closeBatch(c int, b []byte) {
	q.seq++
	q.ready = append(q.ready, spillBatch{c: c, n: q.items[c], data: b,
		msgID: strconv.Itoa(q.n.o.NodeID) + "-" + q.runID + "-" + strconv.FormatUint(q.seq, 10)})
	q.items[c] = 0
}

// take closes every filling batch and returns the ready ones.
func (q *Queues) take() []spillBatch {
	q.mu.Lock()
	defer q.mu.Unlock()
	for c, b := range q.open {
		if len(b) > 0 {
			q.closeBatch(c, b)
			q.open[c] = nil
		}
	}
	r := q.ready
	q.ready = nil
	return r
}

func (q *Queues) publisher() {
	defer q.pubWG.Done()
	for {
		select {
		case <-q.pubStop:
			q.flush(5 * time.Second) // what was spilled before the stop
			return
		case <-q.wake:
		}
		select {
		case <-q.pubStop:
		case <-time.After(spillLinger):
		}
		q.flush(0)
	}
}

// flush publishes every batch spilled so far and waits for JetStream to
// store them, publishing again (same Nats-Msg-Id: stored once) what
// failed, until they are stored, or, with limit, until limit passes
// (at a stop: what is left stays in the journal unmarked, so the node's
// next start, or its taker, sends it).
func (q *Queues) flush(limit time.Duration) {
	bs := q.take()
	var deadline time.Time
	if limit > 0 {
		deadline = time.Now().Add(limit)
	}
	var warned time.Time
	for len(bs) > 0 {
		futs := make([]jetstream.PubAckFuture, len(bs))
		for i := range bs {
			m := nats.NewMsg(spillBatchSubject(bs[i].c, bs[i].n))
			m.Data = bs[i].data
			futs[i], _ = q.n.js.PublishMsgAsync(m, jetstream.WithMsgID(bs[i].msgID))
		}
		var failed []spillBatch
		for i, f := range futs {
			if !q.stored(f) {
				failed = append(failed, bs[i])
				continue
			}
			q.done(&bs[i])
		}
		if len(failed) == 0 {
			return
		}
		if time.Since(warned) >= 10*time.Second {
			warned = time.Now()
			q.lg.Warn().Str("event", "spill_publish_failed").Int("batches", len(failed)).
				Msg("shared queues: batches not stored by JetStream; publishing them again (logged once per 10 s)")
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			q.lg.Error().Str("event", "spill_unpublished").Int("batches", len(failed)).
				Msg("shared queues: stopped with batches unpublished; their messages stay in the journal for the next start or a taker")
			return
		}
		time.Sleep(200 * time.Millisecond)
		bs = failed
	}
}

// stored waits for f's acknowledgement (5 s at most).
func (q *Queues) stored(f jetstream.PubAckFuture) bool {
	if f == nil {
		return false
	}
	select {
	case <-f.Ok():
		return true
	case <-f.Err():
		return false
	case <-time.After(5 * time.Second):
		return false
	}
}

// done tells Stored the items of a stored batch and frees its bytes.
func (q *Queues) done(b *spillBatch) {
	items := SplitItems(b.data, nil)
	if q.o.Stored != nil {
		q.o.Stored(b.c, items)
	}
	q.mu.Lock()
	q.pending -= len(b.data)
	q.mu.Unlock()
}

// SplitItems appends to dst views of the items in a batch's data.
func SplitItems(data []byte, dst [][]byte) [][]byte {
	for len(data) >= 4 {
		n := int(binary.BigEndian.Uint32(data))
		if n > len(data)-4 {
			break
		}
		dst = append(dst, data[4:4+n])
		data = data[4+n:]
	}
	return dst
}

func (q *Queues) puller(c int) {
	defer q.wg.Done()
	st := &q.stats[c]
	var errAt time.Time
	for {
		select {
		case <-q.stop:
			return
		default:
		}
		if st.taken.Load() >= maxPullsOut || !q.o.Ready(c) {
			q.sleep(pullIdle)
			continue
		}
		mb, err := q.cons[c].Fetch(1, jetstream.FetchMaxWait(pullWait))
		if err == nil {
			for m := range mb.Messages() {
				q.takeBatch(c, m)
			}
			err = mb.Error()
		}
		if err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
			if time.Since(errAt) > 10*time.Second {
				errAt = time.Now()
				q.lg.Warn().Str("event", "spill_fetch_failed").Int("connector", c).Err(err).
					Msg("shared queues: fetch failed; trying again")
			}
			q.sleep(pullIdle)
		}
	}
}

// sleep waits d or until Close.
func (q *Queues) sleep(d time.Duration) {
	select {
	case <-q.stop:
	case <-time.After(d):
	}
}

// takeBatch hands each item of m to Pulled.
func (q *Queues) takeBatch(c int, m jetstream.Msg) {
	items := SplitItems(m.Data(), nil)
	st := &q.stats[c]
	redelivered := false
	if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
		redelivered = true
		st.redelivered.Add(uint64(len(items)))
	}
	if len(items) == 0 {
		_ = m.Ack()
		return
	}
	b := &Batch{q: q, c: c, m: m}
	b.left.Store(int32(len(items)))
	q.outMu.Lock()
	q.out[b] = struct{}{}
	q.outMu.Unlock()
	st.taken.Add(1)
	st.pulled.Add(uint64(len(items)))
	for _, it := range items {
		q.o.Pulled(c, it, b, redelivered)
	}
}

// finish acknowledges a batch whose items are all settled, or gives it
// back when one was not finished here.
func (q *Queues) finish(b *Batch) {
	q.outMu.Lock()
	delete(q.out, b)
	q.outMu.Unlock()
	q.stats[b.c].taken.Add(-1)
	var err error
	if b.redo.Load() {
		err = b.m.NakWithDelay(redoDelay)
	} else {
		err = b.m.Ack()
	}
	if err != nil {
		// Not acknowledged: JetStream offers it again after the ack wait,
		// and the next puller skips what was sent.
		q.lg.Warn().Str("event", "spill_ack_failed").Int("connector", b.c).Err(err).
			Msg("shared queues: batch acknowledgement failed; it is offered again after the ack wait")
	}
}

// progress tells JetStream every batch this node still works on is alive,
// so a long wait in a busy ring is not taken for a dead puller.
func (q *Queues) progress() {
	defer q.wg.Done()
	t := time.NewTicker(q.o.AckWait / 3)
	defer t.Stop()
	var held []*Batch
	for {
		select {
		case <-q.stop:
			return
		case <-t.C:
		}
		held = held[:0]
		q.outMu.Lock()
		for b := range q.out {
			held = append(held, b)
		}
		q.outMu.Unlock()
		for _, b := range held {
			_ = b.m.InProgress()
		}
	}
}

// depths reads every queue's depth once a second.
func (q *Queues) depths() {
	defer q.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	msgs, batches := make([]int64, len(q.stats)), make([]int64, len(q.stats))
	for {
		select {
		case <-q.stop:
			return
		case <-t.C:
		}
		if q.readMessages(msgs, batches) {
			for c := range q.stats {
				q.stats[c].messages.Store(msgs[c])
				q.stats[c].batches.Store(batches[c])
			}
		}
		for c, cons := range q.cons {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			info, err := cons.Info(ctx)
			cancel()
			if err == nil {
				q.stats[c].waiting.Store(int64(info.NumPending))
				q.stats[c].inFlight.Store(int64(info.NumAckPending))
			}
		}
	}
}

// readMessages fills msgs and batches per connector from the spill
// stream's per-subject counts (one request for every connector); false
// when the read failed (the last reading stands).
func (q *Queues) readMessages(msgs, batches []int64) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := q.n.js.Stream(ctx, SpillStream)
	if err != nil {
		return false
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(spillSubjects))
	if err != nil {
		return false
	}
	clear(msgs)
	clear(batches)
	for subj, k := range info.State.Subjects {
		if c, n, ok := parseSpillSubject(subj); ok && c < len(msgs) {
			msgs[c] += int64(n) * int64(k)
			batches[c] += int64(k)
		}
	}
	return true
}

// Stats returns connector c's counters and queue depth.
func (q *Queues) Stats(c int) QueueStats {
	if c < 0 || c >= len(q.stats) {
		return QueueStats{}
	}
	s := &q.stats[c]
	return QueueStats{Spilled: s.spilled.Load(), Pulled: s.pulled.Load(), Redelivered: s.redelivered.Load(),
		Waiting: int(s.waiting.Load()), InFlight: int(s.inFlight.Load()),
		Messages: int(s.messages.Load()), Batches: int(s.batches.Load())}
}

// StopPulling stops the pullers: this node takes nothing more. Batches it
// holds are settled as their items are (Done), their acknowledgements
// still sent.
func (q *Queues) StopPulling() {
	q.once.Do(func() {
		close(q.stop)
		q.wg.Wait()
	})
}

// Close stops the pullers, refuses further spills and publishes what was
// spilled (5 s at most). Batches still held are not acknowledged:
// JetStream offers them to another node after the ack wait (at once when
// the hub gave them back with Done(true) before).
func (q *Queues) Close() {
	q.StopPulling()
	q.pubOnce.Do(func() {
		q.closed.Store(true)
		close(q.pubStop)
		q.pubWG.Wait()
	})
}

// UpElsewhere reports whether another live node's connector named name
// was up at its last heartbeat (its status): a message this node cannot
// send through its own has a node to go to.
func (n *Node) UpElsewhere(name string) bool {
	p := n.seen.live.Load()
	if p == nil {
		return false
	}
	for i := range *p {
		m := &(*p)[i]
		if m.Node == n.o.NodeID || m.Status == nil {
			continue
		}
		for _, c := range m.Status.Connectors {
			if c.Name == name && c.Up {
				return true
			}
		}
	}
	return false
}
