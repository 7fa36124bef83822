package main

import "fmt"

var reloadGroup = &group{
	name:    "reload",
	summary: "re-read the whole configuration, as SIGHUP does",
	cmds: []*command{{
		summary: "re-read the configuration (POST /v1/reload)",
		help: `Users, groups, routes, TLS files, admin tokens and the connectors changed
in place (drained and rebound with their new settings). Listener, storage
and cluster changes, and connectors added, removed or moved, wait for a
restart: they are listed under NEEDS RESTART. A configuration that does
not load, or whose routes name a connector that does not run, is refused
and nothing changes. Needs an operator token.

Examples:
  smppctl reload
`,
		run: func(e *env, _ []string, _ any) error {
			var r struct {
				Users        int      `json:"users"`
				Routes       int      `json:"routes"`
				Rebuilt      []string `json:"rebuilt"`
				Failed       []string `json:"failed"`
				NeedsRestart []string `json:"needs_restart"`
			}
			raw, err := e.c.get("POST", "/v1/reload", nil, &r)
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e, raw)
			}
			_, err = fmt.Fprintf(e.out, "reloaded: %d users, %d routes\nrebuilt: %s\nfailed: %s\nneeds restart: %s\n",
				r.Users, r.Routes, list(r.Rebuilt), list(r.Failed), list(r.NeedsRestart))
			return err
		},
	}},
}
