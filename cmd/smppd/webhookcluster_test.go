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

// HTTP callbacks are sent once cluster-wide: two nodes share one journal
// (one embedded JetStream server). Node 2 starting while node 1 retries a
// callback (whose producer lease has lapsed on node 2) does not send it;
// when node 1 departs, node 2's TakeOver sends it once and moves it to its
// own queue; one node 1 held after the take-over began is adopted when its
// producer lease lapses.
func TestWebhookOnceAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded JetStream")
	}
	node := joinOne(t)
	var skew atomic.Int64 // node 2's clock ahead of the real one
	a := openJournal(t, node, 1, jetstream.Options{})
	b := openJournal(t, node, 2, jetstream.Options{Now: func() int64 { return time.Now().UnixNano() + skew.Load() }})
	lapse := func() { // node 2 passes the producer lease (10 s) of what it applied
		t.Helper()
		skew.Add(int64(11 * time.Second))
		if _, err := b.Holds().Expire(time.Now().UnixNano()+skew.Load(), nil); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	hits := map[string]int{} // requests per callback (its n parameter)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		hits[r.Form.Get("n")]++
		first := hits[r.Form.Get("n")] == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable) // its producer retries in an hour
		}
	}))
	t.Cleanup(srv.Close) // after the senders stop
	count := func(n string) int { mu.Lock(); defer mu.Unlock(); return hits[n] }
	wait := func(what string, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatal(what)
			}
		}
	}
	stop := func(s *webhook.Service) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.Stop(ctx)
	}
	// Each sender is stopped at the test's end (before its store closes)
	// even when the test fails first; Stop is idempotent.
	service := func(st *jetstream.Store, id int) *webhook.Service {
		s, err := webhook.New(webhook.Options{Holds: st.Holds(), DeadLetters: st.DeadLetters(), Node: id,
			RetryMin: time.Hour, RetryMax: time.Hour, Client: srv.Client(), Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop(s) })
		return s
	}
	send := func(s *webhook.Service, n string) {
		t.Helper()
		if err := s.Enqueue(&webhook.Request{Kind: webhook.KindMO, Method: storage.CallbackPOST, URL: srv.URL,
			Params: []byte("n=" + n)}); err != nil {
			t.Fatal(err)
		}
	}

	wa := service(a, 1)
	if err := wa.Start(); err != nil {
		t.Fatal(err)
	}
	send(wa, "1")
	wait("node 1's first attempt", func() bool { return count("1") == 1 })
	wait("node 2 applies the callback", func() bool { return b.Holds().Len() == 1 })
	lapse()

	wb := service(b, 2)
	if err := wb.Start(); err != nil { // takes up node 2's own queue only
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // a scheduler tick and more
	if got := count("1"); got != 1 {
		t.Fatalf("node 2's start sent node 1's pending callback: %d requests", got)
	}

	stop(wa) // node 1 departs with the callback pending
	if n, err := wb.TakeOver(1); n != 1 || err != nil {
		t.Fatalf("TakeOver(1) = %d, %v", n, err)
	}
	wait("the taken-over callback sent", func() bool { return count("1") == 2 })
	wait("its old copy acknowledged on node 1 too", func() bool { return a.Holds().Len() == 0 && b.Holds().Len() == 0 })
	if n, _ := wb.TakeOver(1); n != 0 {
		t.Fatalf("a second TakeOver took %d", n)
	}

	// Node 1 (a slow producer, not dead) holds one more, leased to itself,
	// after the take-over began: node 2 adopts it once its lease lapses.
	wa2 := service(a, 1)
	send(wa2, "2")
	wait("node 1's attempt", func() bool { return count("2") == 1 })
	stop(wa2)
	wait("node 2 applies it", func() bool { return b.Holds().Len() == 1 })
	lapse()
	wait("adopted after its lease lapsed", func() bool { return count("2") == 2 })
	time.Sleep(1500 * time.Millisecond)
	if st := wb.Stats(); count("1") != 2 || count("2") != 2 || st.TakenOver != 2 || st.MO.Sent != 2 {
		t.Fatalf("requests %v, node 2's stats %+v: want each callback sent once by node 2", hits, st)
	}
}
