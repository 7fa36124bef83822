// Package admin is smppd's operator HTTP API: JSON over HTTP on a listener
// of its own (127.0.0.1:8790 in the demo config), optionally behind a bearer
// token, refusing Host headers it does not know (DNS rebinding), cross-site
// browser writes and bodies that are not JSON (CSRF). Every error has one
// shape:
//
//	{"error": {"code": "not_found", "message": "no user demo3"}}
//
// The API never sits on the per-message path: handlers call into the hub,
// the accounts store and the engine through the small interfaces in Options.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/internal/logthrottle"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

// MOInjector accepts an operator-injected MO (the flow hub implements it).
type MOInjector interface {
	InjectMO(in *msg.Inbound) error
}

// Options configure the admin server.
type Options struct {
	// Addr is host:port to listen on.
	Addr string
	// Token, when set, is an operator token named LegacyTokenName (the one
	// token of earlier releases), beside Tokens. With neither, nothing is
	// asked and every request acts as "anonymous" with every scope; else
	// "Authorization: Bearer <token>" is required on every endpoint but
	// /v1/health and /v1/ready, and the token's scopes decide (auth.go).
	Token string
	// Tokens are the named, scoped credentials.
	Tokens []Token
	// Audit receives an entry for every request that may change something
	// (any method but GET, HEAD and OPTIONS), written before it is answered
	// (audit.go); GET /v1/audit reads it. nil: changes are not audited.
	Audit AuditLog
	// AllowedHosts are the names (and IP literals), without port, a
	// request's Host header may carry besides "localhost", loopback
	// addresses and the address of Addr (any IP literal when Addr is a
	// wildcard). Other Hosts are refused with 421 but on /v1/health and
	// /v1/ready.
	AllowedHosts []string
	// MO receives POST /v1/mo.
	MO MOInjector
	// Ready reports readiness for GET /v1/ready (nil = always ready).
	Ready func() error
	// ErrorStatus maps an error from the injector to an HTTP status and an
	// error code (nil: every error is 422 "rejected").
	ErrorStatus func(error) (int, string)

	// Sessions lists and kicks SMPP sessions (*engine.Server).
	Sessions SessionControl
	// Users is the accounts store; its Options.Persist hook writes every
	// change back to the users file.
	Users *accounts.Store
	// Connectors lists, stops and starts connectors (*flow.Hub).
	Connectors ConnectorControl
	// ConnEditor adds, changes and removes them (connectoredit.go;
	// nil: PUT and DELETE /v1/connectors/{name} answer 503).
	ConnEditor ConnectorEditor
	// StopGrace bounds how long a connector stop hands queued messages
	// upstream before reporting the rest as failed [10s]; ?grace= overrides.
	StopGrace time.Duration
	// Router is the routing table in force; Routes is the configuration it
	// was compiled from (shown by GET /v1/routes).
	Router *routing.Router
	Routes routing.Config
	// LoadRoutes re-reads the routes from the config file for POST
	// /v1/routes/reload, with Connectors set as at startup (so routing ids
	// keep naming the hub's connectors).
	LoadRoutes func() (routing.Config, error)
	// Messages answers GET /v1/messages and the erasure of a number
	// (messages.go); nil = those endpoints answer 503.
	Messages MessageLookup
	// LogPrivacy masks the middle digits of numbers in log lines
	// ([smpp-server] log_privacy).
	LogPrivacy bool
	// DeadLetters lists the store's dead letters for GET /v1/dead-letters.
	DeadLetters DeadLetterSource
	// Traffic is the stuck-traffic tools' store and deliverers (traffic.go):
	// nil = /v1/held and the dead letters' retry and purge answer 503.
	Traffic Traffic
	// Reload re-reads the whole configuration for POST /v1/reload, as
	// SIGHUP does (nil: 503).
	Reload func() (ReloadResult, error)
	// Build is reported by GET /v1/health: which binary answers, for a
	// ticket or a rolling upgrade's check.
	Build BuildInfo

	Logger zerolog.Logger
}

// BuildInfo names the running binary.
type BuildInfo struct {
	Version string `json:"version,omitempty"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go,omitempty"`
}

// Server is a running admin listener.
type Server struct {
	opts     Options
	mux      *http.ServeMux
	http     *http.Server
	ln       net.Listener
	hosts    hostGuard
	origins  http.CrossOriginProtection
	tokens   atomic.Pointer[[]Token] // Options.Token and Tokens (SetTokens); none: no authentication
	failures authLimiter             // failed authentications per address
	authn    authStats
	auditing auditStats
	// moInjected counts the MO POST /v1/mo accepted (MOStats).
	moInjected atomic.Uint64
	refusals   logthrottle.Gate               // one for every guard's log line (refuseLogEvery)
	routes     atomic.Pointer[routing.Config] // what Router was compiled from
	reload     sync.Mutex                     // one routes reload at a time
}

// Limits of the listener. The API serves one operator's tools, so they are
// constants: bodies are small JSON documents, and the longest request is a
// connector stop, whose grace is capped below the write timeout.
const (
	maxBody           = 64 << 10 // a user with long lists is a few KiB
	maxHeaderBytes    = 64 << 10 // a bearer token and a few headers
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second // above maxStopGrace (25 s)
	idleTimeout       = 60 * time.Second // a keep-alive connection waiting for its next request
)

// New builds the server and its routes; Start listens.
func New(opts Options) *Server {
	s := &Server{opts: opts, mux: http.NewServeMux(), hosts: newHostGuard(opts.Addr, opts.AllowedHosts)}
	logthrottle.Set(refuseLogEvery, 1, &s.refusals)
	s.SetTokens(opts.Token, opts.Tokens)
	rc := opts.Routes
	s.routes.Store(&rc)
	s.mux.HandleFunc("GET /v1/health", s.health)
	s.mux.HandleFunc("GET /v1/ready", s.ready)
	s.mux.HandleFunc("POST /v1/mo", s.injectMO)
	s.sessionRoutes()
	s.userRoutes()
	s.connectorRoutes()
	s.deadLetterRoutes()
	s.trafficRoutes()
	s.mux.HandleFunc("POST /v1/reload", s.reloadConfig)
	s.routingRoutes()
	s.messageRoutes()
	s.auditRoutes()
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serve),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	return s
}

// Handle adds an endpoint (pattern as for http.ServeMux, e.g. "GET /v1/x").
// Call before Start.
func (s *Server) Handle(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// HandlePprof serves the runtime profiler (net/http/pprof) under
// /debug/pprof/, behind the token like every other endpoint. Call before
// Start.
func (s *Server) HandlePprof() {
	s.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	s.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	s.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	s.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	s.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// Start listens and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.opts.Logger.Error().Err(err).Str("event", "admin_serve").Msg("admin listener failed")
		}
	}()
	s.opts.Logger.Info().Str("event", "admin_listen").Str("addr", ln.Addr().String()).
		Int("tokens", len(*s.tokens.Load())).Bool("audit", s.opts.Audit != nil).Msg("admin API listening")
	return nil
}

// Addr is the bound address (after Start).
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops the listener, letting running requests finish within ctx.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// serve runs the guards, then routes: Host (421), cross-origin (403),
// too many wrong tokens from the address (429), bearer token (401,
// compared in constant time), the token's scope (403), unknown path (404)
// or method (405); a change is audited (route). /v1/health and /v1/ready
// skip the Host and token checks so a load balancer's probe needs neither
// a name nor a secret; they reveal nothing and change nothing.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	open := r.URL.Path == "/v1/health" || r.URL.Path == "/v1/ready"
	if !open && !s.hosts.allows(r.Host) {
		s.refuse(w, r, http.StatusMisdirectedRequest, "unknown_host",
			"Host "+strconv.Quote(clip(hostPart(r.Host)))+" is not in [admin] allowed_hosts")
		return
	}
	if err := s.origins.Check(r); err != nil {
		s.refuse(w, r, http.StatusForbidden, "cross_origin", "cross-origin browser requests are refused")
		return
	}
	tok := anonymous
	if !open {
		if tok = s.authenticate(w, r); tok == nil || !s.authorize(w, r, tok) {
			return
		}
	}
	s.route(w, r, tok)
}

// route serves the mux, answering an unknown path (404) and a known path
// asked with another method (405 with Allow) in the API's error shape
// rather than net/http's plain text.
func (s *Server) route(w http.ResponseWriter, r *http.Request, tok *Token) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		if isWrite(r.Method) {
			s.audited(w, r, tok, s.mux.ServeHTTP) // every change, whichever endpoint
			return
		}
		s.mux.ServeHTTP(w, r)
		return
	}
	var rec statusRecorder
	h.ServeHTTP(&rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here: use "+allow)
		return
	}
	writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
}

// statusRecorder keeps the status and headers of the mux's own 404/405
// answer and drops its text body.
type statusRecorder struct {
	header http.Header
	status int
}

func (rec *statusRecorder) Header() http.Header {
	if rec.header == nil {
		rec.header = http.Header{}
	}
	return rec.header
}

func (rec *statusRecorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

func (rec *statusRecorder) Write(b []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return len(b), nil
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	b := s.opts.Build
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
		BuildInfo
	}{"ok", b})
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(); err != nil {
			writeError(w, http.StatusServiceUnavailable, "not_ready", err.Error())
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// errorBody is the one error shape of the API.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, message
	writeJSON(w, status, &b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decodeJSON reads one JSON document of at most maxBody octets into v,
// refusing unknown fields so a typo in a key is an error rather than
// silently ignored. Every endpoint that takes a body goes through here, so
// this is where the media type is enforced: a browser can POST cross-site
// without preflight only as text/plain or a form (CSRF), never as
// application/json.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if !isJSON(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, "bad_content_type",
			"send the body as Content-Type: application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(new(json.RawMessage)) != io.EOF {
		err = errors.New("data after the JSON document")
	}
	if err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the body is over "+strconv.Itoa(maxBody)+" octets")
			return false
		}
		writeError(w, http.StatusBadRequest, "bad_request", "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// isJSON reports whether a Content-Type is application/json, with any
// parameters but a charset other than UTF-8 (JSON is UTF-8, RFC 8259 §8.1).
func isJSON(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8")
}
