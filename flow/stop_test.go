package flow

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
)

// startFails is a connector whose Start fails (a bad upstream address).
type startFails struct{ *fakeConn }

func (c startFails) Start(connector.Sink) error { return errors.New("upstream refused") }

// stopWithin runs th.Stop and fails the test if it has not returned
// within 10 s (it blocked for good before: waiting for goroutines that
// Start never ran).
func stopWithin(t *testing.T, th *testHub, what string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- th.Stop(context.Background()) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: Stop still blocked after 10 s", what)
		return nil
	}
}

// Stop is safe in every state: before Start (a start-up failure path
// calls it), after a Start that failed, and twice; a Start after a Stop
// is refused. The hub has every goroutine Start may run: the deferred
// answers (a Committer) and the spill checker (shared queues).
func TestStopInEveryState(t *testing.T) {
	full := func(o *Options) {
		o.Committer, o.Durable = &fakeCommitter{}, true
		o.Shared = &fakeShared{}
	}

	never := newHub(t, hubSpec{mod: full})
	if err := stopWithin(t, never, "never started"); err != nil {
		t.Fatalf("never started: Stop = %v", err)
	}
	if err := stopWithin(t, never, "never started, stopped again"); err != nil {
		t.Fatalf("second Stop = %v", err)
	}
	if err := never.Start(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop = %v, want ErrStopped", err)
	}

	failed := newHub(t, hubSpec{conns: 2, mod: func(o *Options) {
		full(o)
		o.Connectors[1] = startFails{o.Connectors[1].(*fakeConn)}
	}})
	if err := failed.Start(); err == nil {
		t.Fatal("Start with a connector that fails to start: no error")
	}
	if err := stopWithin(t, failed, "after a failed Start"); err != nil {
		t.Fatalf("after a failed Start: Stop = %v", err)
	}

	ran := newHub(t, hubSpec{mod: full})
	if err := ran.Start(); err != nil {
		t.Fatal(err)
	}
	if err := stopWithin(t, ran, "started"); err != nil {
		t.Fatalf("started: Stop = %v", err)
	}
	if err := stopWithin(t, ran, "started, stopped again"); err != nil {
		t.Fatalf("started: second Stop = %v", err)
	}
	if err := ran.Start(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Start and Stop = %v, want ErrStopped", err)
	}
}
