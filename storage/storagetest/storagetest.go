// Package storagetest is the conformance suite of the storage seam: Run
// runs every case against one storage.Store implementation, so each store
// (storage/memory today, a durable one later) is held to the same
// contract. A store's own test calls Run with a function that opens an
// empty store; cases about what only one store does (eviction order,
// shard growth, files) stay in that store's package.
package storagetest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Config is what a case asks of the store it opens.
type Config struct {
	// Dir is a directory of the case's own, empty at the case's start, for
	// a store that keeps files; the same across a reopen.
	Dir string
	// MaxHeld is the held-item limit (storage.ErrHeldFull beyond it).
	MaxHeld int
	// HeldShare is each user's share of the held items (nil: none).
	HeldShare storage.HeldLimit
	// MaxDeadLetters bounds the dead-letter list.
	MaxDeadLetters int
	// TTL is the lifetime of records and upstream ids.
	TTL time.Duration
	// Now is the store's clock (Unix ns): Put stamps with it and the TTL
	// is read on it.
	Now func() int64
}

// Open returns a store configured by c for one case, empty at the case's
// start; Run closes it when the case ends. A durable store opened again on
// the same c (after Close) has what it had.
type Open func(t *testing.T, c Config) storage.Store

// Defaults of the cases' Config.
const (
	maxHeld        = 64
	maxDeadLetters = 8
	ttl            = time.Hour
)

// t0 is the cases' clock at start: a fixed instant well after the epoch.
const t0 = int64(1_760_000_000) * int64(time.Second)

// Run runs every case against the stores open returns.
func Run(t *testing.T, open Open) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newEnv(t, open, c)) })
	}
}

// RunDurable runs every case of Run, and the cases of a store that keeps
// what it has across a Close and an Open on the same Config.
func RunDurable(t *testing.T, open Open) {
	Run(t, open)
	for _, c := range concat(durableCases, durableCallbackCases, durableFindCases, durableRewrittenCases) {
		t.Run(c.name, func(t *testing.T) { c.run(t, newEnv(t, open, c)) })
	}
}

type testCase struct {
	name    string
	maxHeld int               // 0: maxHeld
	share   storage.HeldLimit // the Config's HeldShare
	run     func(t *testing.T, e *env)
}

// cases is every case of the suite, in the order they run.
var cases = concat(messageCases, upstreamCases, holdCases, seamCases, sharedCases, callbackCases, findCases, rewrittenCases)

func concat(lists ...[]testCase) []testCase {
	var out []testCase
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// env is one case's store, its holds and its clock, and how to open the
// store again.
type env struct {
	s     storage.Store
	holds storage.Holds
	clk   atomic.Int64
	open  Open
	cfg   Config
}

func newEnv(t *testing.T, open Open, c testCase) *env {
	held := c.maxHeld
	if held == 0 {
		held = maxHeld
	}
	e := &env{open: open}
	e.clk.Store(t0)
	e.cfg = Config{Dir: t.TempDir(), MaxHeld: held, HeldShare: c.share, MaxDeadLetters: maxDeadLetters, TTL: ttl, Now: e.now}
	e.s = open(t, e.cfg)
	e.holds = e.s.Holds()
	t.Cleanup(func() {
		if err := e.s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// reopen closes the store and opens it again on the same Config.
func (e *env) reopen(t *testing.T) {
	t.Helper()
	if err := e.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	e.s = e.open(t, e.cfg)
	e.holds = e.s.Holds()
}

func (e *env) now() int64              { return e.clk.Load() }
func (e *env) advance(d time.Duration) { e.clk.Add(int64(d)) }

// record returns a Record for id submitted at sub, every field set and the
// addresses derived from id, so a wrong or partial copy shows.
func record(id msg.ID, sub int64) storage.Record {
	r := storage.Record{
		ID: id, SystemID: "alice", State: msg.StateEnroute, Err: 0, RegisteredDelivery: 1, DataCoding: 8,
		ESMClass: 0x40, SourceTON: 5, SourceNPI: 2, DestTON: 1, DestNPI: 1, Connector: 3, Submitted: sub, Parts: 2,
		Expires: sub + int64(30*time.Minute), Charge: 1500, ChargeParts: 2, MTRoute: "main",
	}
	hex := id.AppendHex(nil)
	r.SetAddrs(hex[:10], append([]byte("4479"), hex[:12]...), append([]byte("text "), hex...))
	return r
}

// id returns a message id shaped like msg.IDGen's: a counter above the
// node bits.
func id(i uint64) msg.ID { return msg.ID(i<<12 | 7) }

// mustGet returns id's record or fails the case.
func (e *env) mustGet(t *testing.T, id msg.ID) storage.Record {
	t.Helper()
	var out storage.Record
	if err := e.s.Get(id, &out); err != nil {
		t.Fatalf("Get(%v): %v", id, err)
	}
	return out
}

// put stores r or fails the case.
func (e *env) put(t *testing.T, r storage.Record) {
	t.Helper()
	if err := e.s.Put(&r); err != nil {
		t.Fatalf("Put(%v): %v", r.ID, err)
	}
}

// errorf is fmt.Errorf for the cases' worker goroutines.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
