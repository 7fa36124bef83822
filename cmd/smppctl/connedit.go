package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
)

// connectors set and remove: PUT and DELETE /v1/connectors/{name}.
func init() {
	connectorsGroup.cmds = append(connectorsGroup.cmds, connectorSetCmd, connectorRemoveCmd)
}

// connectorSpec is the body of PUT /v1/connectors/{name}.
type connectorSpec struct {
	Type     string         `json:"type"`
	Queue    int            `json:"queue,omitempty"`
	Settings map[string]any `json:"settings,omitempty"`
	err      error
}

// setting parses KEY=VALUE into s.Settings: a dotted KEY reaches into a
// table (outcomes.delivered=90); VALUE is JSON when it parses as JSON
// (2775, true, ["999"], {"delivered":100}), else a string.
func (s *connectorSpec) setting(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return fmt.Errorf("--set %q: want KEY=VALUE", kv)
	}
	var val any = v
	var j any
	if json.Unmarshal([]byte(v), &j) == nil {
		val = j
	}
	if s.Settings == nil {
		s.Settings = map[string]any{}
	}
	m := s.Settings
	parts := strings.Split(k, ".")
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = val
	return nil
}

var connectorSetCmd = &command{
	name: "set", args: "NAME", nargs: 1, summary: "add a connector, or replace one's settings",
	help: `The connector's entry becomes TYPE, QUEUE and the settings given (its
[connector.<type>] table, docs/CONFIG.md): what is not given takes its
default. smppd writes every running connector, with this change, to its
connectors file (connectors_file, "<config name>.connectors.toml" beside the config)
and reloads as SIGHUP does: a new connector is built and started, a
changed one drains and rebinds. From then on that file holds the
connectors: a restart and the next SIGHUP keep the change. Refused, and
nothing changes, when the entry or the configuration with it does not
load. A secret may be a reference (env:NAME, file:/path). Audited; needs
a token with the connectors scope.

Examples:
  smppctl connectors set sim2 --type sim --set receipt_delay=1s
  smppctl connectors set up1 --type smpp --queue 4096 --set host=10.0.0.5 --set port=2775 \
      --set system_id=smppd --set password=env:UP1_PASSWORD
  smppctl connectors set sim2 --type sim --settings '{"outcomes":{"delivered":90,"undeliverable":10}}'
`,
	flags: func(fs *flag.FlagSet) func() any {
		s := &connectorSpec{}
		fs.StringVar(&s.Type, "type", "", "the connector's kind: sim, smpp (required)")
		fs.IntVar(&s.Queue, "queue", 0, "its queue capacity (0 = the default)")
		fs.Func("set", "one setting KEY=VALUE (repeat; a dotted KEY reaches into a table)", s.setting)
		fs.Func("settings", "every setting as one JSON object", func(v string) error {
			var m map[string]any
			if err := json.Unmarshal([]byte(v), &m); err != nil {
				return fmt.Errorf("--settings: %w", err)
			}
			if s.Settings == nil {
				s.Settings = map[string]any{}
			}
			for k, x := range m {
				s.Settings[k] = x
			}
			return nil
		})
		return func() any {
			if s.Type == "" {
				s.err = errors.New("--type is required (sim, smpp, ...)")
			}
			return s
		}
	},
	run: func(e *env, args []string, body any) error {
		s := body.(*connectorSpec)
		if s.err != nil {
			return s.err
		}
		return connectorChange(e, "PUT", args[0], s)
	},
}

var connectorRemoveCmd = &command{
	name: "remove", args: "NAME", nargs: 1, summary: "remove a connector",
	help: `The connector stops taking messages; what waits in its queue is routed
again by the routes in force (failed UNDELIV, refunded and with its
receipt, when no route takes it), what its upstream has in flight gets
its answers within shutdown_grace. Refused while a route names it: change
the routes first. Written to the connectors file as "set" is. Audited.

Examples:
  smppctl connectors remove up1
`,
	run: func(e *env, args []string, _ any) error {
		return connectorChange(e, "DELETE", args[0], nil)
	},
}

func connectorChange(e *env, method, name string, body any) error {
	var r struct {
		Added        []string `json:"added"`
		Removed      []string `json:"removed"`
		Rebuilt      []string `json:"rebuilt"`
		Failed       []string `json:"failed"`
		NeedsRestart []string `json:"needs_restart"`
	}
	raw, err := e.c.get(method, "/v1/connectors/"+url.PathEscape(name), body, &r)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e, raw)
	}
	_, err = fmt.Fprintf(e.out, "added: %s\nremoved: %s\nrebuilt: %s\nfailed: %s\nneeds restart: %s\n",
		list(r.Added), list(r.Removed), list(r.Rebuilt), list(r.Failed), list(r.NeedsRestart))
	return err
}
