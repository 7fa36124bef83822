package smppout

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/connector"
)

// BindMode is how the connector binds to the upstream.
type BindMode string

// Bind modes.
const (
	// Transceiver binds Binds bind_transceiver sessions; each submits and
	// receives receipts and MO.
	Transceiver BindMode = "transceiver"
	// TxRx binds Binds bind_transmitter sessions (they submit) plus Binds
	// bind_receiver sessions (they receive receipts and MO).
	TxRx BindMode = "tx+rx"
)

// IDFormat says how the upstream writes message ids, so an id from a
// submit_sm_resp and the same id echoed in a receipt map to one key (SMSCs
// answer "1A2B" and report "6699": SMPP 3.4 Appendix B leaves the id
// format of receipts to the SMSC).
type IDFormat uint8

// Id formats.
const (
	// IDAuto (the default): ids are compared as opaque text ignoring case
	// and leading zeros; a receipt id that finds nothing is retried read
	// as decimal (looked up as its hex value) and as hex (looked up as its
	// decimal value). Meant for upstreams whose bases are unknown.
	IDAuto IDFormat = iota
	// IDText: opaque ids, compared ignoring case and leading zeros only.
	IDText
	// IDHex: hexadecimal, optional 0x prefix.
	IDHex
	// IDDecimal: decimal digits.
	IDDecimal
)

func (f IDFormat) base() receipt.IDBase {
	switch f {
	case IDHex:
		return receipt.IDHex
	case IDDecimal:
		return receipt.IDDecimal
	}
	return receipt.IDText
}

// Options configure a Connector. Durations of 0 take the default named on
// each field.
type Options struct {
	// Name is the configured connector name (Connector.Name,
	// Inbound.Connector); required.
	Name string
	// ID is the routing table id: the IDMap and Receipt.Connector key.
	ID int

	// Host and Port of the upstream SMSC.
	Host string
	Port int
	// TLS, when set, wraps every connection (ServerName defaults to Host).
	TLS *tls.Config

	// SystemID, Password and SystemType go into every bind.
	SystemID, Password, SystemType string
	// BindMode: Transceiver (default) or TxRx.
	BindMode BindMode
	// Binds is the number of sessions (pairs with TxRx); default 1.
	Binds int
	// BindGate, when set, is how many of the Binds (pairs with TxRx) may
	// be bound now: the sessions past it do not bind, and a bound one
	// past it stops taking submits and unbinds once nothing of it is in
	// flight (gate.go). A cluster node's share of cluster_binds; nil = all.
	BindGate func() int
	// BindGateRaise is how long the gate must answer a higher count before
	// more sessions bind; default 2 s (two cluster heartbeats).
	BindGateRaise time.Duration
	// Window is the submit_sm outstanding per transmitting session; default 10.
	Window int
	// Throughput caps submit_sm per second across the connector (every part
	// counts); 0 = unlimited. Burst is the token bucket depth; default 1
	// (evenly spaced).
	Throughput float64
	Burst      int

	// EnquireLink is the idle time after which an enquire_link is sent;
	// default 30 s.
	EnquireLink time.Duration
	// ResponseTimeout bounds the wait for bind_resp, submit_sm_resp,
	// enquire_link_resp and every write; default 30 s. A submit_sm
	// unanswered for that long is retried.
	ResponseTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the exponential backoff (with
	// jitter) between connection attempts; defaults 1 s and 60 s.
	ReconnectMin, ReconnectMax time.Duration

	// Queue is the ring capacity (rounded up to a power of two); default
	// 4096. The connector also holds up to Queue + Binds*Window messages
	// past the ring (waiting for a bind, for a retry, or in flight).
	Queue int
	// RetryMin and RetryMax bound the backoff after a temporary refusal,
	// a response timeout or a lost connection; defaults 1 s and 60 s.
	RetryMin, RetryMax time.Duration
	// TemporaryStatuses are the submit_sm_resp statuses retried; nil means
	// ESME_RTHROTTLED, ESME_RMSGQFUL, ESME_RSYSERR and ESME_RX_T_APPN.
	// Every other non-zero status is a permanent refusal.
	TemporaryStatuses []codec.Status
	// DefaultValidity is the lifetime of a message whose Expires is 0,
	// counted from its Received time; default 24 h.
	DefaultValidity time.Duration
	// SupportsPayload false makes the connector split a message_payload
	// into concatenated parts (8-bit reference UDH), each its own submit_sm.
	SupportsPayload bool
	// SourceTON and SourceNPI, when set, replace the message's
	// source_addr_ton and source_addr_npi on every submit_sm (an upstream
	// that wants its own numbering for the sender); nil passes them through.
	SourceTON, SourceNPI *uint8

	// IDMap records upstream ids (required).
	IDMap connector.IDMap
	// RespIDFormat and ReceiptIDFormat describe the upstream's ids in
	// submit_sm_resp and in receipts; default IDAuto.
	RespIDFormat, ReceiptIDFormat IDFormat
	// ParkTTL and ParkMax bound receipts kept while their upstream id is
	// not yet mapped (the receipt overtook the submit_sm_resp); defaults
	// 30 s and 1024.
	ParkTTL time.Duration
	ParkMax int
	// Parker keeps a copy of each parked receipt in the store until the
	// sink has it, so its ESME_ROK survives a crash; nil: memory only.
	Parker connector.Parker

	// Logger receives bind, reconnect and refusal events (zero value: off).
	Logger zerolog.Logger
	// Now is the clock for expiry, scheduling and the throughput bucket
	// (default time.Now). Network timeouts always use the real clock.
	Now func() time.Time
}

// Errors of New.
var (
	ErrNoName    = errors.New("smppout: Options.Name is required")
	ErrNoIDMap   = errors.New("smppout: Options.IDMap is required")
	ErrNoAddress = errors.New("smppout: Options.Host and Options.Port are required")
	ErrBindMode  = errors.New("smppout: Options.BindMode must be \"transceiver\" or \"tx+rx\"")
	ErrNegative  = errors.New("smppout: negative count or duration in Options")
)

// withDefaults returns o with the defaults applied, or an error.
func (o Options) withDefaults() (Options, error) {
	if o.Name == "" {
		return o, ErrNoName
	}
	if o.IDMap == nil {
		return o, ErrNoIDMap
	}
	if o.Host == "" || o.Port <= 0 || o.Port > 65535 {
		return o, ErrNoAddress
	}
	switch o.BindMode {
	case "":
		o.BindMode = Transceiver
	case Transceiver, TxRx:
	default:
		return o, fmt.Errorf("%w: %q", ErrBindMode, o.BindMode)
	}
	if o.Binds < 0 || o.Window < 0 || o.Queue < 0 || o.Burst < 0 || o.ParkMax < 0 || o.Throughput < 0 ||
		o.EnquireLink < 0 || o.ResponseTimeout < 0 || o.ReconnectMin < 0 || o.ReconnectMax < 0 ||
		o.RetryMin < 0 || o.RetryMax < 0 || o.DefaultValidity < 0 || o.ParkTTL < 0 {
		return o, ErrNegative
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Binds, 1)
	def(&o.Window, 10)
	def(&o.Queue, 4096)
	def(&o.Burst, 1)
	def(&o.ParkMax, 1024)
	defd(&o.EnquireLink, 30*time.Second)
	defd(&o.BindGateRaise, 2*time.Second)
	defd(&o.ResponseTimeout, 30*time.Second)
	defd(&o.ReconnectMin, time.Second)
	defd(&o.ReconnectMax, 60*time.Second)
	defd(&o.RetryMin, time.Second)
	defd(&o.RetryMax, 60*time.Second)
	defd(&o.DefaultValidity, 24*time.Hour)
	defd(&o.ParkTTL, 30*time.Second)
	o.ReconnectMax = max(o.ReconnectMax, o.ReconnectMin)
	o.RetryMax = max(o.RetryMax, o.RetryMin)
	if o.TemporaryStatuses == nil {
		o.TemporaryStatuses = []codec.Status{codec.StatusThrottled, codec.StatusMsgQFul, codec.StatusSysErr, codec.StatusXTAppn}
	}
	if o.TLS != nil {
		o.TLS = o.TLS.Clone()
		if o.TLS.ServerName == "" {
			o.TLS.ServerName = o.Host
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	b := codec.Bind{SystemID: []byte(o.SystemID), Password: []byte(o.Password), SystemType: []byte(o.SystemType)}
	if _, err := b.Append(nil, codec.Header{CommandID: codec.BindTransceiverID}); err != nil {
		return o, fmt.Errorf("smppout: bind credentials: %w", err)
	}
	return o, nil
}
