package main

import "fmt"

var reloadGroup = &group{
	name:    "reload",
	summary: "re-read the whole configuration, as SIGHUP does",
	cmds: []*command{{
		summary: "re-read the configuration (POST /v1/reload)",
		help: `Users, groups, routes, TLS files, admin tokens and connectors: one added
is built and started, one removed stops taking messages and what waits in
its queue is routed again by the new routes, one changed in place drains
and rebinds. Listener, storage and cluster changes, a connector's type
change, and in a cluster any connector added or removed, wait for a
restart: they are listed under NEEDS RESTART. A configuration that does
not load, or whose routes name a connector that would not run, is refused
and nothing changes. Needs an operator token.

Examples:
  smppctl reload
`,
		run: func(e *env, _ []string, _ any) error {
			var r struct {
				Users        int      `json:"users"`
				Routes       int      `json:"routes"`
				Added        []string `json:"added"`
				Removed      []string `json:"removed"`
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
			_, err = fmt.Fprintf(e.out, "reloaded: %d users, %d routes\nadded: %s\nremoved: %s\nrebuilt: %s\nfailed: %s\nneeds restart: %s\n",
				r.Users, r.Routes, list(r.Added), list(r.Removed), list(r.Rebuilt), list(r.Failed), list(r.NeedsRestart))
			return err
		},
	}},
}
