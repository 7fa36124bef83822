package admin

import (
	"errors"
	"math"
	"net/http"
)

// ConnectorEditor adds, changes and removes connectors for PUT and DELETE
// /v1/connectors/{name} (cmd/smppd's daemon): each call is a reload of
// the configuration with that change, written to the connectors file
// before it is applied, so it survives a restart and the next SIGHUP
// keeps it. Errors wrap ErrConnectorNotFound, ErrConnectorRefused or
// ErrConnectorConflict.
type ConnectorEditor interface {
	PutConnector(name string, spec ConnectorSpec) (ReloadResult, error)
	DeleteConnector(name string) (ReloadResult, error)
}

// ConnectorSpec is the body of PUT /v1/connectors/{name}: the
// [[connector]] entry's type and queue and its [connector.<type>]
// sub-table as a JSON object (docs/CONFIG.md, "Connectors"). A secret
// may be given as a reference ("env:NAME", "file:/path"), which is what
// the connectors file then keeps.
type ConnectorSpec struct {
	Type     string         `json:"type"`
	Queue    int            `json:"queue,omitempty"` // 0: the default
	Settings map[string]any `json:"settings,omitempty"`
}

// Errors of a ConnectorEditor.
var (
	ErrConnectorNotFound = errors.New("no such connector")
	// ErrConnectorRefused: the entry or the configuration with it does
	// not load (a bad setting, a route naming a removed connector).
	ErrConnectorRefused = errors.New("connector change refused")
	// ErrConnectorConflict: connectors cannot change here now (a cluster
	// node's are fixed until every node restarts).
	ErrConnectorConflict = errors.New("connector change not possible")
)

func (s *Server) connectorEditRoutes() {
	s.mux.HandleFunc("PUT /v1/connectors/{name}", s.putConnector)
	s.mux.HandleFunc("DELETE /v1/connectors/{name}", s.deleteConnector)
}

func (s *Server) putConnector(w http.ResponseWriter, r *http.Request) {
	if s.opts.ConnEditor == nil {
		unwired(w, "connector changes")
		return
	}
	var spec ConnectorSpec
	if !decodeJSON(w, r, &spec) {
		return
	}
	if spec.Type == "" || spec.Queue < 0 {
		writeError(w, http.StatusBadRequest, "bad_request", `give "type" (sim, smpp, ...) and a "queue" of 0 (the default) or more`)
		return
	}
	spec.Settings = tomlValues(spec.Settings).(map[string]any)
	name := r.PathValue("name")
	res, err := s.opts.ConnEditor.PutConnector(name, spec)
	s.connectorEdited(w, "connector_put", name, res, err)
}

func (s *Server) deleteConnector(w http.ResponseWriter, r *http.Request) {
	if s.opts.ConnEditor == nil {
		unwired(w, "connector changes")
		return
	}
	name := r.PathValue("name")
	res, err := s.opts.ConnEditor.DeleteConnector(name)
	s.connectorEdited(w, "connector_delete", name, res, err)
}

func (s *Server) connectorEdited(w http.ResponseWriter, event, name string, res ReloadResult, err error) {
	switch {
	case errors.Is(err, ErrConnectorNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
		return
	case errors.Is(err, ErrConnectorConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
		return
	case errors.Is(err, ErrConnectorRefused):
		writeError(w, http.StatusUnprocessableEntity, "rejected", err.Error()+"; nothing was changed")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	s.opts.Logger.Warn().Str("event", event).Str("connector", name).Strs("added", res.Added).Strs("removed", res.Removed).
		Strs("rebuilt", res.Rebuilt).Strs("failed", res.Failed).Msg("operator changed the connectors")
	res.Status = "reloaded"
	for _, l := range []*[]string{&res.Added, &res.Removed, &res.Rebuilt, &res.Failed, &res.NeedsRestart} {
		if *l == nil {
			*l = []string{}
		}
	}
	writeJSON(w, http.StatusOK, &res)
}

// tomlValues turns JSON values into what the config's TOML decoder takes:
// a whole number is an integer (JSON has only floats).
func tomlValues(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = tomlValues(e)
		}
	case []any:
		for i, e := range x {
			x[i] = tomlValues(e)
		}
	}
	return v
}
