package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/cluster"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/jetstream"
)

// finalCount counts the final states a delivery service reports (what
// the CDR stream would write a line for).
type finalCount struct{ n atomic.Int32 }

func (f *finalCount) Final(msg.Final) { f.n.Add(1) }

// A message accepted on node 1 whose receipt reaches node 2: node 2
// records the final state, so node 2 reports its CDR line and sends its
// dlr-url callback; the same receipt reaching node 1 afterwards (an
// upstream resending it on another bind) reports no CDR line and sends no
// second callback there. Two nodes on one journal, each with the delivery
// side and the webhook sender as cmd/smppd wires them (durable).
func TestFinalStateOnceAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded JetStream")
	}
	node := joinOne(t)
	var mu sync.Mutex
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { mu.Lock(); hits++; mu.Unlock() }))
	defer srv.Close()
	type side struct {
		st     *jetstream.Store
		dl     *delivery.Service
		finals *finalCount
	}
	open := func(id int) side {
		st := openJournal(t, node, id, jetstream.Options{})
		wh, err := webhook.New(webhook.Options{Holds: st.Holds(), DeadLetters: st.DeadLetters(), Callbacks: st.Callbacks(),
			UpstreamIDs: st, Node: id, Client: srv.Client(), Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { wh.Stop(t.Context()) })
		f := &finalCount{}
		dl, err := delivery.New(delivery.Options{Messages: st, Holds: st.Holds(), DeadLetters: st.DeadLetters(),
			Pushes: wh, Finals: f, Durable: true, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		return side{st, dl, f}
	}
	n1, n2 := open(1), open(2)

	id := msg.ID(77<<12 | 1)
	rec := storage.Record{ID: id, SystemID: "ann", State: msg.StateEnroute, Submitted: time.Now().UnixNano()}
	if err := n1.st.Put(&rec); err != nil {
		t.Fatal(err)
	}
	cb := storage.Callback{ID: id, URL: srv.URL, Level: storage.CallbackFinal, Method: storage.CallbackPOST,
		Expires: time.Now().Add(time.Hour).UnixNano()}
	if err := n1.st.Callbacks().PutCallback(&cb); err != nil {
		t.Fatal(err)
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatal(what)
			}
		}
	}
	wait("node 2 applies the record and its callback", func() bool {
		var c storage.Callback
		return n2.st.Get(id, new(storage.Record)) == nil && n2.st.Callbacks().Callback(id, &c) == nil
	})

	receipt := func(d *delivery.Service) {
		t.Helper()
		if err := d.Receipt(&msg.Receipt{ID: id, State: msg.StateDelivered, Done: time.Now().UnixNano()}); err != nil {
			t.Fatal(err)
		}
	}
	receipt(n2.dl)
	wait("node 2's callback sent", func() bool { mu.Lock(); defer mu.Unlock(); return hits == 1 })
	wait("node 1 applies the final state and the callback's end", func() bool {
		var r storage.Record
		var c storage.Callback
		return n1.st.Get(id, &r) == nil && r.State.Final() && n1.st.Callbacks().Callback(id, &c) != nil
	})
	receipt(n1.dl) // the upstream's resend, on node 1
	receipt(n2.dl) // and again on node 2
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if a, b := n1.finals.n.Load(), n2.finals.n.Load(); a != 0 || b != 1 || hits != 1 {
		t.Fatalf("final states reported: node 1 %d, node 2 %d (want 0 and 1); callbacks sent %d (want 1)", a, b, hits)
	}
}

// joinOne joins node 1 of a one-server embedded JetStream, closed at the
// test's end.
// openJournal opens node id's store on n's cluster journal, its index in a
// directory of its own, closed when t ends; o sets the rest (Now nil: the
// wall clock).
func openJournal(t *testing.T, n *cluster.Node, id int, o jetstream.Options) *jetstream.Store {
	t.Helper()
	o.JS, o.Stream, o.Subject, o.Node = n.JetStream(), cluster.JournalStream, cluster.JournalSubject(id), id
	o.Dir, o.TTL, o.Logger = filepath.Join(t.TempDir(), "index"), time.Hour, zerolog.Nop()
	st, err := jetstream.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func joinOne(t *testing.T) *cluster.Node {
	t.Helper()
	n, err := cluster.Join(cluster.Options{NodeID: 1, Replicas: 1, JoinTimeout: 20 * time.Second, Logger: zerolog.Nop(),
		Embedded: cluster.Embedded{Name: "t", Listen: "127.0.0.1:" + strconv.Itoa(freePort(t)), RouteListen: "127.0.0.1:0",
			StoreDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}
