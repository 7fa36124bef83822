package admin

import (
	"fmt"
	"net/http"

	"github.com/smppd/smppd/routing"
)

// Routes is the body of GET /v1/routes and of a successful reload: the
// routes in force, in match order, as configured.
type Routes struct {
	MT []MTRoute `json:"mt"`
	MO []MORoute `json:"mo"`
	// Connectors are the routing ids' names: connectors[id].
	Connectors []string `json:"connectors"`
}

// MTRoute is one [[mt_route]].
type MTRoute struct {
	Name       string       `json:"name"`
	Kind       string       `json:"kind"`
	Connectors []string     `json:"connectors"`
	Weights    []int        `json:"weights,omitempty"`
	Rate       float64      `json:"rate"`
	Filters    RouteFilters `json:"filters"`
}

// MORoute is one [[mo_route]].
type MORoute struct {
	Name    string       `json:"name"`
	User    string       `json:"user"`
	Filters RouteFilters `json:"filters"`
}

// RouteFilters are a route's filters; an empty object matches everything.
type RouteFilters struct {
	Users          []string `json:"users,omitempty"`
	Groups         []string `json:"groups,omitempty"`
	FromConnectors []string `json:"from_connectors,omitempty"`
	SourceAddrs    []string `json:"source_addrs,omitempty"`
	DestPrefixes   []string `json:"dest_prefixes,omitempty"`
	DestRegex      string   `json:"dest_regex,omitempty"`
	ContentRegex   string   `json:"content_regex,omitempty"`
	DataCodings    []int    `json:"data_codings,omitempty"`
	TimeWindow     string   `json:"time_window,omitempty"`
	Days           string   `json:"days,omitempty"`
	DateWindow     string   `json:"date_window,omitempty"`
	TimeZone       string   `json:"time_zone,omitempty"`
}

func (s *Server) routingRoutes() {
	s.mux.HandleFunc("GET /v1/routes", s.showRoutes)
	s.mux.HandleFunc("POST /v1/routes/reload", s.reloadRoutes)
}

func (s *Server) showRoutes(w http.ResponseWriter, _ *http.Request) {
	if s.opts.Router == nil {
		unwired(w, "routes")
		return
	}
	writeJSON(w, http.StatusOK, routesView(s.routes.Load(), s.opts.Router.Load()))
}

// SetRoutes records the routing configuration in force after the owner
// swapped the Router itself (SIGHUP), so GET /v1/routes shows it.
func (s *Server) SetRoutes(cfg routing.Config) { s.routes.Store(&cfg) }

// reloadRoutes re-reads the routes, compiles them and swaps them in. The
// new table must name the connectors this process runs under the same ids:
// connectors change through a reload (POST /v1/reload) or PUT and DELETE
// /v1/connectors/{name}.
func (s *Server) reloadRoutes(w http.ResponseWriter, _ *http.Request) {
	if s.opts.Router == nil || s.opts.LoadRoutes == nil {
		unwired(w, "route reloads")
		return
	}
	s.reload.Lock()
	defer s.reload.Unlock()
	cfg, err := s.opts.LoadRoutes()
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_config", err.Error())
		return
	}
	t, err := routing.Compile(cfg)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_config", err.Error())
		return
	}
	if msg := s.sameConnectors(t); msg != "" {
		writeError(w, http.StatusConflict, "conflict", msg)
		return
	}
	s.opts.Router.Swap(t)
	s.routes.Store(&cfg)
	s.opts.Logger.Info().Str("event", "routes_reload").Int("mt_routes", len(cfg.MT)).Int("mo_routes", len(cfg.MO)).
		Msg("routes reloaded")
	writeJSON(w, http.StatusOK, routesView(&cfg, t))
}

// sameConnectors checks that every connector id of t names the connector
// the hub holds under that id (or, without the hub, the table in force).
func (s *Server) sameConnectors(t *routing.Table) string {
	var have []string
	if s.opts.Connectors != nil {
		for _, c := range s.opts.Connectors.Connectors() {
			if c.ID >= len(have) {
				have = append(have, make([]string, c.ID+1-len(have))...)
			}
			have[c.ID] = c.Name
		}
	} else {
		have = s.opts.Router.Load().ConnectorNames()
	}
	for id, name := range t.ConnectorNames() {
		if name != "" && (id >= len(have) || have[id] != name) {
			return fmt.Sprintf("the routes name connector %q (id %d), which this process does not run under that id: "+
				"add it to the config's connectors and reload, or PUT /v1/connectors/%s", name, id, name)
		}
	}
	return ""
}

func routesView(cfg *routing.Config, t *routing.Table) *Routes {
	out := &Routes{MT: make([]MTRoute, len(cfg.MT)), MO: make([]MORoute, len(cfg.MO)),
		Connectors: append([]string{}, t.ConnectorNames()...)}
	for i, r := range cfg.MT {
		out.MT[i] = MTRoute{Name: r.Name, Kind: r.Kind, Connectors: append([]string{}, r.Connectors...), Weights: r.Weights,
			Rate: r.Rate, Filters: filtersView(&r.FilterConfig)}
	}
	for i, r := range cfg.MO {
		out.MO[i] = MORoute{Name: r.Name, User: r.User, Filters: filtersView(&r.FilterConfig)}
	}
	return out
}

func filtersView(f *routing.FilterConfig) RouteFilters {
	return RouteFilters{Users: f.Users, Groups: f.Groups, FromConnectors: f.FromConnectors, SourceAddrs: f.SourceAddrs,
		DestPrefixes: f.DestPrefixes, DestRegex: f.DestRegex, ContentRegex: f.ContentRegex, DataCodings: f.DataCodings,
		TimeWindow: f.TimeWindow, Days: f.Days, DateWindow: f.DateWindow, TimeZone: f.TimeZone}
}
