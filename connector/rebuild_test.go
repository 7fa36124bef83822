package connector_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/connectortest"
	"github.com/smppd/smppd/connector/sim"
)

// counted returns a Factory of simulators named name and how many it
// built.
func counted(name string) (connector.Factory, *int) {
	n := new(int)
	return func() (connector.Connector, error) {
		*n++
		return sim.New(name, sim.Options{Queue: 64, ReceiptDelay: time.Hour})
	}, n
}

// TestRebuild: a running connector is replaced by one from the new
// Factory; a halted one keeps halted and its next Resume uses it; a build
// that fails leaves it halted; after Stop, and before Start, it refuses.
func TestRebuild(t *testing.T) {
	first, _ := counted("a")
	c, err := first()
	if err != nil {
		t.Fatal(err)
	}
	r := connector.NewRestartable("sim", c, first)
	ctx := context.Background()
	b, built := counted("a")
	if err := r.Rebuild(ctx, b); !errors.Is(err, connector.ErrNotStarted) {
		t.Fatalf("before Start: %v", err)
	}
	if err := r.Start(connectortest.NewSink()); err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(ctx, b); err != nil || *built != 1 || r.Halted() || !r.Up() {
		t.Fatalf("running: err %v, built %d, halted %v, up %v", err, *built, r.Halted(), r.Up())
	}

	if err := r.Halt(ctx); err != nil {
		t.Fatal(err)
	}
	b2, built2 := counted("a")
	if err := r.Rebuild(ctx, b2); err != nil || *built2 != 0 || !r.Halted() {
		t.Fatalf("halted: err %v, built %d, halted %v", err, *built2, r.Halted())
	}
	if err := r.Resume(); err != nil || *built2 != 1 {
		t.Fatalf("resume with the new factory: err %v, built %d", err, *built2)
	}

	fail := errors.New("entry does not build")
	if err := r.Rebuild(ctx, func() (connector.Connector, error) { return nil, fail }); !errors.Is(err, fail) || !r.Halted() || r.Up() {
		t.Fatalf("failed build: err %v, halted %v", err, r.Halted())
	}
	if err := r.Rebuild(ctx, b2); err != nil || !r.Halted() {
		t.Fatalf("a good factory on a connector left halted: err %v, halted %v", err, r.Halted())
	}
	if err := r.Resume(); err != nil || r.Halted() {
		t.Fatalf("resume after a failed rebuild: %v", err)
	}

	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(ctx, b); !errors.Is(err, connector.ErrShutdown) {
		t.Fatalf("after Stop: %v", err)
	}
}
