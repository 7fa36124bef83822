package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/internal/ring"
	"github.com/smppd/smppd/msg"
)

// Outcome is the final state the simulator gives an accepted message.
type Outcome uint8

// Outcomes, in the order of Options.Outcomes and Options.ErrorCodes.
const (
	Delivered     Outcome = iota // DELIVRD
	Undeliverable                // UNDELIV
	Expired                      // EXPIRED
	Rejected                     // REJECTD
	// NumOutcomes is the length of the per-outcome arrays in Options.
	NumOutcomes = 4
)

var outcomeNames = [NumOutcomes]string{"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD"}

var outcomeStates = [NumOutcomes]msg.State{msg.StateDelivered, msg.StateUndeliverable, msg.StateExpired, msg.StateRejected}

// String returns the receipt's stat: word (DELIVRD, UNDELIV, EXPIRED, REJECTD).
func (o Outcome) String() string {
	if o < NumOutcomes {
		return outcomeNames[o]
	}
	return "UNKNOWN"
}

// State returns the message state the outcome's receipt reports.
func (o Outcome) State() msg.State {
	if o < NumOutcomes {
		return outcomeStates[o]
	}
	return msg.StateUnknown
}

// Defaults applied by New to zero fields.
const (
	DefaultQueue        = 65536
	DefaultReceiptDelay = time.Second
	DefaultMaxPending   = 1 << 20
	// ReceiptsAtOnce as Options.ReceiptDelay reports the final receipt at
	// acceptance (0 there means DefaultReceiptDelay).
	ReceiptsAtOnce time.Duration = -1
	// MaxLatency and MaxReceiptDelay bound the delays, so adding them to
	// a Unix-nanosecond time cannot overflow.
	MaxLatency      = 24 * time.Hour
	MaxReceiptDelay = 30 * 24 * time.Hour
	// maxWeight bounds one outcome weight, so the sum cannot overflow.
	maxWeight = 1 << 30
	// maxErrCode is the largest err: value (three digits).
	maxErrCode = 999
)

// DefaultErrorCodes are the err: values used for ErrorCodes entries left 0.
var DefaultErrorCodes = [NumOutcomes]uint16{Delivered: 0, Undeliverable: 1, Expired: 2, Rejected: 3}

// Options configure a simulator. Zero fields take the default named on each.
type Options struct {
	// ID is the connector's routing table id, reported as Receipt.Connector.
	ID int
	// Queue is the queue capacity (rounded up to a power of two); default
	// 65536. The worker also holds at most that many messages waiting for
	// Latency or a schedule, so the connector owns at most 2×Queue.
	Queue int
	// Latency is the time from the worker taking a message off the ring
	// (at once when it keeps up) to Sink.Accepted; 0 = accept at once; at
	// most MaxLatency. A scheduled message is accepted Latency after its
	// schedule time.
	Latency time.Duration
	// ReceiptDelay is the time from acceptance to the final state and its
	// receipt; 0 = DefaultReceiptDelay (1s); ReceiptsAtOnce (any negative
	// value) = in the same step as the acceptance; at most MaxReceiptDelay.
	ReceiptDelay time.Duration
	// Outcomes are the weights of the final states, indexed by Outcome
	// (for example {Delivered: 90, Undeliverable: 10}); each 0..2^30. All
	// zero = every message DELIVRD.
	Outcomes [NumOutcomes]int
	// ErrorCodes are the receipt err: values per Outcome, 0..999; a 0 entry
	// takes DefaultErrorCodes.
	ErrorCodes [NumOutcomes]uint16
	// MOEchoPrefixes: an MT whose destination address starts with one of
	// these is echoed back as an MO after its acceptance. "" matches every
	// destination; nil echoes nothing.
	MOEchoPrefixes []string
	// Intermediate: at acceptance, also report an ENROUTE intermediate
	// receipt for messages whose registered_delivery asks for intermediate
	// notifications (bit 0x10, SMPP 3.4 §5.2.17).
	Intermediate bool
	// MaxPending bounds the receipts waiting for ReceiptDelay; default
	// 1<<20 (24 bytes each). When it is reached the oldest is reported
	// early (counted in Counters.EarlyReceipts), never dropped.
	MaxPending int
	// Seed seeds the outcome draw: the same seed and the same message order
	// give the same outcomes. 0 = random.
	Seed int64
	// Clock returns the time in Unix nanoseconds; nil = the wall clock at
	// New advanced by the monotonic clock (a wall-clock step then does not
	// stall the pending receipts). Tests inject a fake and call Poke after
	// moving it. Called by the worker only.
	Clock func() int64
	// Manual builds a simulator without a worker goroutine: the caller
	// drives it with Step (connector.Options.Manual; tests).
	Manual bool
}

// Errors returned by New.
var (
	ErrOptions = errors.New("sim: invalid options")
)

// settings are Options after defaults, in the worker's units.
type settings struct {
	id           int
	queue        int
	latency      int64 // ns
	receiptDelay int64 // ns; 0 = at once
	cum          [NumOutcomes]uint64
	total        uint64
	only         Outcome // the outcome when a single weight is non-zero
	single       bool
	codes        [NumOutcomes]uint16
	prefixes     [][]byte
	intermediate bool
	maxPending   int
	seed         uint64
	clock        func() int64
}

// withDefaults validates o and applies the defaults.
func (o Options) withDefaults() (settings, error) {
	var s settings
	bad := func(format string, args ...any) (settings, error) {
		return settings{}, fmt.Errorf("%w: "+format, append([]any{ErrOptions}, args...)...)
	}
	s.id = o.ID
	switch {
	case o.Queue < 0 || o.Queue > ring.MaxCapacity:
		return bad("queue %d not in 0..%d", o.Queue, ring.MaxCapacity)
	case o.Queue == 0:
		s.queue = DefaultQueue
	default:
		s.queue = o.Queue
	}
	if o.Latency < 0 || o.Latency > MaxLatency {
		return bad("latency %v not in 0..%v", o.Latency, MaxLatency)
	}
	if o.ReceiptDelay > MaxReceiptDelay {
		return bad("receipt delay %v above %v", o.ReceiptDelay, MaxReceiptDelay)
	}
	s.latency = int64(o.Latency)
	switch {
	case o.ReceiptDelay == 0:
		s.receiptDelay = int64(DefaultReceiptDelay)
	case o.ReceiptDelay > 0:
		s.receiptDelay = int64(o.ReceiptDelay)
	}

	weights := o.Outcomes
	if weights == [NumOutcomes]int{} {
		weights[Delivered] = 100
	}
	nonZero := 0
	for i, w := range weights {
		if w < 0 || w > maxWeight {
			return bad("outcome %s weight %d not in 0..%d", Outcome(i), w, maxWeight)
		}
		s.total += uint64(w)
		s.cum[i] = s.total
		if w > 0 {
			nonZero++
			s.only = Outcome(i)
		}
	}
	s.single = nonZero == 1

	for i, c := range o.ErrorCodes {
		switch {
		case c > maxErrCode:
			return bad("error code %d for %s above %d", c, Outcome(i), maxErrCode)
		case c == 0:
			s.codes[i] = DefaultErrorCodes[i]
		default:
			s.codes[i] = c
		}
	}
	for _, p := range o.MOEchoPrefixes {
		s.prefixes = append(s.prefixes, []byte(p))
	}
	s.intermediate = o.Intermediate

	switch {
	case o.MaxPending < 0 || o.MaxPending > ring.MaxCapacity:
		return bad("max pending %d not in 0..%d", o.MaxPending, ring.MaxCapacity)
	case o.MaxPending == 0:
		s.maxPending = DefaultMaxPending
	default:
		s.maxPending = o.MaxPending
	}
	s.seed = uint64(o.Seed)
	s.clock = o.Clock
	if s.clock == nil {
		s.clock = connector.MonotonicClock()
	}
	return s, nil
}
