package admin

import "net/http"

// ReloadResult is the body of POST /v1/reload: what the reload applied
// and what waits for a restart.
type ReloadResult struct {
	Status       string   `json:"status"`  // reloaded
	Users        int      `json:"users"`   // users in force
	Routes       int      `json:"routes"`  // MT and MO routes in force
	Added        []string `json:"added"`   // connectors built and started
	Removed      []string `json:"removed"` // connectors taken out of service, their queues routed again
	Rebuilt      []string `json:"rebuilt"` // connectors drained and rebound with new settings
	Failed       []string `json:"failed"`  // connectors whose addition, rebuild or removal failed (see the log)
	NeedsRestart []string `json:"needs_restart"`
}

// reloadConfig re-reads the configuration as SIGHUP does. A refused
// reload (a file that does not load, a route naming a connector that does
// not run) is 422 with the reason; the previous configuration stays.
// Needs the operator scope (a path under no scope's prefix).
func (s *Server) reloadConfig(w http.ResponseWriter, _ *http.Request) {
	if s.opts.Reload == nil {
		unwired(w, "reload")
		return
	}
	res, err := s.opts.Reload()
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "rejected", err.Error()+"; the previous configuration stays in force")
		return
	}
	res.Status = "reloaded"
	for _, l := range []*[]string{&res.Added, &res.Removed, &res.Rebuilt, &res.Failed, &res.NeedsRestart} {
		if *l == nil {
			*l = []string{}
		}
	}
	writeJSON(w, http.StatusOK, &res)
}
