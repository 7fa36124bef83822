package jetstream

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/storage"
)

// lostAckJS is a JetStream whose next publish to the claims bucket, once
// armed, is never answered: its acknowledgement lost, as in a stream
// leader's change, while later ones are answered.
type lostAckJS struct {
	natsjs.JetStream
	armed atomic.Bool
}

func (j *lostAckJS) PublishAsync(subj string, data []byte, opts ...natsjs.PublishOpt) (natsjs.PubAckFuture, error) {
	if strings.HasPrefix(subj, "$KV."+ClaimsBucket+".") && j.armed.CompareAndSwap(true, false) {
		return lostAck{}, nil
	}
	return j.JetStream.PublishAsync(subj, data, opts...)
}

// lostAck never answers.
type lostAck struct{}

func (lostAck) Ok() <-chan *natsjs.PubAck { return nil }
func (lostAck) Err() <-chan error         { return nil }
func (lostAck) Msg() *nats.Msg            { return nil }

// TestClaimRefreshAnsweredAfterALostOne: one refresh of a round goes
// unanswered until the round's wait runs out; the others, answered, are
// refreshed all the same, and only the unanswered one, past its TTL, is
// counted lapsed. Before, every refresh after the lost one in the round
// was taken as unanswered too, and lapsed: dropped while its item was
// still being delivered here, so another node could claim and deliver it.
func TestClaimRefreshAnsweredAfterALostOne(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	js, nc := testJS(t, dir)
	lj := &lostAckJS{JetStream: js}
	a, err := Open(Options{JS: lj, Stream: testStream, Subject: "smppd.journal.1", Node: 1,
		Dir: dir + "/n1", TTL: time.Hour, ClaimHeld: true, Now: now.Load, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(); nc.Close() })
	until := now.Load() + int64(time.Hour)
	const n = 4
	for range n {
		if _, err := a.Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldMO, Body: []byte("mo"), Expires: until}); err != nil {
			t.Fatal(err)
		}
	}
	dst := make([]storage.Held, n)
	if got, _ := a.Holds().Lease("bob", until, dst); got != n {
		t.Fatalf("leased %d of %d", got, n)
	}
	eventually(t, "the holds acknowledged", func() bool { return a.j.Committed() == a.j.Written() })
	// Every claim's TTL has run out unless this refresh renews it.
	now.Add(int64(claimTTL))
	lj.armed.Store(true) // the round's first refresh is never answered
	a.claims.refresh()
	if l, r := a.claims.lapsedN.Load(), a.claims.refreshed.Load(); l != 1 || r != n-1 {
		t.Fatalf("%d lapsed and %d refreshed, want 1 (the unanswered one) and %d", l, r, n-1)
	}
	a.claims.mu.Lock()
	held := len(a.claims.held)
	a.claims.mu.Unlock()
	if held != n-1 {
		t.Fatalf("%d claims still held, want %d", held, n-1)
	}
}

// TestClaimOfAnAckNotJournaledIsLost: node 1 delivered a held item and
// acknowledges it while its journal refuses writes (a stalled journal's
// backlog): the ack never reaches the other nodes and the claim, no longer
// refreshed, lapses, so another node may deliver the item again. That is
// counted as a lapsed claim (a possible duplicate), as a refresh lost is.
func TestClaimOfAnAckNotJournaledIsLost(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	js, nc := testJS(t, dir)
	a, err := Open(Options{JS: js, Stream: testStream, Subject: "smppd.journal.1", Node: 1,
		Dir: dir + "/n1", TTL: time.Hour, ClaimHeld: true, Now: now.Load, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(); nc.Close() })
	until := now.Load() + int64(time.Hour)
	if _, err := a.Holds().Hold(&storage.Held{SystemID: "bob", Kind: storage.HeldMO, Body: []byte("mo"), Expires: until}); err != nil {
		t.Fatal(err)
	}
	dst := make([]storage.Held, 1)
	if n, _ := a.Holds().Lease("bob", until, dst); n != 1 {
		t.Fatalf("leased %d", n)
	}
	eventually(t, "the hold acknowledged", func() bool { return a.j.Committed() == a.j.Written() })
	a.j.mu.Lock()
	maxPend := a.j.maxPend
	a.j.maxPend = 0 // every write refused: the backlog of a stalled journal
	a.j.mu.Unlock()
	err = a.Holds().Ack(dst[0].Key)
	a.j.mu.Lock()
	a.j.maxPend = maxPend
	a.j.mu.Unlock()
	if !errors.Is(err, ErrBacklog) {
		t.Fatalf("Ack with the journal refusing: %v, want ErrBacklog", err)
	}
	if c := a.claims.lapsedN.Load(); c != 1 {
		t.Fatalf("counted %d lapsed claims, want 1: the ack is not journaled, another node may deliver the item", c)
	}
	now.Add(int64(claimTTL / 4))
	a.claims.refresh()
	if c := a.claims.lapsedN.Load(); c != 1 {
		t.Fatalf("counted %d lapsed claims after a refresh, want 1", c)
	}
}
