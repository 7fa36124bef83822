// Package coretest runs smppd's message core on 127.0.0.1 as cmd/smppd
// wires it, for the tests of what sits around it (the admin API, smppctl,
// the metrics): the engine binds through the hub's Authenticator and
// submits to the hub (engine → hub → connectors), and the hub hands the
// connectors' receipts and MO to the delivery side, which delivers through
// the engine (connectors → delivery → engine). Test code only.
package coretest

import (
	"context"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage/memory"
)

// Options say what the core routes and to whom.
type Options struct {
	// Hub needs Router, Connectors and Accounts; Start fills Messages,
	// Deliveries and IDs. Its Logger (the zero one writes nothing) and
	// ReceiptLatency go to the delivery side and the engine too.
	Hub flow.Options
	// Store keeps the records and held items; nil = a default memory store.
	Store *memory.Store
	// Delivery and Engine, when set, adjust those options before New.
	Delivery func(*delivery.Options)
	Engine   func(*engine.Options)
}

// Core is a running core; everything stops when the test ends.
type Core struct {
	Engine     *engine.Server
	Hub        *flow.Hub
	Deliveries *delivery.Service
	Store      *memory.Store
	SMPPAddr   string // the engine's listener
}

// Start builds the core from o and starts it: the delivery side, then the
// hub's connectors, then the engine.
func Start(t testing.TB, o Options) *Core {
	t.Helper()
	c := &Core{Store: o.Store}
	if c.Store == nil {
		c.Store = memory.New(memory.Options{})
	}
	ho := o.Hub
	if ho.IDs == nil {
		ids, err := msg.NewIDGen(3)
		if err != nil {
			t.Fatal(err)
		}
		ho.IDs = ids
	}
	var hub *flow.Hub // the delivery side's hooks reach it once built
	do := delivery.Options{Messages: c.Store, Holds: c.Store.Holds(), Routes: flow.MORoutes{Router: ho.Router},
		Users: delivery.UsersFunc(func(id string) bool {
			_, ok := ho.Accounts.Lookup(id)
			return ok
		}),
		ReceiptLatency: ho.ReceiptLatency, Logger: ho.Logger,
		Delivered: func(id string, mo bool) { hub.CountDelivered(id, mo) },
		Sweep:     func(now int64) { hub.Sweep(now) }}
	if o.Delivery != nil {
		o.Delivery(&do)
	}
	dl, err := delivery.New(do)
	if err != nil {
		t.Fatal(err)
	}
	ho.Messages, ho.Deliveries = c.Store, dl
	if hub, err = flow.New(ho); err != nil {
		t.Fatal(err)
	}
	eo := engine.Options{Addr: "127.0.0.1:0", EventLoops: 2, Authenticator: hub.Authenticator(),
		Submit: hub, Manage: hub, Binds: dl, Deliveries: dl, IDs: ho.IDs, Logger: ho.Logger,
		ResponseTimeout: 5 * time.Second}
	if o.Engine != nil {
		o.Engine(&eo)
	}
	srv, err := engine.New(eo)
	if err != nil {
		t.Fatal(err)
	}
	dl.Attach(srv)
	if err := dl.Start(); err != nil {
		t.Fatal(err)
	}
	if err := hub.Start(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = hub.Stop(ctx)
		dl.Stop(ctx)
	})
	c.Engine, c.Hub, c.Deliveries, c.SMPPAddr = srv, hub, dl, srv.Addr().String()
	return c
}

// Bind opens an SMPP session as user; it closes when the test ends.
func (c *Core) Bind(t testing.TB, kind codec.CommandID, user, pw string) *smpptest.Client {
	t.Helper()
	cl, err := smpptest.Dial(c.SMPPAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	h, _, err := cl.Bind(kind, user, pw, codec.InterfaceVersion34)
	if err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind %s: %v %v", user, h.Status, err)
	}
	return cl
}
