// Package httpapi is smppd's customer HTTP API ([http-api], port 1401 by
// default), on a listener of its own:
//
//   - Jasmin's HTTP API, so a client written for Jasmin works unchanged:
//     /send (GET query, POST form, POST JSON), /balance, /rate and /ping,
//     answering `Success "<id>"` or `Error "<reason>"` as text/plain with
//     Jasmin's statuses;
//   - a JSON API for new clients: POST /v1/messages (one message or a batch
//     of up to 1,000, with Idempotency-Key), GET /v1/messages/{id} and
//     GET /v1/messages?to=&since=&limit= (the user's own messages).
//
// Users authenticate with their SMPP credentials (request parameters, HTTP
// basic auth) or their API key (Authorization: Bearer, X-API-Key), checked
// by accounts with the same verified-credential cache and failed-bind
// limiter as SMPP binds. A message goes through flow.Hub.SubmitDirect: the
// same checks, routing, admission (throughput, balance and quota share the
// user's SMPP buckets), record, connector queue and receipts as a
// submit_sm. With a durable store the answer waits until the message is
// on disk, as an SMPP answer does, and the message reaches its connector
// only once that answer is written (flow.DirectHold): its receipt callback
// cannot come first.
//
// The hostile-input rules of the admin API apply: the method is checked
// (405 with Allow), so is Content-Type (415), bodies are bounded (413),
// every request has read and write deadlines, and the connections open at
// once are bounded.
package httpapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/httpapi/content"
	"github.com/smppd/smppd/internal/logthrottle"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Hub is the message hub the API submits to (*flow.Hub).
type Hub interface {
	NextID() msg.ID
	SubmitDirect(req *flow.DirectRequest) (codec.Status, flow.Refusal)
	EndTurn()
	WaitDurable(pos uint64) error
	Release(d *flow.DirectHold, answered bool)
	Quote(u *accounts.User, sm *codec.SM, now time.Time) (flow.Quote, bool)
	ConnectorName(id int) string
}

// Options configure a Server. Zero limits take the defaults in brackets.
type Options struct {
	// Addr is host:port to listen on.
	Addr string
	// Hub takes the messages; Users authenticates and holds balances;
	// Messages answers GET /v1/messages (nil: 404 there). All required
	// but Messages.
	Hub      Hub
	Users    *accounts.Store
	Messages storage.Messages
	// Upstream finds a message's upstream id for GET /v1/messages/{id}
	// (the store's UpstreamIDs); nil: none shown.
	Upstream storage.UpstreamIDs
	// Callbacks keeps the dlr-url of a message before it is submitted
	// (the store's Callbacks); nil: a dlr-url is refused 400.
	Callbacks storage.Callbacks
	// DLRGuard refuses (400) a dlr-url whose host is an address the
	// operator did not allow ([webhook] deny_networks, allow_networks);
	// the webhook sender checks the address it dials too. nil: any.
	DLRGuard URLGuard
	// MaxParts is long_content_max_parts [5]; Split is long_content_split.
	MaxParts int
	Split    content.Method
	// MaxBody bounds a request body in octets [2 MiB].
	MaxBody int64
	// ReadTimeout [10s], WriteTimeout [30s] and IdleTimeout [60s] bound a
	// request's reading, its handling and answer, and a keep-alive wait.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConnections bounds the connections open at once [4096].
	MaxConnections int
	// QueueFullWait is how long a message whose connector queues are all
	// full waits for room before it is refused (503), as an SMPP session
	// waits ([smpp-server] queue_full_wait); 0 = refused at once.
	QueueFullWait time.Duration
	// IdempotencyKeys bounds the Idempotency-Key answers kept (0: the
	// header is ignored); IdempotencyTTL is how long each is kept [24h].
	IdempotencyKeys int
	IdempotencyTTL  time.Duration
	// ProxyHeaders, when set, wraps the listener so that connections from
	// trusted proxies open with a PROXY protocol header naming the client,
	// whose address then serves allow_ips, the failed-login limiter and the
	// logs (cmd/smppd wires internal/proxyproto with [proxy-protocol]). It
	// calls refused for each header it refuses; nil: no PROXY headers.
	ProxyHeaders func(ln net.Listener, refused func(peer net.Addr, err error)) net.Listener
	Logger       zerolog.Logger
	// Now is the clock (tests); nil = time.Now.
	Now func() time.Time
}

// URLGuard checks a URL a customer gave before anything is kept for it
// (internal/netguard's Guard): an error refuses it.
type URLGuard interface {
	CheckURL(raw string) error
}

// Defaults of Options.
const (
	DefaultMaxParts       = 5
	DefaultMaxBody        = 2 << 20
	DefaultReadTimeout    = 10 * time.Second
	DefaultWriteTimeout   = 30 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
	DefaultMaxConnections = 4096
	DefaultIdempotencyTTL = 24 * time.Hour
	// MaxBatch is the most messages one POST /v1/messages takes.
	MaxBatch = 1000
	// maxHeaderBytes bounds a request's headers: credentials and a few
	// headers, never kilobytes of cookies.
	maxHeaderBytes = 32 << 10
	// maxReadHeader bounds the wait for a request's headers: a slowloris
	// holds a connection slot at most this long.
	maxReadHeader = 5 * time.Second
)

// Errors of New.
var (
	ErrNoHub   = errors.New("httpapi: Options.Hub is required")
	ErrNoUsers = errors.New("httpapi: Options.Users is required")
)

// Server is the HTTP API listener.
type Server struct {
	o     Options
	http  *http.Server
	ln    *limitListener
	idem  *idemCache       // nil: Idempotency-Key ignored
	ssrf  logthrottle.Gate // dlr-urls refused by DLRGuard
	now   func() time.Time
	log   zerolog.Logger
	warns logthrottle.Gate // store and internal errors
	proxy logthrottle.Gate // refused PROXY headers

	stats counters
}

// New checks o and builds the server; Start listens.
func New(o Options) (*Server, error) {
	if o.Hub == nil {
		return nil, ErrNoHub
	}
	if o.Users == nil {
		return nil, ErrNoUsers
	}
	if o.MaxParts <= 0 {
		o.MaxParts = DefaultMaxParts
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.IdempotencyTTL <= 0 {
		o.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, now: o.Now, log: o.Logger.With().Str("component", "httpapi").Logger()}
	logthrottle.Set(10*time.Second, 1, &s.warns)
	logthrottle.Set(10*time.Second, 5, &s.ssrf)
	logthrottle.Set(time.Second, 10, &s.proxy)
	if o.IdempotencyKeys > 0 {
		s.idem = newIdemCache(o.IdempotencyKeys, maxIdemBytes, o.IdempotencyTTL)
	}
	mux := http.NewServeMux()
	s.routes(mux)
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: min(o.ReadTimeout, maxReadHeader),
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          nil,
	}
	return s, nil
}

// routes registers every endpoint; a path matched with a method it does
// not serve gets 405 with Allow (allowOnly).
func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("/send", s.allow(s.send, http.MethodGet, http.MethodPost))
	mux.HandleFunc("/balance", s.allow(s.balance, http.MethodGet))
	mux.HandleFunc("/rate", s.allow(s.rate, http.MethodGet))
	mux.HandleFunc("/ping", s.allow(s.ping, http.MethodGet))
	mux.HandleFunc("/v1/messages", s.allow(s.messages, http.MethodGet, http.MethodPost))
	mux.HandleFunc("/v1/messages/{id}", s.allow(s.message, http.MethodGet))
	mux.HandleFunc("/", s.notFound)
}

// Start listens and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.o.Addr)
	if err != nil {
		return err
	}
	s.ln = newLimitListener(s.proxyListener(ln), s.o.MaxConnections, &s.stats)
	go func() {
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Str("event", "http_api_serve").Msg("HTTP API listener failed")
		}
	}()
	s.log.Info().Str("event", "http_api_listen").Str("addr", ln.Addr().String()).
		Int("max_connections", s.o.MaxConnections).Int("long_content_max_parts", s.o.MaxParts).
		Msg("HTTP API listening")
	return nil
}

// Addr is the bound address (after Start), nil before.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops accepting, lets running requests finish within ctx and
// closes idle connections.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// Stats are the API's cumulative counters and its open connections.
type Stats struct {
	Requests       uint64 // requests answered, every endpoint
	Messages       uint64 // messages accepted (a long message counts once)
	Parts          uint64 // SMS parts accepted
	Refused        uint64 // messages refused (every refusal of /send and /v1/messages, per message)
	AuthFailures   uint64 // requests whose credentials did not match (or the limiter refused)
	BadRequests    uint64 // 400s for the request itself (parameters, bodies, unknown parameters)
	BadMethod      uint64 // 405s
	BadContentType uint64 // 415s
	TooLarge       uint64 // 413s: bodies above max_body
	Replays        uint64 // answers given again for a repeated Idempotency-Key
	Conns          int64  // connections open now
	ConnWaits      uint64 // accepts that waited for a slot (max_connections reached)
	// ProxyHeaderRefusals counts trusted proxies' connections closed for
	// a PROXY header missing, malformed, too long or too slow.
	ProxyHeaderRefusals uint64
}

type counters struct {
	requests, messages, parts, refused, auth, bad, method, ctype, large, replays, waits atomic.Uint64
	proxyRefused                                                                        atomic.Uint64
	conns                                                                               atomic.Int64
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{Requests: c.requests.Load(), Messages: c.messages.Load(), Parts: c.parts.Load(),
		Refused: c.refused.Load(), AuthFailures: c.auth.Load(), BadRequests: c.bad.Load(),
		BadMethod: c.method.Load(), BadContentType: c.ctype.Load(), TooLarge: c.large.Load(),
		Replays: c.replays.Load(), Conns: c.conns.Load(), ConnWaits: c.waits.Load(),
		ProxyHeaderRefusals: c.proxyRefused.Load()}
}
