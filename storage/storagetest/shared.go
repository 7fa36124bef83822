package storagetest

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// sharedCases use the whole store at once.
var sharedCases = []testCase{
	{name: "Concurrent", maxHeld: 1 << 12, run: concurrent},
	{name: "Allocations", run: allocations},
}

// concurrent drives every method from several goroutines at once, each on
// ids of its own, and checks what each wrote (run it with -race).
func concurrent(t *testing.T, e *env) {
	const workers, per = 4, 500
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			if err := worker(e, w, per); err != nil {
				errs <- err
			}
		})
	}
	wg.Go(func() { // the background goroutine's calls, meanwhile
		for range per {
			e.s.Sweep(e.now())
			_, _ = e.holds.Expire(e.now(), nil)
			_ = e.s.Stats()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.s.Len(); n != workers*per {
		t.Fatalf("Len = %d, want %d", n, workers*per)
	}
	if n := e.holds.Len(); n != 0 {
		t.Fatalf("%d held items left", n)
	}
}

// worker is one goroutine of concurrent: records, ids and held items of
// user w.
func worker(e *env, w, per int) error {
	user := "user" + strconv.Itoa(w)
	dst := make([]storage.Held, 8)
	var out storage.Record
	var key [16]byte
	for i := range per {
		mid := id(uint64(w*per + i + 1))
		r := record(mid, e.now())
		r.SystemID = user
		if err := e.retry(func() error { return e.s.Put(&r) }); err != nil {
			return err
		}
		if err := e.retry(func() error { return e.s.SetAccepted(mid, 0, 0, 0) }); err != nil {
			return err
		}
		if err := e.retry(func() error { return e.s.Finish(mid, msg.StateDelivered, 0, e.now(), &out) }); err != nil {
			return err
		}
		if out.ID != mid || out.SystemID != user || out.State != msg.StateDelivered {
			return errorf("worker %d: Finish gave %+v", w, out)
		}
		up := strconv.AppendInt(key[:0], int64(mid), 10)
		if err := e.retry(func() error { return e.s.PutUpstream(w, up, mid) }); err != nil {
			return err
		}
		if got, ok := e.s.Upstream(w, up); !ok || got != mid {
			return errorf("worker %d: Upstream = %v, %v", w, got, ok)
		}
		h := storage.Held{SystemID: user, Kind: storage.HeldMO, ID: mid, Body: up, Expires: e.now() + int64(time.Hour)}
		if err := e.retry(func() error { _, err := e.holds.Hold(&h); return err }); err != nil {
			return err
		}
		n, err := e.holds.Lease(user, e.now()+int64(time.Hour), dst)
		if err != nil {
			return err
		}
		for _, l := range dst[:n] {
			if l.SystemID != user {
				return errorf("worker %d leased %s's item", w, l.SystemID)
			}
			if err := e.retry(func() error { return e.holds.Ack(l.Key) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// retry runs write and, while the store refuses it for a reason outside
// the seam's errors (a durable store's full buffer while a loaded device is
// slow to fsync), again once everything written so far is committed, for
// up to a minute: what the hub's callers do, an ESME answered
// ESME_RMSGQFUL resubmitting later. A device that failed stops the wait.
func (e *env) retry(write func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := write()
		if err == nil || seamError(err) || time.Now().After(deadline) {
			return err
		}
		c := e.s.Committer()
		if werr := c.WaitCommitted(c.Written()); werr != nil {
			return errors.Join(err, werr)
		}
		if c.Written() == 0 {
			return err // a store that is not durable: nothing to wait for
		}
	}
}

// seamError reports whether err is one of the storage seam's own answers,
// which a retry would only repeat.
func seamError(err error) bool {
	for _, s := range []error{storage.ErrNotFound, storage.ErrHeldFull, storage.ErrBadUpstreamID, storage.ErrFinal, storage.ErrBadLedgerEntry} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// allocations: the per-message calls allocate nothing in steady state
// (the submit path's 0 allocations per message hold with every store).
func allocations(t *testing.T, e *env) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := record(id(1), e.now())
	e.put(t, r)
	var out storage.Record
	up := []byte("UP-0001")
	dst := make([]storage.Held, 4)
	h := storage.Held{SystemID: "alice", Kind: storage.HeldReceipt, Body: []byte("a receipt body"),
		Expires: e.now() + int64(time.Hour)}
	next := uint64(3)
	fresh := r
	body := []byte("a message's binary form, as msg.AppendBinary writes it")
	final := record(id(2), e.now())
	e.put(t, final)
	if err := e.s.SetState(final.ID, msg.StateDelivered, 0, e.now()); err != nil {
		t.Fatal(err)
	}
	charge := storage.LedgerEntry{SystemID: "alice", Kind: storage.LedgerCharge, Amount: 10, ID: r.ID}
	refund := storage.LedgerEntry{SystemID: "alice", Kind: storage.LedgerRefund, Amount: 10, ID: r.ID}
	checks := []struct {
		name string
		f    func() error
	}{
		{"Put and Delete a new id", func() error {
			fresh.ID = id(next)
			next++
			if err := e.s.Put(&fresh); err != nil {
				return err
			}
			return e.s.Delete(fresh.ID)
		}},
		{"PutMessage, SetAccepted, Finish and Delete a new id", func() error {
			fresh.ID = id(next)
			next++
			if err := e.s.PutMessage(&fresh, body); err != nil {
				return err
			}
			if err := e.s.SetAccepted(fresh.ID, 0, 0, 0); err != nil {
				return err
			}
			if err := e.s.Finish(fresh.ID, msg.StateDelivered, 0, e.now(), &out); err != nil {
				return err
			}
			return e.s.Delete(fresh.ID)
		}},
		{"Put same id", func() error { return e.s.Put(&r) }},
		{"Get", func() error { return e.s.Get(r.ID, &out) }},
		{"SetAccepted", func() error { return e.s.SetAccepted(r.ID, msg.StateDelivered, 0, e.now()) }},
		{"SetState", func() error { return e.s.SetState(r.ID, msg.StateEnroute, 0, 0) }},
		{"SetReplaced", func() error { return e.s.SetReplaced(r.ID, &r) }},
		{"Finish late (ErrFinal)", func() error {
			if err := e.s.Finish(final.ID, msg.StateDelivered, 0, e.now(), &out); !errors.Is(err, storage.ErrFinal) {
				return errorf("late Finish = %v", err)
			}
			return nil
		}},
		{"Ledger charge and refund", func() error {
			if err := e.s.Ledger().Append(&charge); err != nil {
				return err
			}
			return e.s.Ledger().Append(&refund)
		}},
		{"SetIDFloor", func() error { next++; return e.s.SetIDFloor(next) }},
		{"PutUpstream", func() error { return e.s.PutUpstream(1, up, r.ID) }},
		{"Upstream", func() error { e.s.Upstream(1, up); return nil }},
		{"PutUpstreamOf", func() error { return e.s.PutUpstreamOf(r.ID, up) }},
		{"UpstreamOf", func() error { _, _ = e.s.UpstreamOf(r.ID, out.Source[:0]); return nil }},
		{"Hold, Lease and Ack", func() error {
			if _, err := e.holds.Hold(&h); err != nil {
				return err
			}
			n, err := e.holds.Lease("alice", e.now()+int64(time.Minute), dst)
			if err != nil || n != 1 {
				return errorf("Lease = %d, %v", n, err)
			}
			return e.holds.Ack(dst[0].Key)
		}},
	}
	for _, c := range checks {
		var err error
		for range 100 { // warm up: first arrays, pools, buffers
			if err = c.f(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		if n := testing.AllocsPerRun(1000, func() { err = c.f() }); n != 0 {
			t.Errorf("%s: %.2f allocations per call", c.name, n)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		// A durable store's log catches up between checks, so the next one
		// measures allocations, not a buffer the disk is behind on.
		if cm := e.s.Committer(); cm.WaitCommitted(cm.Written()) != nil {
			t.Fatalf("%s: WaitCommitted failed", c.name)
		}
	}
}
