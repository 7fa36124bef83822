package storagetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/storage"
)

// callbackCases hold a store to storage.Callbacks' contract.
var callbackCases = []testCase{
	{name: "Callbacks/PutGetReplace", run: callbacksPutGet},
	{name: "Callbacks/Invalid", run: callbacksInvalid},
	{name: "Callbacks/Delete", run: callbacksDelete},
	{name: "Callbacks/Lifetime", run: callbacksLifetime},
}

// durableCallbackCases: what survives a Close and an Open.
var durableCallbackCases = []testCase{
	{name: "Durable/Callbacks", run: durableCallbacks},
}

func callback(i uint64) storage.Callback {
	return storage.Callback{ID: id(i), Level: storage.CallbackBoth, Method: storage.CallbackGET,
		URL: "http://127.0.0.1:8080/dlr?n=" + string(rune('a'+i%26))}
}

// mustCallback returns id i's callback or fails the case.
func (e *env) mustCallback(t *testing.T, i uint64) storage.Callback {
	t.Helper()
	var out storage.Callback
	if err := e.s.Callbacks().Callback(id(i), &out); err != nil {
		t.Fatalf("Callback(%d): %v", i, err)
	}
	return out
}

func (e *env) putCallback(t *testing.T, c storage.Callback) {
	t.Helper()
	if err := e.s.Callbacks().PutCallback(&c); err != nil {
		t.Fatalf("PutCallback(%v): %v", c.ID, err)
	}
}

func callbacksPutGet(t *testing.T, e *env) {
	cbs := e.s.Callbacks()
	var out storage.Callback
	if err := cbs.Callback(id(1), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Callback of an unknown id = %v, want ErrNotFound", err)
	}
	for i := uint64(1); i <= 3; i++ {
		e.putCallback(t, callback(i))
	}
	for i := uint64(1); i <= 3; i++ {
		if got, want := e.mustCallback(t, i), callback(i); got != want {
			t.Errorf("Callback(%d) = %+v, want %+v", i, got, want)
		}
	}
	c := storage.Callback{ID: id(2), Level: storage.CallbackBoth, Method: storage.CallbackPOST, Done: storage.CallbackAccepted,
		URL: "https://example.net/x"}
	e.putCallback(t, c)
	if got := e.mustCallback(t, 2); got != c {
		t.Fatalf("replaced callback = %+v, want %+v", got, c)
	}
	if n := e.s.Stats().Callbacks; n != 3 {
		t.Fatalf("Stats.Callbacks = %d, want 3", n)
	}
}

func callbacksInvalid(t *testing.T, e *env) {
	long := "http://h/" + strings.Repeat("x", storage.MaxCallbackURL)
	for _, c := range []storage.Callback{
		{ID: id(1), Level: 1},
		{ID: id(1), Level: 1, URL: long},
		{ID: id(1), Level: 0, URL: "http://h/"},
		{ID: id(1), Level: 4, URL: "http://h/"},
		{ID: id(1), Level: 1, Method: 2, URL: "http://h/"},
		{ID: id(1), Level: 1, Done: 4, URL: "http://h/"},
	} {
		if err := e.s.Callbacks().PutCallback(&c); !errors.Is(err, storage.ErrBadCallback) {
			t.Errorf("PutCallback(%+v) = %v, want ErrBadCallback", c, err)
		}
	}
	var out storage.Callback
	if err := e.s.Callbacks().Callback(id(1), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused callback is kept: %v", err)
	}
	c := storage.Callback{ID: id(1), Level: 1, URL: "http://h/" + strings.Repeat("y", storage.MaxCallbackURL-9)}
	e.putCallback(t, c) // exactly MaxCallbackURL octets
	if got := e.mustCallback(t, 1); got != c {
		t.Fatal("the longest URL is not kept whole")
	}
}

func callbacksDelete(t *testing.T, e *env) {
	e.putCallback(t, callback(1))
	e.putCallback(t, callback(2))
	cbs := e.s.Callbacks()
	if err := cbs.DeleteCallback(id(1)); err != nil {
		t.Fatal(err)
	}
	var out storage.Callback
	if err := cbs.Callback(id(1), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Callback after DeleteCallback = %v, want ErrNotFound", err)
	}
	if err := cbs.DeleteCallback(id(1)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second DeleteCallback = %v, want ErrNotFound", err)
	}
	e.mustCallback(t, 2)
	if n := e.s.Stats().Callbacks; n != 1 {
		t.Fatalf("Stats.Callbacks = %d, want 1", n)
	}
}

// callbacksLifetime: a callback lives the TTL from its put, or from the
// message's validity end when that is later; Sweep reclaims it after.
func callbacksLifetime(t *testing.T, e *env) {
	e.putCallback(t, callback(1))
	c := callback(2)
	c.Expires = e.now() + int64(2*ttl)
	e.putCallback(t, c)
	e.advance(ttl - time.Second)
	e.mustCallback(t, 1)
	e.advance(2 * time.Second)
	var out storage.Callback
	if err := e.s.Callbacks().Callback(id(1), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Callback past its TTL = %v, want ErrNotFound", err)
	}
	c.Expires = 0
	if got := e.mustCallback(t, 2); got != c {
		t.Fatalf("Callback(2) = %+v, want %+v", got, c)
	}
	e.advance(2 * ttl)
	for range 100 {
		e.s.Sweep(e.now())
	}
	if n := e.s.Stats().Callbacks; n != 0 {
		t.Fatalf("Stats.Callbacks after the lifetimes and sweeps = %d, want 0", n)
	}
}

func durableCallbacks(t *testing.T, e *env) {
	for i := uint64(1); i <= 4; i++ {
		e.putCallback(t, callback(i))
	}
	c := storage.Callback{ID: id(3), Level: storage.CallbackBoth, Done: storage.CallbackFinal, URL: "https://example.net/replaced"}
	e.putCallback(t, c)
	if err := e.s.Callbacks().DeleteCallback(id(2)); err != nil {
		t.Fatal(err)
	}
	e.reopen(t)
	var out storage.Callback
	if err := e.s.Callbacks().Callback(id(2), &out); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a deleted callback is back after reopen: %v", err)
	}
	for _, i := range []uint64{1, 4} {
		if got, want := e.mustCallback(t, i), callback(i); got != want {
			t.Errorf("after reopen Callback(%d) = %+v, want %+v", i, got, want)
		}
	}
	if got := e.mustCallback(t, 3); got != c {
		t.Errorf("after reopen Callback(3) = %+v, want %+v", got, c)
	}
	if n := e.s.Stats().Callbacks; n != 3 {
		t.Fatalf("after reopen Stats.Callbacks = %d, want 3", n)
	}
}
