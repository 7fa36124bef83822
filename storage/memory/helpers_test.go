package memory

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// t0 is the fake clock's start: any fixed instant well after the Unix epoch.
const t0 = int64(1_760_000_000) * int64(time.Second)

// fakeClock is an injected Options.Now.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t0)
	return c
}

func (c *fakeClock) now() int64              { return c.ns.Load() }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// rec returns a Record for id submitted at sub, with addresses derived from
// id so a wrong copy shows.
func rec(id msg.ID, sub int64) storage.Record {
	r := storage.Record{
		ID: id, SystemID: "user", State: msg.StateEnroute, RegisteredDelivery: 1, DataCoding: 8,
		ESMClass: 0x40, SourceTON: 5, SourceNPI: 0, DestTON: 1, DestNPI: 1, Connector: 3, Submitted: sub,
	}
	hex := id.AppendHex(nil)
	r.SetAddrs(hex[:10], append([]byte("4479"), hex...), append([]byte("text "), hex...))
	return r
}

func mustGet(t *testing.T, s *Store, id msg.ID) storage.Record {
	t.Helper()
	var out storage.Record
	if err := s.Get(id, &out); err != nil {
		t.Fatalf("Get(%v): %v", id, err)
	}
	return out
}
