// Package engine is the SMPP v3.4 server core: gnet event loops, one session
// per connection with its state machine, windows, the five session timers,
// binds authenticated off the loop, and the hand-off seams (Authenticator,
// SubmitHandler, ManageHandler, BindObserver, Deliver/DeliverySink) to the
// rest of smppd. Every seam but Authenticator is called on the event loop
// and must not block.
//
// Ownership (docs/ARCHITECTURE.md has the long form): every session and its
// timers, windows and buffers belong to exactly one gnet event loop and are
// touched only on that loop's goroutine. Work from other goroutines (bind
// results, deliveries, deferred submit responses, timer ticks, shutdown) is
// posted to the loop's bounded MPSC inbox and the loop is woken through its
// doorbell, a socketpair enrolled in that loop.
package engine

import (
	"crypto/tls"
	"errors"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
)

// BindType is the kind of bind a session asked for.
type BindType uint8

// Bind types, one per bind PDU.
const (
	BindTransmitter BindType = iota + 1
	BindReceiver
	BindTransceiver
)

// String returns the lower-case name used in logs and config.
func (b BindType) String() string {
	switch b {
	case BindTransmitter:
		return "transmitter"
	case BindReceiver:
		return "receiver"
	case BindTransceiver:
		return "transceiver"
	}
	return "none"
}

// BindRequest is what the Authenticator sees. Strings are copies owned by the request.
type BindRequest struct {
	SystemID         string
	Password         string
	SystemType       string
	Type             BindType
	Remote           netip.AddrPort // the peer (for TLS sessions: the TLS client, not the relay)
	InterfaceVersion uint8
	// Peer is the TLS client's certificate when the listener verified one
	// against Options.TLSConfig's client CAs; nil over plain TCP, or when
	// the client sent none.
	Peer *TLSPeer
}

// TLSPeer identifies a TLS client by the certificate it presented and the
// listener verified. It is immutable and shared by the session's binds.
type TLSPeer struct {
	// Subject as crypto/x509's pkix.Name.String writes it (RFC 2253
	// order: "CN=esme1,O=Acme,C=DE").
	Subject string
	// SHA256 of the DER certificate.
	SHA256 [32]byte
}

// Authenticator decides binds. It is called on an auth worker goroutine, never
// on an event loop, and may block (slow password hashes). On success it
// returns a non-nil Principal and codec.StatusOK; otherwise a nil Principal
// and the status to put in bind_*_resp (ESME_RINVPASWD for unknown user or
// wrong password, ESME_RBINDFAIL for policy refusals). An Authenticator
// that delays binds (failed-bind throttling) should say so through BindGate
// rather than sleep: a sleeping worker is one fewer for everybody's binds.
type Authenticator interface {
	Authenticate(req BindRequest) (Principal, codec.Status)
}

// BindGate is implemented by an Authenticator that limits binds before
// checking them (accounts' failed-bind limiter). The engine calls GateBind
// on the session's event loop before the bind is queued for an auth worker:
// a status other than codec.StatusOK refuses the bind at once with that
// status (no worker, no queue slot); otherwise the engine waits delay on
// the loop's timer wheel (the session stays BINDING and reads nothing)
// and then queues the bind. GateBind must not block; req is valid only
// during the call.
type BindGate interface {
	GateBind(req *BindRequest) (delay time.Duration, st codec.Status)
}

// Principal is a successful bind. The engine calls Release exactly once when
// the session ends (or at once, if the session closed while the bind was
// being checked).
type Principal interface {
	SystemID() string
	Release()
}

// SubmitRequest is an accepted MT request (submit_sm, data_sm or
// submit_multi) on a bound session. Exactly one of SubmitSM, DataSM and
// SubmitMulti is set; they and every []byte inside are views into the loop's
// read buffer, valid only until HandleSubmit returns: copy what must outlive it.
type SubmitRequest struct {
	Command     codec.CommandID
	Sequence    uint32
	SystemID    string // the bound principal's system_id (no copy needed: stable for the session)
	SubmitSM    *codec.SM
	DataSM      *codec.DataSM
	SubmitMulti *codec.SubmitMulti
	// Principal is the session's bind (what the Authenticator returned);
	// stable for the session, so handlers may type-assert it for the user's
	// limits without a lookup.
	Principal Principal
	// Token names this request for Server.Respond when the handler defers it.
	Token SubmitToken
	// Now is when the engine took the request up (read once per request,
	// so the handler need not read the clock again).
	Now time.Time
	// MayWait says the engine can hold this request if every queue it could
	// go to is full (SubmitResult.Wait); when false the handler answers.
	MayWait bool
	// TurnEnd says the engine calls the handler's EndTurn (TurnEnder) after
	// this request's batch: work that need not delay the answer may wait
	// for it.
	TurnEnd bool
	// Loop is the handling event loop's LoopLocal, the one its EndTurnOn
	// (LoopTurnEnder) is given; nil from callers that are not loops, and
	// when the handler is no LoopTurnEnder (nothing would end the turn).
	Loop *LoopLocal
}

// LoopLocal is one event loop's slot for the SubmitHandler's own state
// (work it gathers over a turn): only that loop's goroutine reads or
// writes it, in HandleSubmit and EndTurnOn, so it needs no lock.
type LoopLocal struct{ V any }

// LoopTurnEnder is a TurnEnder told whose turn ended: the engine calls
// EndTurnOn, with the loop's LoopLocal, instead of EndTurn.
type LoopTurnEnder interface {
	EndTurnOn(l *LoopLocal)
}

// TurnEnder is implemented by a SubmitHandler that defers work: EndTurn
// runs on the loop once a session's batch that carried MT requests has been
// handled and its answers written (the flow hub has connector workers
// helped or woken there, so the answers do not wait for that work).
type TurnEnder interface {
	EndTurn()
}

// SubmitResult is filled by HandleSubmit. MessageID arrives as an empty slice
// with capacity for 65 octets owned by the engine: append into it.
type SubmitResult struct {
	Status    codec.Status
	MessageID []byte
	// Unsuccess (submit_multi only; nil otherwise) arrives empty and
	// engine-owned: Add the destinations that were refused and they go into
	// submit_multi_resp whatever its status. Valid until HandleSubmit
	// returns; replacing the pointer has no effect. A deferred answer
	// (Server.Respond) carries the list filled before HandleSubmit
	// returned (the engine keeps a copy until then).
	Unsuccess *codec.UnsuccessList
	// Deferred: the handler answers later through Server.Respond(req.Token, ...).
	// The request counts against the session's in-flight limit until then.
	Deferred bool
	// Wait (only when req.MayWait): every queue the request could use is
	// full and the handler undid its work. The engine leaves the PDU unread,
	// reads nothing more from the session and offers the same PDU again
	// after a Tick, for up to Options.QueueFullWait. Status is ignored.
	Wait bool
}

// SubmitHandler decides the answer to an accepted MT request. It runs on the
// event loop and must not block or retain views from req.
type SubmitHandler interface {
	HandleSubmit(req *SubmitRequest, res *SubmitResult)
}

// ManageHandler answers query_sm, cancel_sm and replace_sm from bound
// transmitters and transceivers, after the PDU decoded (a malformed one is
// answered by the engine). Methods run on the event loop and must not block;
// the request and its PDU views are valid only during the call. cancel_sm_resp
// and replace_sm_resp carry the returned status, unless the handler called
// req.Defer: it then answers later with Respond on req.Token, and the
// request counts against the session's MaxInFlight until then (at the limit
// cancel_sm and replace_sm are answered ESME_RTHROTTLED without a call).
// When Options.Manage is nil the engine answers ESME_RQUERYFAIL,
// ESME_RCANCELFAIL and ESME_RREPLACEFAIL.
type ManageHandler interface {
	HandleQuery(req *ManageRequest, res *QueryResult)
	HandleCancel(req *ManageRequest) codec.Status
	HandleReplace(req *ManageRequest) codec.Status
}

// ManageRequest is one query_sm, cancel_sm or replace_sm; exactly one of
// Query, Cancel and Replace is set.
type ManageRequest struct {
	SystemID  string
	Principal Principal
	Query     *codec.QuerySM
	Cancel    *codec.CancelSM
	Replace   *codec.ReplaceSM

	tok      ManageToken // cancel_sm and replace_sm only
	deferred bool
}

// ManageToken names one cancel_sm or replace_sm whose answer a
// ManageHandler deferred (ManageRequest.Defer); answer it once with
// Respond. The zero value is invalid.
type ManageToken struct {
	l   *loop
	s   *session
	gen uint32
	seq uint32
	cmd codec.CommandID
}

// QueryResult is filled by HandleQuery; it arrives with Status ESME_ROK.
// FinalDate arrives as an empty slice with room for 17 octets owned by the
// engine: append the SMPP time (at most 16 characters; or leave it empty
// while the message is not final). query_sm_resp always echoes the queried
// message_id; with a non-OK Status that status goes in the header and
// final_date, message_state and error_code are sent empty/zero. A result the
// codec cannot encode is answered ESME_RSYSERR.
type QueryResult struct {
	Status    codec.Status
	FinalDate []byte
	State     codec.MessageState
	ErrorCode uint8
}

// BindObserver learns when a session of a user becomes bound or stops being
// bound (so held MO and receipts can be sent at once). Bound is called once
// per successful bind, after bind_resp is queued and the session can take
// Server.Deliver; Unbound once for the same session when it leaves the bound
// states for any reason (unbind from either side, close, timeout, shutdown),
// after it stopped taking deliveries. Every bind type is reported. Called on
// the session's event loop; it must not block. A panic is recovered and
// counted in Stats.Panics.
type BindObserver interface {
	Bound(systemID string, t BindType)
	Unbound(systemID string, t BindType)
}

// IDSource appends a fresh, unique, printable message id (at most 64 octets)
// to dst. It must be safe for concurrent use and should not allocate
// (msg.IDGen satisfies it).
type IDSource interface {
	Append(dst []byte) []byte
}

// SubmitToken identifies one deferred MT request. The zero value is invalid.
type SubmitToken struct {
	l   *loop
	s   *session
	gen uint32
	seq uint32
	cmd codec.CommandID
}

// Delivery is one deliver_sm the engine sends to a bound receiver or
// transceiver. Body is the encoded deliver_sm body (everything after the
// 16-octet header); the engine reads it until it reports the outcome through
// Options.Deliveries, so the caller must keep it unchanged until then. Ref is
// the caller's correlation value, untouched by the engine.
type Delivery struct {
	Body []byte
	Ref  uint64

	// pending is the chosen session's count of deliveries posted and not
	// yet reported, released when the outcome is reported.
	pending *atomic.Int32
}

// DeliverySink learns the outcome of every Delivery accepted by Server.Deliver:
// the command_status of the deliver_sm_resp (StatusOK or the ESME's error,
// such as ESME_RX_T_APPN or ESME_RX_P_APPN) or of a generic_nack answering it
// (a nack with status 0 is reported as ESME_RUNKNOWNERR), or err set
// when no response came (ErrDeliveryExpired after all attempts,
// ErrSessionGone when the session closed first, ErrQueueFull when its queue
// was full). Called on the event loop: it must not block.
type DeliverySink interface {
	DeliveryDone(d *Delivery, status codec.Status, err error)
}

// Options are the engine's typed settings (cmd/smppd maps the config onto
// them). Zero values take the documented default.
type Options struct {
	Addr     string // SMPP listener host:port; default "127.0.0.1:2775"
	SystemID string // server system_id sent in every bind_*_resp; default "smppd"

	EventLoops int    // gnet event loops; 0 = one per CPU
	MaxPDULen  uint32 // largest accepted command_length; default codec.DefaultMaxPDULen

	SessionInitTimeout  time.Duration // accept → bind; default 30s
	EnquireLinkInterval time.Duration // idle time before the server sends enquire_link; default 30s; < 0 = never
	InactivityTimeout   time.Duration // no PDU but enquire_link(_resp) from the peer → unbind+close; default 300s; < 0 = never
	ResponseTimeout     time.Duration // a server request unanswered; default 60s
	PDUReadTimeout      time.Duration // a partial PDU not completed; default 30s
	Tick                time.Duration // timer wheel resolution; default 10ms

	MaxInFlight int // per-session MT requests awaiting our response before ESME_RTHROTTLED; default 2000
	// QueueFullWait is how long a session may wait, not reading, for room in
	// a full connector queue (SubmitResult.Wait) before its submits are
	// answered by the handler (ESME_RMSGQFUL); default 1s; < 0 = never wait.
	// The budget renews when one of the session's submits is accepted.
	QueueFullWait   time.Duration
	DeliverWindow   int // outstanding deliver_sm per session; default 100
	DeliverQueue    int // deliveries per session waiting for a window slot; default 4*DeliverWindow
	DeliverAttempts int // sends of one deliver_sm before ErrDeliveryExpired; default 3

	MaxConnections      int // total sessions (TLS handshakes in progress included); default 50000
	MaxConnectionsPerIP int // the same per source address (IPv6: per /64); default 5000
	MaxOutboundBacklog  int // bytes queued to a peer that stopped reading before the session is closed; default 4 MiB
	// MaxOutboundUnbound caps the bytes queued to a peer that has not bound
	// (OPEN, BINDING): it has no business making us buffer; default 64 KiB.
	MaxOutboundUnbound int
	// MaxOutboundTotal caps the bytes queued to all peers together: past it
	// every session holding more than 64 KiB is closed as a slow consumer at
	// its next write; default 256 MiB.
	MaxOutboundTotal int64
	// MaxInboundBuffer caps the unread input one connection may hold. A
	// session that reads (OPEN, bound) consumes past its turn's batch while
	// over it; one that may not read is closed (BINDING) or stops waiting
	// for a full queue (its held submit is answered ESME_RMSGQFUL). Default
	// 256 KiB, and never below MaxPDULen + 64 KiB (a full PDU plus one read).
	MaxInboundBuffer int
	// MaxUnexpectedResponses closes a connection after this many response
	// PDUs in a row that answer nothing we sent (any response before bind
	// counts); they are never answered (SMPP 3.4 §2.3: a response is not
	// acknowledged). Default 16.
	MaxUnexpectedResponses int
	// SlowConsumerTimeout closes a receiver that has deliver_sm outstanding
	// and answers none of them for this long; its deliveries go back to
	// their owner (ErrSessionGone). Default 10s; < 0 = never.
	SlowConsumerTimeout time.Duration
	// LogLinesPerSecond bounds each kind of per-connection log line (close,
	// refusal, bind refusal, timer expiry, flood); the rest are counted and
	// reported on the next line. Default 50.
	LogLinesPerSecond int

	BatchPDUs   int // PDUs handled per session per turn before yielding to others; default 128
	AuthWorkers int // goroutines calling Authenticator; default 4
	AuthQueue   int // binds waiting for a worker before ESME_RBINDFAIL; default 1024
	InboxSize   int // per-loop inbox ring (events of ~130 octets); default 4096
	// MaxPendingBindsPerIP caps the binds of one source address (IPv6: its
	// /64) waiting for or at the auth workers, so that no address can fill
	// the auth queue; over it a bind is refused ESME_RBINDFAIL. Default
	// AuthQueue/8.
	MaxPendingBindsPerIP int

	TracePDUs bool // debug-log every PDU (read once per session)

	TLSAddr string // optional TLS listener host:port (3550); needs TLSConfig
	// TLSConfig serves TLSAddr. Its GetConfigForClient (or GetCertificate)
	// may change the certificate for new handshakes while sessions run;
	// with ClientAuth set, a verified client certificate reaches the
	// Authenticator as BindRequest.Peer.
	TLSConfig *tls.Config
	// TLSHandshakeTimeout bounds a TLS handshake from accept; default 5s.
	TLSHandshakeTimeout time.Duration
	// TLSWriteTimeout bounds each write to a TLS peer: a peer that takes
	// none of our bytes for this long is disconnected; default 30s.
	TLSWriteTimeout time.Duration

	// TrustedProxies are the networks whose connections (SMPP and TLS)
	// must open with a PROXY protocol header naming the client (proxy.go);
	// empty: none. ProxyHeaderTimeout bounds the wait for it; default 5s.
	TrustedProxies     []netip.Prefix
	ProxyHeaderTimeout time.Duration

	// ReusePort sets SO_REUSEPORT on the SMPP listeners (plain and TLS) so
	// that a successor process can listen on the same ports during an
	// upgrade hand-over; StopAccepting (first in Shutdown) then takes this
	// process's listeners out of the group. gnet opens one listener per
	// event loop in this mode. Needs a fixed port.
	ReusePort bool

	Authenticator Authenticator // required
	Submit        SubmitHandler // default: answer with a fresh id from IDs
	IDs           IDSource      // default: an engine-local atomic generator
	Deliveries    DeliverySink  // optional; outcomes are dropped when nil
	Manage        ManageHandler // optional; query/cancel/replace fail without it
	Binds         BindObserver  // optional
	// SubmitLatency, when set, observes the seconds from the start of an MT
	// request's batch to the end of the batch, when its response is queued
	// (the clock is read twice per batch of a session's PDUs; answers given
	// by HandleSubmit; deferred ones are not sampled).
	SubmitLatency Observer

	Logger zerolog.Logger
}

// CloseReason says why a session ended; it is logged once per session.
type CloseReason uint8

// Close reasons.
const (
	ReasonNone                CloseReason = iota
	ReasonPeerClosed                      // the peer closed the TCP connection
	ReasonIOError                         // read or write failed
	ReasonUnbound                         // unbind handshake completed
	ReasonBindFailed                      // bind refused
	ReasonSessionInit                     // not bound within the session init timer
	ReasonEnquireLinkTimeout              // our enquire_link unanswered
	ReasonInactivity                      // inactivity timer
	ReasonPDUReadTimeout                  // partial PDU not completed in time
	ReasonBadFraming                      // command_length < 16 or > max
	ReasonSlowConsumer                    // outbound backlog over the cap
	ReasonConnLimit                       // total or per-IP connection limit (refused at open; logged at debug)
	ReasonShutdown                        // server shutdown
	ReasonPanic                           // internal error recovered at the session boundary
	ReasonGenericNack                     // the peer nacked our stream with sequence 0
	ReasonWrongState                      // a request other than bind or enquire_link before binding
	ReasonKicked                          // an operator ended the session (Server.Kick)
	ReasonInputFlood                      // unread input over MaxInboundBuffer while the session could not read
	ReasonUnexpectedResponses             // MaxUnexpectedResponses responses in a row that answered nothing we sent
	ReasonProxyHeader                     // a trusted proxy's connection without a valid PROXY header in time
)

var reasonNames = [...]string{
	ReasonNone:                "none",
	ReasonPeerClosed:          "peer_closed",
	ReasonIOError:             "io_error",
	ReasonUnbound:             "unbound",
	ReasonBindFailed:          "bind_failed",
	ReasonSessionInit:         "session_init_timeout",
	ReasonEnquireLinkTimeout:  "enquire_link_timeout",
	ReasonInactivity:          "inactivity_timeout",
	ReasonPDUReadTimeout:      "pdu_read_timeout",
	ReasonBadFraming:          "bad_framing",
	ReasonSlowConsumer:        "slow_consumer",
	ReasonConnLimit:           "connection_limit",
	ReasonShutdown:            "shutdown",
	ReasonPanic:               "internal_error",
	ReasonGenericNack:         "peer_nack",
	ReasonWrongState:          "wrong_state",
	ReasonKicked:              "kicked",
	ReasonInputFlood:          "input_flood",
	ReasonUnexpectedResponses: "unexpected_responses",
	ReasonProxyHeader:         "proxy_header",
}

// String returns the snake_case name used in the close log line.
func (r CloseReason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Stats are process-wide counters, read with atomic loads.
type Stats struct {
	Accepted         uint64 // connections accepted
	Refused          uint64 // connections refused by the limits
	Sessions         int64  // sessions open now
	Bound            int64  // sessions bound now
	Throttled        uint64 // MT requests answered ESME_RTHROTTLED
	QueueWaits       uint64 // MT requests held unread for a full connector queue (each retry counts)
	ResponseTimeouts uint64 // server requests unanswered within ResponseTimeout
	DeliverRetries   uint64 // deliver_sm re-sent after a response timeout
	GenericNacks     uint64 // generic_nack we sent
	Panics           uint64 // panics recovered at the session boundary
	SlowConsumers    uint64 // sessions closed for outbound backlog, a stalled deliver window or the global outbound cap
	// InputFloods counts sessions closed for unread input over
	// MaxInboundBuffer, and queue waits ended early by it.
	InputFloods         uint64
	UnexpectedResponses uint64 // response PDUs dropped because they answered nothing we sent
	// DeliverUnanswered counts deliver_sm that were written to a session
	// that then closed before answering them: their owner offers them again,
	// so the ESME may see each one twice.
	DeliverUnanswered uint64
	OutboundBytes     int64 // bytes queued to peers now (refreshed each tick)
	// BindsOverShare counts binds refused ESME_RBINDFAIL because their
	// address already had MaxPendingBindsPerIP binds at the auth workers.
	BindsOverShare       uint64
	AuthQueueFull        uint64 // binds refused ESME_RBINDFAIL because the auth queue was full
	TLSHandshakeTimeouts uint64 // TLS handshakes cut at TLSHandshakeTimeout
	TLSWriteTimeouts     uint64 // TLS peers disconnected for taking no bytes within TLSWriteTimeout
	// ProxyHeaderRefusals counts trusted proxies' connections closed for a
	// PROXY header missing, malformed, too long or not whole within
	// ProxyHeaderTimeout.
	ProxyHeaderRefusals uint64
}

// Errors returned by the engine's API and passed to DeliverySink.
var (
	ErrNoAuthenticator = errors.New("engine: Options.Authenticator is required")
	ErrNotRunning      = errors.New("engine: server not running")
	ErrNoSession       = errors.New("engine: no bound receiver for that system_id")
	ErrQueueFull       = errors.New("engine: queue full")
	ErrSessionGone     = errors.New("engine: session closed")
	ErrDeliveryExpired = errors.New("engine: deliver_sm unanswered after every attempt")
	ErrBadToken        = errors.New("engine: invalid submit token")
)
