package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/jetstream"
)

// Callbacks an earlier build held under the one shared queue
// (webhook.Queue) are adopted once cluster-wide: two nodes of this build
// start on that journal and call AdoptShared at once, as startTakeover
// does; each callback goes to one of them (its held-item claim), is sent
// once more, and a later start adopts nothing.
func TestWebhookSharedQueueAdoptedOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded JetStream")
	}
	node := joinOne(t)
	var skew atomic.Int64 // the clock of the nodes of this build, ahead of the real one
	now := func() int64 { return time.Now().UnixNano() + skew.Load() }
	open := func(id int, clock func() int64) *jetstream.Store {
		return openJournal(t, node, id, jetstream.Options{Now: clock, ClaimHeld: true})
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
			w.WriteHeader(http.StatusServiceUnavailable) // retried in an hour
		}
	}))
	t.Cleanup(srv.Close) // after the senders stop
	requests := func() (total, once, twice int) {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range hits {
			total += n
			switch n {
			case 1:
				once++
			case 2:
				twice++
			}
		}
		return
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
			RetryMin: time.Hour, RetryMax: time.Hour, Client: srv.Client(),
			Now: func() time.Time { return time.Unix(0, now()) }, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stop(s) })
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatal(what)
			}
		}
	}

	// The earlier build: node 1's callbacks under the shared queue, each
	// tried once and left pending.
	const n = 40
	old := open(1, nil)
	wo := service(old, 0)
	for i := range n {
		if err := wo.Enqueue(&webhook.Request{Kind: webhook.KindMO, Method: storage.CallbackPOST, URL: srv.URL,
			Params: []byte("n=" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	wait("the earlier build's first attempts", func() bool { total, _, _ := requests(); return total == n })
	stop(wo)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	// This build: nodes 1 and 2 replay the journal and, past the producer
	// leases of what they applied (10 s: both may lease every callback),
	// adopt the shared queue at once.
	a, b := open(1, now), open(2, now)
	wait("both replays hold the callbacks", func() bool { return a.Holds().Len() == n && b.Holds().Len() == n })
	skew.Add(int64(11 * time.Second))
	for _, st := range []*jetstream.Store{a, b} {
		if _, err := st.Holds().Expire(now(), nil); err != nil {
			t.Fatal(err)
		}
	}
	wa, wb := service(a, 1), service(b, 2)
	var got [2]int
	var wg sync.WaitGroup
	for i, w := range []*webhook.Service{wa, wb} {
		wg.Go(func() {
			k, err := w.AdoptShared()
			if err != nil {
				t.Error(err)
			}
			got[i] = k
		})
	}
	wg.Wait()
	t.Logf("shared queue's %d callbacks adopted: %d by node 1, %d by node 2 (claims won %d + %d, lost %d + %d)", n, got[0], got[1],
		a.Journal().ClaimsWon, b.Journal().ClaimsWon, a.Journal().ClaimsLost, b.Journal().ClaimsLost)
	if got[0]+got[1] != n {
		t.Fatalf("adopted %d + %d of %d callbacks", got[0], got[1], n)
	}
	wait("every adopted callback sent", func() bool { _, _, twice := requests(); return twice == n })
	wait("the callbacks done on both nodes", func() bool { return a.Holds().Len() == 0 && b.Holds().Len() == 0 })
	time.Sleep(1500 * time.Millisecond) // a scheduler tick of each: a callback sent twice would show
	if total, once, twice := requests(); total != 2*n || twice != n || once != 0 {
		t.Fatalf("%d requests (%d callbacks tried once, %d twice): want each of %d sent once after the earlier build's try", total, once, twice, n)
	}
	if st := wa.Stats(); st.TakenOver != uint64(got[0]) {
		t.Errorf("node 1's stats count %d taken over, it adopted %d", st.TakenOver, got[0])
	}
	if k, err := wa.AdoptShared(); k != 0 || err != nil {
		t.Fatalf("a later AdoptShared took %d (%v)", k, err)
	}
}
