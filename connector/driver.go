package connector

import (
	"math"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
)

// Driver is a connector kind's upstream side, run by a Runtime. The Runtime
// calls Send, Room, Due, Next and Busy from its worker (or an event loop
// helping it), one at a time under its lock; Open and Close once each, at
// Start and at the end of Stop. Embed BuiltinDriver and write Send plus
// whatever the kind needs.
//
// The driver owns each message Send gives it until it reports it through
// Runtime.Accept, Runtime.Fail or Runtime.Abandon, which release it: those
// three, Runtime.Receipt and Runtime.MO are the only way outcomes leave a
// driver, from any goroutine (Runtime.AcceptInStep and ReceiptInStep are
// Accept and Receipt from Send, Due or Close only).
type Driver interface {
	// Open starts the driver's own goroutines (binds, readers), before
	// the first Send.
	Open() error
	// Send takes a batch off the queue, oldest first, taken at now (Unix
	// ns, the Runtime's clock). The Runtime clears the slice afterwards:
	// keep the messages, not the slice.
	Send(batch []*msg.Message, now int64)
	// Room is how many more messages Send may be given now; the queue
	// holds the rest (and fills: back-pressure).
	Room() int
	// Due does the work due at now (timers, retries, receipts), at most
	// budget units of it (< 0: all), and returns what is left of budget. A
	// helping event loop passes a small budget. A step calls it first and,
	// if the clock moved while batches were sent, once more after them:
	// Send does itself what it would make due at its own now.
	Due(now int64, budget int) int
	// Next returns the earliest time the driver has work due; false: none
	// (it calls Runtime.Wake when something comes up).
	Next() (int64, bool)
	// Busy reports work that must finish before a drain ends besides the
	// messages the driver holds, which the Runtime counts itself (the
	// simulator's pending receipts).
	Busy() bool
	// Close ends the driver at the end of Stop, drained or cut short: it
	// stops its goroutines and hands every message it still holds to
	// Runtime.Abandon; at returns, it holds none.
	Close(now int64)
	// Up reports whether the upstream can take messages now (a bind is
	// up). Lock-free: routing asks on every message.
	Up() bool
	// Stats adds the driver's own counters (Submitted, Retried, Binds,
	// Reconnect) to what the Runtime filled in.
	Stats(st *Stats)
	// CancelUpstream and ReplaceUpstream are Connector's, asked only when
	// Caps declares them and the connector is running.
	CancelUpstream(id msg.ID, p *codec.CancelSM, done UpstreamDone) bool
	ReplaceUpstream(id msg.ID, p *codec.ReplaceSM, done UpstreamDone) bool
}

// BuiltinDriver gives every Driver method but Send a default, in the
// manner of gnet's BuiltinEventEngine: no goroutines, unlimited room, no
// timed work, always up, nothing forwarded.
type BuiltinDriver struct{}

// Open implements Driver: nothing to start.
func (BuiltinDriver) Open() error { return nil }

// Room implements Driver: no limit of its own.
func (BuiltinDriver) Room() int { return math.MaxInt }

// Due implements Driver: nothing timed.
func (BuiltinDriver) Due(_ int64, budget int) int { return budget }

// Next implements Driver: nothing timed.
func (BuiltinDriver) Next() (int64, bool) { return 0, false }

// Busy implements Driver: only held messages.
func (BuiltinDriver) Busy() bool { return false }

// Close implements Driver: nothing held past Send.
func (BuiltinDriver) Close(int64) {}

// Up implements Driver: up while running.
func (BuiltinDriver) Up() bool { return true }

// Stats implements Driver: no counters of its own.
func (BuiltinDriver) Stats(*Stats) {}

// CancelUpstream implements Driver: not supported.
func (BuiltinDriver) CancelUpstream(msg.ID, *codec.CancelSM, UpstreamDone) bool { return false }

// ReplaceUpstream implements Driver: not supported.
func (BuiltinDriver) ReplaceUpstream(msg.ID, *codec.ReplaceSM, UpstreamDone) bool { return false }
