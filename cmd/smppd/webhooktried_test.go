package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/jetstream"
)

// An HTTP callback a node was retrying when it died (the request made, no
// answer journaled) is sent again by the node that takes it over, and
// counted there as a possible duplicate: its producer holds it leased for
// its whole life (retries are timed in its memory), so on the taker the
// producer lease lapsed, and the taker's lease of it counts it retaken.
func TestWebhookRetryInFlightTakenOverIsCounted(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded JetStream")
	}
	node := joinOne(t)
	var skew atomic.Int64 // node 2's clock ahead of the real one
	open := func(id int) *jetstream.Store {
		return openJournal(t, node, id, jetstream.Options{ClaimHeld: true,
			Now: func() int64 { return time.Now().UnixNano() + skew.Load() }})
	}
	a, b := open(1), open(2)

	var mu sync.Mutex
	hits := 0
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		n := hits
		mu.Unlock()
		switch n {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable) // retried soon
		case 2:
			<-hang // the retry in flight when its node dies
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(hang) }) // before srv.Close waits for it
	count := func() int { mu.Lock(); defer mu.Unlock(); return hits }
	wait := func(what string, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(15 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatal(what)
			}
		}
	}
	service := func(st *jetstream.Store, id int) *webhook.Service {
		s, err := webhook.New(webhook.Options{Holds: st.Holds(), DeadLetters: st.DeadLetters(), Node: id,
			RetryMin: 200 * time.Millisecond, RetryMax: 200 * time.Millisecond, Client: srv.Client(), Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			s.Stop(ctx)
		})
		return s
	}
	wa := service(a, 1)
	if err := wa.Start(); err != nil {
		t.Fatal(err)
	}
	if err := wa.Enqueue(&webhook.Request{Kind: webhook.KindMO, Method: storage.CallbackPOST, URL: srv.URL,
		Params: []byte("n=1")}); err != nil {
		t.Fatal(err)
	}
	wait("node 1's retry in flight", func() bool { return count() == 2 })
	wait("node 2 applies node 1's journal", func() bool { return b.Applied() >= a.Applied() && b.Holds().Len() == 1 })

	// Node 1 dies; the take-over comes after node 2 passed the producer
	// lease (10 s) of what it applied.
	_ = a.Close()
	if n, _ := b.Holds().Lease(webhook.QueueOf(1), time.Now().Add(time.Hour).UnixNano(), make([]storage.Held, 1)); n != 0 {
		t.Fatal("node 2 leased the callback while its producer's lease lived")
	}
	skew.Store(int64(11 * time.Second))
	if _, err := b.Holds().Expire(time.Now().UnixNano()+skew.Load(), nil); err != nil {
		t.Fatal(err)
	}

	wb := service(b, 2)
	if err := wb.Start(); err != nil {
		t.Fatal(err)
	}
	if n, err := wb.TakeOver(1); n != 1 || err != nil {
		t.Fatalf("TakeOver(1) = %d, %v", n, err)
	}
	wait("the taker sends it again", func() bool { return count() == 3 })
	if r := b.Journal().HeldRetaken; r != 1 {
		t.Fatalf("node 2 counted %d retaken, want 1: node 1's retry may have reached the receiver", r)
	}
}
