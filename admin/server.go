// Package admin is smppd's operator HTTP API: JSON over HTTP on a listener
// of its own (127.0.0.1:8790 in the demo config), optionally behind a bearer
// token. Every error has one shape:
//
//	{"error": {"code": "not_found", "message": "no user demo3"}}
//
// The API never sits on the per-message path: handlers call into the hub,
// the accounts store and the engine through the small interfaces in Options.
package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
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
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// every endpoint but /v1/health and /v1/ready.
	Token string
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

	Logger zerolog.Logger
}

// Server is a running admin listener.
type Server struct {
	opts   Options
	mux    *http.ServeMux
	http   *http.Server
	ln     net.Listener
	routes atomic.Pointer[routing.Config] // what Router was compiled from
	reload sync.Mutex                     // one routes reload at a time
}

// New builds the server and its routes; Start listens.
func New(opts Options) *Server {
	s := &Server{opts: opts, mux: http.NewServeMux()}
	rc := opts.Routes
	s.routes.Store(&rc)
	s.mux.HandleFunc("GET /v1/health", s.health)
	s.mux.HandleFunc("GET /v1/ready", s.ready)
	s.mux.HandleFunc("POST /v1/mo", s.injectMO)
	s.sessionRoutes()
	s.userRoutes()
	s.connectorRoutes()
	s.routingRoutes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	s.http = &http.Server{
		Handler:           s.auth(s.mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		MaxHeaderBytes:    64 << 10,
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
		Bool("token", s.opts.Token != "").Msg("admin API listening")
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

// auth checks the bearer token in constant time; /v1/health and /v1/ready
// stay open so a load balancer's probe needs no secret.
func (s *Server) auth(next http.Handler) http.Handler {
	if s.opts.Token == "" {
		return next
	}
	want := []byte("Bearer " + s.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/health" && r.URL.Path != "/v1/ready" &&
			subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="smppd"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
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

// decodeJSON reads a JSON body of at most 64 KiB into v, refusing unknown
// fields so a typo in a key is an error rather than silently ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "bad_content_type", "send application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "invalid JSON body: "+err.Error())
		return false
	}
	return true
}
