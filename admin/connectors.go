package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/smppd/smppd/flow"
)

// ConnectorControl lists, stops and starts connectors; *flow.Hub
// implements it.
type ConnectorControl interface {
	Connectors() []flow.ConnectorInfo
	StopConnector(ctx context.Context, name string) (drained bool, err error)
	StartConnector(name string) error
}

// Connector is one entry of GET /v1/connectors.
type Connector struct {
	Name        string         `json:"name"`
	Type        string         `json:"type,omitempty"`
	State       string         `json:"state"` // up, down (running, upstream not bound), stopped (by an operator)
	Up          bool           `json:"up"`
	Restartable bool           `json:"restartable"`
	Stats       ConnectorStats `json:"stats"`
}

// ConnectorStats are connector.Stats, since the connector (re)started.
type ConnectorStats struct {
	Queued     int    `json:"queued"`
	Submitted  uint64 `json:"submitted"`
	Accepted   uint64 `json:"accepted"`
	Refused    uint64 `json:"refused"`
	Retried    uint64 `json:"retried"`
	Expired    uint64 `json:"expired"`
	Receipts   uint64 `json:"receipts"`
	MO         uint64 `json:"mo"`
	Binds      int    `json:"binds"`
	Reconnects uint64 `json:"reconnects"`
}

// ConnectorList is the body of GET /v1/connectors.
type ConnectorList struct {
	Connectors []Connector `json:"connectors"`
}

// defaultStopGrace fits inside the server's 30 s write timeout.
const (
	defaultStopGrace = 10 * time.Second
	maxStopGrace     = 25 * time.Second
)

func (s *Server) connectorRoutes() {
	s.mux.HandleFunc("GET /v1/connectors", s.listConnectors)
	s.mux.HandleFunc("POST /v1/connectors/{name}/stop", s.stopConnector)
	s.mux.HandleFunc("POST /v1/connectors/{name}/start", s.startConnector)
	s.connectorEditRoutes()
}

func (s *Server) listConnectors(w http.ResponseWriter, _ *http.Request) {
	if s.opts.Connectors == nil {
		unwired(w, "connectors")
		return
	}
	infos := s.opts.Connectors.Connectors()
	out := ConnectorList{Connectors: make([]Connector, len(infos))}
	for i, in := range infos {
		out.Connectors[i] = connectorView(in)
	}
	writeJSON(w, http.StatusOK, &out)
}

func connectorView(in flow.ConnectorInfo) Connector {
	st := in.Stats
	c := Connector{Name: in.Name, Type: in.Kind, Up: in.Up, Restartable: in.Restartable, State: "down",
		Stats: ConnectorStats{Queued: st.Queued, Submitted: st.Submitted, Accepted: st.Accepted, Refused: st.Refused,
			Retried: st.Retried, Expired: st.Expired, Receipts: st.Receipts, MO: st.MO, Binds: st.Binds, Reconnects: st.Reconnect}}
	switch {
	case in.Stopped:
		c.State = "stopped"
	case in.Up:
		c.State = "up"
	}
	return c
}

func (s *Server) stopConnector(w http.ResponseWriter, r *http.Request) {
	if s.opts.Connectors == nil {
		unwired(w, "connectors")
		return
	}
	name := r.PathValue("name")
	grace := s.opts.StopGrace
	if grace <= 0 {
		grace = defaultStopGrace
	}
	if g := r.URL.Query().Get("grace"); g != "" {
		d, err := time.ParseDuration(g)
		if err != nil || d < 0 || d > maxStopGrace {
			writeError(w, http.StatusBadRequest, "bad_request", "grace must be a duration from 0s to "+maxStopGrace.String())
			return
		}
		grace = d
	}
	// Not the request's context: a client that hangs up must not cut the
	// hand-over short.
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	drained, err := s.opts.Connectors.StopConnector(ctx, name)
	if err != nil {
		connectorError(w, name, err)
		return
	}
	s.opts.Logger.Warn().Str("event", "connector_stop").Str("connector", name).Bool("drained", drained).
		Msg("operator stopped a connector")
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "state": "stopped", "drained": drained})
}

func (s *Server) startConnector(w http.ResponseWriter, r *http.Request) {
	if s.opts.Connectors == nil {
		unwired(w, "connectors")
		return
	}
	name := r.PathValue("name")
	if err := s.opts.Connectors.StartConnector(name); err != nil {
		connectorError(w, name, err)
		return
	}
	s.opts.Logger.Info().Str("event", "connector_start").Str("connector", name).Msg("operator started a connector")
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "state": "started"})
}

func connectorError(w http.ResponseWriter, name string, err error) {
	switch {
	case errors.Is(err, flow.ErrUnknownConnector):
		writeError(w, http.StatusNotFound, "not_found", "no connector "+name)
	case errors.Is(err, flow.ErrConnectorStopped):
		writeError(w, http.StatusConflict, "conflict", "connector "+name+" is already stopped")
	case errors.Is(err, flow.ErrConnectorRunning):
		writeError(w, http.StatusConflict, "conflict", "connector "+name+" is already running")
	case errors.Is(err, flow.ErrNotRestartable), errors.Is(err, flow.ErrStopped):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "connector_failed", err.Error())
	}
}
