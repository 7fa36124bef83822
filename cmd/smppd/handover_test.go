package main

import (
	"sync"
	"testing"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
)

// fakeSeams records what the gate passes on to the hub and the delivery
// service.
type fakeSeams struct {
	mu       sync.Mutex
	submits  int
	turns    int
	manages  int
	bound    map[string]int // receivers per user, as the delivery service counts them
	outcomes int
}

func (f *fakeSeams) HandleSubmit(_ *engine.SubmitRequest, res *engine.SubmitResult) {
	f.submits++
	res.MessageID = append(res.MessageID, "id"...)
}
func (f *fakeSeams) EndTurn() { f.turns++ }
func (f *fakeSeams) HandleQuery(_ *engine.ManageRequest, _ *engine.QueryResult) {
	f.manages++
}
func (f *fakeSeams) HandleCancel(*engine.ManageRequest) codec.Status {
	f.manages++
	return codec.StatusOK
}
func (f *fakeSeams) HandleReplace(*engine.ManageRequest) codec.Status {
	f.manages++
	return codec.StatusOK
}
func (f *fakeSeams) Bound(id string, _ engine.BindType) {
	f.mu.Lock()
	f.bound[id]++
	f.mu.Unlock()
}
func (f *fakeSeams) Unbound(id string, _ engine.BindType) {
	f.mu.Lock()
	f.bound[id]--
	f.mu.Unlock()
}
func (f *fakeSeams) DeliveryDone(*engine.Delivery, codec.Status, error) { f.outcomes++ }

// TestHandoverHoldsUntilOpen: before open a submit waits while the engine
// may hold it and is refused ESME_RMSGQFUL after, query/cancel/replace are
// throttled and nothing reaches the hub; binds made meanwhile (less those
// gone again) reach the delivery service at open; after open everything
// goes straight through.
func TestHandoverHoldsUntilOpen(t *testing.T) {
	h := newHandover()
	f := &fakeSeams{bound: map[string]int{}}

	var res engine.SubmitResult
	h.HandleSubmit(&engine.SubmitRequest{MayWait: true}, &res)
	if !res.Wait {
		t.Fatal("a submit that may wait was not held")
	}
	res = engine.SubmitResult{}
	h.HandleSubmit(&engine.SubmitRequest{}, &res)
	if res.Wait || res.Status != codec.StatusMsgQFul {
		t.Fatalf("past its wait: %+v, want ESME_RMSGQFUL", res)
	}
	var q engine.QueryResult
	h.HandleQuery(&engine.ManageRequest{}, &q)
	if q.Status != codec.StatusThrottled || h.HandleCancel(nil) != codec.StatusThrottled || h.HandleReplace(nil) != codec.StatusThrottled {
		t.Fatal("query, cancel or replace not throttled before open")
	}
	h.EndTurn()

	h.Bound("a", engine.BindReceiver)
	h.Bound("a", engine.BindTransceiver)
	h.Bound("b", engine.BindReceiver)
	h.Unbound("b", engine.BindReceiver)
	h.attach(f, f, nil)
	h.Bound("c", engine.BindTransceiver) // attached, not open: still counted
	if len(f.bound) != 0 || f.submits+f.turns+f.manages != 0 {
		t.Fatalf("reached the hub or the delivery service before open: %+v", f)
	}
	h.open(func(n int) {
		if n != 3 || h.ready.Load() {
			t.Fatalf("open reported %d binds (ready %v), want 3 before ready", n, h.ready.Load())
		}
	})
	if f.bound["a"] != 2 || f.bound["b"] != 0 || f.bound["c"] != 1 {
		t.Fatalf("binds at open %v", f.bound)
	}

	res = engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	h.HandleSubmit(&engine.SubmitRequest{MayWait: true}, &res)
	if res.Wait || string(res.MessageID) != "id" || f.submits != 1 {
		t.Fatalf("after open the submit did not reach the hub: %+v", res)
	}
	h.EndTurn()
	h.HandleQuery(&engine.ManageRequest{}, &q)
	h.HandleCancel(nil)
	h.HandleReplace(nil)
	h.Unbound("a", engine.BindReceiver)
	h.DeliveryDone(nil, codec.StatusOK, nil)
	if f.turns != 1 || f.manages != 3 || f.bound["a"] != 1 || f.outcomes != 1 {
		t.Fatalf("after open: %+v", f)
	}
	if h.refused.Load() != 1 {
		t.Fatalf("refused %d, want 1", h.refused.Load())
	}
}

// TestHandoverOpenRacesBinds: binds and unbinds on many goroutines while
// open runs leave the delivery service with exactly the sessions still
// bound.
func TestHandoverOpenRacesBinds(t *testing.T) {
	h := newHandover()
	f := &fakeSeams{bound: map[string]int{}}
	h.attach(f, f, nil)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				h.Bound("u", engine.BindTransceiver)
				if i%2 == 1 {
					h.Unbound("u", engine.BindTransceiver)
				}
			}
		}()
	}
	h.open(func(int) {})
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bound["u"] != 8*250 {
		t.Fatalf("delivery service counts %d receivers, want %d", f.bound["u"], 8*250)
	}
}
