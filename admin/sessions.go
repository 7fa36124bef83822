package admin

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/smppd/smppd/engine"
)

// SessionControl lists and ends SMPP sessions; *engine.Server implements it.
type SessionControl interface {
	Sessions(ctx context.Context, dst []engine.SessionInfo) ([]engine.SessionInfo, error)
	Kick(ctx context.Context, id uint64) error
}

// Session is one entry of GET /v1/sessions.
type Session struct {
	ID            uint64          `json:"id"`
	SystemID      string          `json:"system_id,omitempty"`
	BindType      string          `json:"bind_type,omitempty"`
	State         string          `json:"state"`
	Remote        string          `json:"remote"`
	TLS           bool            `json:"tls"`
	Since         time.Time       `json:"since"`
	BoundAt       *time.Time      `json:"bound_at,omitempty"`
	InFlight      int             `json:"in_flight"`
	DeliverWindow int             `json:"deliver_window"`
	DeliverQueued int             `json:"deliver_queued"`
	Counters      SessionCounters `json:"counters"`
}

// SessionCounters are a session's counts since it connected.
type SessionCounters struct {
	PDUsIn    uint64 `json:"pdus_in"`
	PDUsOut   uint64 `json:"pdus_out"`
	Submits   uint64 `json:"submits"`
	Delivers  uint64 `json:"delivers"`
	Throttled uint64 `json:"throttled"`
}

// SessionList is the body of GET /v1/sessions.
type SessionList struct {
	Sessions []Session `json:"sessions"`
}

// engineWait bounds a wait for the event loops; a loop busy for this long
// is a problem the operator should see as an error, not a hung request.
const engineWait = 10 * time.Second

func (s *Server) sessionRoutes() {
	s.mux.HandleFunc("GET /v1/sessions", s.listSessions)
	s.mux.HandleFunc("DELETE /v1/sessions/{id}", s.kickSession)
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	if s.opts.Sessions == nil {
		unwired(w, "sessions")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), engineWait)
	defer cancel()
	infos, err := s.opts.Sessions.Sessions(ctx, nil)
	if err != nil {
		engineError(w, err)
		return
	}
	user := r.URL.Query().Get("system_id")
	out := SessionList{Sessions: make([]Session, 0, len(infos))}
	for i := range infos {
		in := &infos[i]
		if user != "" && in.SystemID != user {
			continue
		}
		e := Session{ID: in.ID, SystemID: in.SystemID, State: in.State, Remote: in.Remote.String(), TLS: in.TLS,
			Since: in.Since.UTC(), InFlight: in.InFlight, DeliverWindow: in.DeliverWindow, DeliverQueued: in.DeliverQueued,
			Counters: SessionCounters{PDUsIn: in.PDUsIn, PDUsOut: in.PDUsOut, Submits: in.Submits, Delivers: in.Delivers,
				Throttled: in.Throttled}}
		if in.BindType != 0 {
			e.BindType = in.BindType.String()
		}
		if !in.BoundAt.IsZero() {
			t := in.BoundAt.UTC()
			e.BoundAt = &t
		}
		out.Sessions = append(out.Sessions, e)
	}
	slices.SortFunc(out.Sessions, func(a, b Session) int { return cmp.Compare(a.ID, b.ID) })
	writeJSON(w, http.StatusOK, &out)
}

func (s *Server) kickSession(w http.ResponseWriter, r *http.Request) {
	if s.opts.Sessions == nil {
		unwired(w, "sessions")
		return
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "session id must be a decimal number")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), engineWait)
	defer cancel()
	if err := s.opts.Sessions.Kick(ctx, id); err != nil {
		if errors.Is(err, engine.ErrUnknownSession) {
			writeError(w, http.StatusNotFound, "not_found", "no open session "+strconv.FormatUint(id, 10))
			return
		}
		engineError(w, err)
		return
	}
	s.opts.Logger.Info().Str("event", "session_kicked").Uint64("session", id).Msg("operator kicked a session")
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "status": "kicked"})
}

// engineError reports a failed engine call: not running (starting or
// shutting down) is 503, anything else (a loop that did not answer) 500.
func engineError(w http.ResponseWriter, err error) {
	if errors.Is(err, engine.ErrNotRunning) {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	writeError(w, http.StatusInternalServerError, "internal", err.Error())
}

func unwired(w http.ResponseWriter, what string) {
	writeError(w, http.StatusServiceUnavailable, "unavailable", what+" are not wired into the admin API")
}
