// Package bench is smppbench's load generator: a black-box SMPP v3.4 client
// that binds Sessions connections to an SMSC, keeps Window submit_sm
// outstanding on each, answers deliver_sm and correlates delivery receipts,
// and reports throughput and latency percentiles.
//
// It must never be the bottleneck of what it measures, so:
//
//   - every submit_sm is pre-encoded once per message kind (mix.go); sending
//     one copies the template into the session's write buffer and patches the
//     sequence number (and the concatenation reference) in place;
//   - each session is one goroutine that owns its connection, buffers, window
//     and histograms: it writes a whole batch with one Write and handles every
//     complete PDU of one Read; no channel, no lock on the submit path;
//   - nothing is allocated per message (allocation_test.go proves it);
//   - latency is measured from the intended send time: at a target rate the
//     schedule is fixed by the clock (open loop), so a stalled server shows up
//     in the percentiles instead of silently slowing the client down
//     (coordinated omission).
//
// bench imports the codec, never the engine.
package bench

import (
	"errors"
	"fmt"
	"time"
)

// BindMode is the bind PDU the sessions send.
type BindMode uint8

// Bind modes. Receipts need a transceiver: smppd delivers them on the
// session's own system_id, and a transmitter cannot receive deliver_sm.
const (
	BindTransmitter BindMode = iota
	BindTransceiver
)

// String returns "tx" or "trx".
func (m BindMode) String() string {
	if m == BindTransceiver {
		return "trx"
	}
	return "tx"
}

// Config is one run. The zero value is not usable: call Defaults first or
// set Addr, Sessions, Window and Duration or Count.
type Config struct {
	Addr       string   // host:port of the SMSC
	SystemID   string   // bind system_id (≤ 15 characters)
	Password   string   // bind password (≤ 8 characters)
	SystemType string   // bind system_type, usually empty
	Bind       BindMode // transmitter or transceiver
	Sessions   int      // concurrent binds, ≥ 1
	Window     int      // outstanding submit_sm per session, 1..MaxWindow

	// Duration bounds the measured sending phase; Count bounds the number of
	// submit_sm sent after warm-up (over all sessions). One of them must be
	// set; with both, whichever is reached first ends sending.
	Duration time.Duration
	Count    int64
	// Warmup is sent before measuring starts; nothing sent during it is
	// recorded.
	Warmup time.Duration

	// Rate is the target submit_sm per second over all sessions; 0 sends as
	// fast as the window allows (closed loop).
	Rate float64

	// Mix is the message mix, e.g. "gsm7" or "gsm7:70,ucs2:20,long:10": see
	// ParseMix. A long message counts as its three submit_sm parts.
	Mix string
	// Chars, when set (1..MaxChars), is the length in GSM7 characters of
	// every gsm7 and long message of the mix: one submit_sm up to 160,
	// concatenated parts of 153 past it. 0 keeps the kinds' own lengths.
	Chars int
	// Receipts sets registered_delivery=1 on every submit_sm and waits up
	// to ReceiptWait after the last response for the receipts.
	Receipts    bool
	ReceiptWait time.Duration
	// DrainWait is how long to wait for outstanding responses after sending
	// stops before counting them as unanswered.
	DrainWait time.Duration

	SourceAddr string // source_addr of every submit_sm
	DestAddr   string // destination_addr of every submit_sm

	// Progress, when set, is called every ProgressEvery from a separate
	// goroutine with running totals. It must return quickly.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// MaxWindow bounds Window: sequence numbers carry the slot index (window.go).
const MaxWindow = 1 << 16

// Defaults fills the fields left at their zero value.
func (c *Config) Defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:2775"
	}
	if c.Sessions == 0 {
		c.Sessions = 1
	}
	if c.Window == 0 {
		c.Window = 1
	}
	if c.Duration == 0 && c.Count == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Mix == "" {
		c.Mix = "gsm7"
	}
	if c.ReceiptWait == 0 {
		c.ReceiptWait = 10 * time.Second
	}
	if c.DrainWait == 0 {
		c.DrainWait = 5 * time.Second
	}
	if c.SourceAddr == "" {
		c.SourceAddr = "smppbench"
	}
	if c.DestAddr == "" {
		c.DestAddr = "491701234567"
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = time.Second
	}
}

// Validate reports the first unusable setting.
func (c *Config) Validate() error {
	switch {
	case c.Addr == "":
		return errors.New("bench: no address")
	case c.Sessions < 1:
		return errors.New("bench: sessions must be at least 1")
	case c.Window < 1 || c.Window > MaxWindow:
		return fmt.Errorf("bench: window must be 1..%d", MaxWindow)
	case c.Duration <= 0 && c.Count <= 0:
		return errors.New("bench: set a duration or a count")
	case c.Duration < 0 || c.Count < 0 || c.Warmup < 0 || c.Rate < 0:
		return errors.New("bench: negative duration, count, warm-up or rate")
	case len(c.SystemID) > 15:
		return errors.New("bench: system_id longer than 15 characters")
	case len(c.Password) > 8:
		return errors.New("bench: password longer than 8 characters")
	case c.Chars < 0 || c.Chars > MaxChars:
		return fmt.Errorf("bench: chars must be 0..%d", MaxChars)
	case c.Receipts && c.Bind != BindTransceiver:
		return errors.New("bench: receipts need -bind trx (a transmitter cannot receive deliver_sm)")
	}
	if _, err := ParseMix(c.Mix); err != nil {
		return err
	}
	return nil
}

// Progress is a running total, published by the sessions once per read.
type Progress struct {
	Elapsed   time.Duration // since the run started (warm-up included)
	Warmup    bool          // still in warm-up
	Bound     int           // sessions bound
	Submitted uint64        // submit_sm sent
	Responses uint64        // submit_sm_resp received
	Errors    uint64        // non-OK submit_sm_resp and generic_nack
	Receipts  uint64        // receipts matched
}

// Latency summarises one histogram, in microseconds.
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_us"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	P999  float64 `json:"p99_9_us"`
	Max   float64 `json:"max_us"`
}

// Result is a finished run. Counts cover the measured phase only (after
// warm-up).
type Result struct {
	Addr     string  `json:"addr"`
	Bind     string  `json:"bind"`
	Sessions int     `json:"sessions"`
	Window   int     `json:"window"`
	Mix      string  `json:"mix"`
	Chars    int     `json:"chars,omitempty"`
	Receipts bool    `json:"receipts"`
	Rate     float64 `json:"target_rate,omitempty"`
	Bound    int     `json:"bound"`

	// Elapsed runs from the end of warm-up to the last response or receipt
	// that was recorded; RespElapsed to the last response only, so that
	// receipts trickling in after sending stopped do not dilute SubmitRate.
	Elapsed     float64 `json:"elapsed_s"`
	RespElapsed float64 `json:"resp_elapsed_s"`

	Submitted     uint64            `json:"submitted"`
	Responses     uint64            `json:"responses"`
	OK            uint64            `json:"ok"`
	Throttled     uint64            `json:"throttled"`
	Errors        uint64            `json:"errors"` // other non-OK statuses
	GenericNacks  uint64            `json:"generic_nacks"`
	Unanswered    uint64            `json:"unanswered"`
	Statuses      map[string]uint64 `json:"statuses,omitempty"`
	SubmitRate    float64           `json:"submit_per_s"` // OK responses per second of RespElapsed
	DeliverSM     uint64            `json:"deliver_sm"`
	ReceiptsOK    uint64            `json:"receipts_matched"`
	ReceiptsOther uint64            `json:"receipts_unmatched"`
	ReceiptsLost  uint64            `json:"receipts_missing"`
	ReceiptsEarly uint64            `json:"receipts_early"` // matched, but arrived before the submit_sm_resp with their id
	ReceiptRate   float64           `json:"receipt_per_s"`  // matched receipts per second of Elapsed
	EnquireLinks  uint64            `json:"enquire_links"`

	SubmitResp    Latency `json:"submit_resp"`
	SubmitReceipt Latency `json:"submit_receipt"`

	// SessionErrors holds the first error of each session that failed
	// (connect, bind, I/O); the run still reports what the others did.
	SessionErrors []string `json:"session_errors,omitempty"`
}
