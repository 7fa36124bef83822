package jetstream

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
)

// fakeStream serves chunks (generation g1 up to a base marker at 15, g2
// after it; "" is a sequence not on the subject) at stream sequences 10,
// 11, ... to ordered consumers. The first consumer's fetch fails once after
// two messages (a pull subscription not yet known over the routes) and for
// good after four (a consumer lost with its server); the second consumer
// is refused once, as during a leader election.
type fakeStream struct {
	natsjs.Stream
	chunks []string
	starts []uint64 // OptStartSeq of each consumer made
}

func (f *fakeStream) OrderedConsumer(_ context.Context, cfg natsjs.OrderedConsumerConfig) (natsjs.Consumer, error) {
	f.starts = append(f.starts, cfg.OptStartSeq)
	c := &fakeConsumer{f: f, seq: cfg.OptStartSeq, failOnceAt: -1, failAt: -1}
	switch len(f.starts) {
	case 1:
		c.failOnceAt, c.failAt = 2, 4
	case 2:
		return nil, nats.ErrNoResponders
	}
	return c, nil
}

type fakeConsumer struct {
	natsjs.Consumer
	f                  *fakeStream
	seq                uint64
	served             int
	failOnceAt, failAt int // -1: never
}

func (c *fakeConsumer) Info(context.Context) (*natsjs.ConsumerInfo, error) {
	return &natsjs.ConsumerInfo{NumPending: uint64(len(c.f.chunks)) - (c.seq - 10)}, nil
}

func (c *fakeConsumer) Fetch(n int, _ ...natsjs.FetchOpt) (natsjs.MessageBatch, error) {
	if c.served == c.failAt || c.served == c.failOnceAt {
		c.failOnceAt = -1
		return nil, nats.ErrNoResponders
	}
	ch := make(chan natsjs.Msg, n)
	for ; n > 0 && int(c.seq-10) < len(c.f.chunks); n-- {
		data := c.f.chunks[c.seq-10]
		c.seq++
		if data == "" {
			continue
		}
		gen := "g1"
		if c.seq > 16 {
			gen = "g2"
		}
		ch <- fakeMsg{seq: c.seq - 1, pending: uint64(len(c.f.chunks)) - (c.seq - 10), gen: gen, data: data}
		if c.served++; c.served == c.failAt || c.served == c.failOnceAt {
			break
		}
	}
	close(ch)
	return fakeBatch{ch}, nil
}

type fakeBatch struct{ ch chan natsjs.Msg }

func (b fakeBatch) Messages() <-chan natsjs.Msg { return b.ch }
func (b fakeBatch) Error() error                { return nil }

type fakeMsg struct {
	natsjs.Msg
	seq, pending uint64
	gen, data    string
}

func (m fakeMsg) Metadata() (*natsjs.MsgMetadata, error) {
	return &natsjs.MsgMetadata{Sequence: natsjs.SequencePair{Stream: m.seq}, NumPending: m.pending}, nil
}
func (m fakeMsg) Headers() nats.Header {
	return nats.Header{hdrBaseGen: []string{m.gen}, hdrNode: []string{"2"}}
}
func (m fakeMsg) Data() []byte { return []byte(m.data) }

func newFakeStream() *fakeStream {
	f := &fakeStream{}
	for i := range 5 {
		f.chunks = append(f.chunks, fmt.Sprintf("chunk%d", i))
	}
	// The marker at 15; then a compaction running now writes the next
	// base's chunks, which a fetch of this base's last ones also returns.
	f.chunks = append(f.chunks, "", "next0", "next1")
	return f
}

// TestEachBaseThroughFailedFetches: a base read whose fetches fail goes on,
// on the same consumer after a failure, and from the chunk after the last
// one read with a new consumer when they keep failing; fn gets every chunk
// once, in order, and none of the next base's.
func TestEachBaseThroughFailedFetches(t *testing.T) {
	f := newFakeStream()
	b := base{gen: "g1", first: 10, chunks: 5, markerSeq: 15, found: true}
	var got []string
	if err := eachBase(context.Background(), f, b, func(p []byte) { got = append(got, string(p)) }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(f.chunks[:5]) {
		t.Errorf("chunks %q, want %q once each in order", got, f.chunks[:5])
	}
	// The first consumer from 10 read four; the second, refused once, was
	// made again from 14.
	if fmt.Sprint(f.starts) != "[10 14 14]" {
		t.Errorf("consumers started at %v, want [10 14 14]", f.starts)
	}

	// A chunk past the marker before the base is read: the base is not
	// what its marker says, an error, not a retry.
	b.markerSeq = 12
	err := eachBase(context.Background(), newFakeStream(), b, func([]byte) {})
	if err == nil || errors.Is(err, errFetchStuck) {
		t.Errorf("a chunk past the marker: err %v", err)
	}
}

// TestEachJournalThroughFailedFetches: the same for the journal's batches
// in (from, to].
func TestEachJournalThroughFailedFetches(t *testing.T) {
	f := newFakeStream()
	var got []string
	err := eachJournal(context.Background(), f, 9, 16, func(node int, p []byte) {
		if node != 2 {
			t.Errorf("batch %q from node %d, want 2", p, node)
		}
		got = append(got, string(p))
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"chunk0", "chunk1", "chunk2", "chunk3", "chunk4", "next0"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batches %q, want %q", got, want)
	}
	if fmt.Sprint(f.starts) != "[10 14 14]" {
		t.Errorf("consumers started at %v, want [10 14 14]", f.starts)
	}
}
