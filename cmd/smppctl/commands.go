package main

import (
	"flag"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

var groups []*group

func init() {
	groups = []*group{healthGroup, sessionsGroup, usersGroup, connectorsGroup, routesGroup, moGroup, heldGroup, deadGroup, queuesGroup, msgGroup, auditGroup, reloadGroup, policyGroup, clusterGroup}
}

// ---- output ----

// table prints rows aligned in columns; the first row is the header.
func table(e *env, rows [][]string) error {
	tw := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// printJSON writes the API's answer as it came (indented by the server).
func printJSON(e *env, raw []byte) error {
	_, err := e.out.Write(raw)
	return err
}

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

func ago(t time.Time) string {
	d := time.Since(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String()
}

// ---- health ----

var healthGroup = &group{
	name:    "health",
	summary: "check that smppd answers and is ready",
	cmds: []*command{{
		summary: "check liveness (/v1/health) and readiness (/v1/ready)",
		help: `Asks /v1/health (the process answers) and /v1/ready (the SMPP listener
and the message flow are up). Exits 1 when either fails, so it suits
scripts and probes.

Examples:
  smppctl health
  smppctl health --addr http://10.0.0.5:8790
`,
		run: func(e *env, _ []string, _ any) error {
			h, err := e.c.get("GET", "/v1/health", nil, nil)
			if err != nil {
				return err
			}
			r, err := e.c.get("GET", "/v1/ready", nil, nil)
			if e.json {
				if err != nil {
					return err
				}
				return printJSON(e, append(h, r...))
			}
			if err != nil {
				fmt.Fprintln(e.out, "health: ok")
				return err
			}
			fmt.Fprintln(e.out, "health: ok\nready:  ok")
			return nil
		},
	}},
}

// ---- sessions ----

var sessionsGroup = &group{
	name:    "sessions",
	summary: "list SMPP sessions and kick one",
	help: `A session is one ESME connection: its user (system_id), bind type, peer
address, when it connected and bound, the MT requests awaiting our answer
(in flight), the deliver_sm window, and its PDU counters.
`,
	cmds: []*command{
		{
			name: "list", summary: "list open sessions",
			help: `Columns: ID (for kick), USER, BIND, STATE, REMOTE, AGE (since connect),
IN_FLIGHT (MT awaiting our answer), WINDOW (deliver_sm unanswered) /
QUEUED, PDUS_IN, PDUS_OUT, SUBMITS, DELIVERS, THROTTLED.

Examples:
  smppctl sessions list
  smppctl sessions list --user alice
  smppctl sessions list --json
`,
			flags: func(fs *flag.FlagSet) func() any {
				u := fs.String("user", "", "only this system_id's sessions")
				return func() any { return *u }
			},
			run: func(e *env, _ []string, body any) error {
				path := "/v1/sessions"
				if u := body.(string); u != "" {
					path += "?system_id=" + url.QueryEscape(u)
				}
				var l sessionList
				raw, err := e.c.get("GET", path, nil, &l)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				rows := [][]string{{"ID", "USER", "BIND", "STATE", "REMOTE", "AGE", "IN_FLIGHT", "WINDOW", "QUEUED",
					"PDUS_IN", "PDUS_OUT", "SUBMITS", "DELIVERS", "THROTTLED"}}
				for _, s := range l.Sessions {
					user, bind := s.SystemID, s.BindType
					if user == "" {
						user = "-"
					}
					if bind == "" {
						bind = "-"
					}
					rows = append(rows, []string{u64(s.ID), user, bind, s.State, s.Remote, ago(s.Since),
						strconv.Itoa(s.InFlight), strconv.Itoa(s.DeliverWindow), strconv.Itoa(s.DeliverQueued),
						u64(s.Counters.PDUsIn), u64(s.Counters.PDUsOut), u64(s.Counters.Submits), u64(s.Counters.Delivers),
						u64(s.Counters.Throttled)})
				}
				return table(e, rows)
			},
		},
		{
			name: "kick", args: "ID", nargs: 1, summary: "end a session (unbind, then close)",
			help: `A bound session is sent unbind and closed when the ESME answers (or after
the response timeout); a session that is not bound is closed at once. The
ESME may bind again: disable its user first to keep it out.

Examples:
  smppctl sessions kick 42
`,
			run: func(e *env, args []string, _ any) error {
				if _, err := strconv.ParseUint(args[0], 10, 64); err != nil {
					return usageError("ID is the number in the ID column of sessions list")
				}
				raw, err := e.c.get("DELETE", "/v1/sessions/"+args[0], nil, nil)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				fmt.Fprintf(e.out, "session %s kicked\n", args[0])
				return nil
			},
		},
	},
}

// ---- users ----

// userFlags registers the fields of a user; the body holds only the flags
// given, so "set" changes just those.
func userFlags(create bool) func(fs *flag.FlagSet) func() any {
	return func(fs *flag.FlagSet) func() any {
		fs.String("password", "", "password (1 to 8 characters; stored hashed)")
		fs.Bool("enabled", true, "the user may bind")
		fs.String("group", "", "group name (must exist in the users file)")
		fs.String("bind-types", "", "comma-separated: transmitter,receiver,transceiver (add: default all)")
		fs.Int("max-binds", 0, "binds held at once, all types; 0 = unlimited")
		fs.String("allow-ips", "", "comma-separated addresses or CIDRs the user may bind from; empty = any")
		fs.String("default-source", "", "source_addr used when a submit leaves it empty")
		fs.String("source-addrs", "", `comma-separated allowed source_addr patterns: exact, "336*", "re:<RE2>"`)
		fs.Bool("receipts", true, "the user may ask for delivery receipts")
		fs.Float64("throughput", 0, "message parts per second; 0 = unlimited")
		fs.Int("burst", 0, "parts that may go back to back; 0 = ceil(throughput)")
		if create {
			fs.String("balance", "", `prepaid credit, "unlimited" (default) or a decimal such as 12.5`)
		}
		fs.Int64("quota", 0, "parts the user may send in all; 0 = unlimited")
		fs.String("max-validity", "", `longest validity_period allowed, such as 48h; 0 = unlimited`)
		fs.Int("max-priority", 3, "highest priority_flag allowed, 0 to 3")
		return func() any {
			body := map[string]any{}
			fs.Visit(func(f *flag.Flag) {
				key := strings.ReplaceAll(f.Name, "-", "_")
				g := f.Value.(flag.Getter).Get()
				switch f.Name {
				case "addr", "token", "json":
					return
				case "bind-types", "allow-ips", "source-addrs":
					var l []string
					for _, p := range strings.Split(f.Value.String(), ",") {
						if p = strings.TrimSpace(p); p != "" {
							l = append(l, p)
						}
					}
					body[key] = append([]string{}, l...)
				default:
					body[key] = g
				}
			})
			return body
		}
	}
}

var usersGroup = &group{
	name:    "users",
	summary: "list, add, change, enable, disable users and manage balances",
	help: `Every change is written back to the users file at once, so a restart
keeps it. If that write fails the command fails with "not_saved": the
change is in force but the file is behind until the next successful save.
Password hashes are never shown.
`,
	cmds: []*command{
		{
			name: "list", summary: "list users",
			help: `Columns: USER, ENABLED, ACTIVE (enabled and its group enabled), GROUP,
BIND_TYPES, BINDS (held now), BALANCE, THROUGHPUT, QUOTA (used/total).

Examples:
  smppctl users list
  smppctl users list --json
`,
			run: func(e *env, _ []string, _ any) error {
				var l userList
				raw, err := e.c.get("GET", "/v1/users", nil, &l)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				rows := [][]string{{"USER", "ENABLED", "ACTIVE", "GROUP", "BIND_TYPES", "BINDS", "BALANCE", "THROUGHPUT", "QUOTA"}}
				for _, u := range l.Users {
					rows = append(rows, []string{u.SystemID, strconv.FormatBool(u.Enabled), strconv.FormatBool(u.Active),
						dash(u.Group), list(u.BindTypes), strconv.Itoa(u.Binds), u.Balance, rate(u.Throughput), quota(&u)})
				}
				return table(e, rows)
			},
		},
		{
			name: "show", args: "USER", nargs: 1, summary: "show one user's settings",
			help: "Examples:\n  smppctl users show alice\n",
			run:  func(e *env, args []string, _ any) error { return showUser(e, "GET", args[0], "", nil) },
		},
		{
			name: "add", args: "USER", nargs: 1, summary: "add a user (--password required)",
			help: `Fields not given take the users file's defaults: enabled, every bind
type, receipts allowed, unlimited balance, no limits.

Examples:
  smppctl users add carol --password s3cret
  smppctl users add carol --password s3cret --bind-types transceiver --throughput 50 --balance 100
`,
			flags: userFlags(true),
			run: func(e *env, args []string, body any) error {
				b := body.(map[string]any)
				if _, ok := b["password"]; !ok {
					return usageError("--password is required")
				}
				b["system_id"] = args[0]
				return showUser(e, "POST", "", "/v1/users", b)
			},
		},
		{
			name: "set", args: "USER", nargs: 1, summary: "change a user's fields (only the flags given)",
			help: `Changes only the fields whose flags are given. A new --password is hashed
by smppd; sessions already bound stay bound. Live counters (balance,
quota used) are kept: change the balance with topup or balance-set.

Examples:
  smppctl users set alice --throughput 100 --burst 20
  smppctl users set alice --password n3wpass
  smppctl users set alice --allow-ips 10.0.0.0/8,192.0.2.7
`,
			flags: userFlags(false),
			run: func(e *env, args []string, body any) error {
				b := body.(map[string]any)
				if len(b) == 0 {
					return usageError("give at least one field flag (see --help)")
				}
				return showUser(e, "PATCH", args[0], "", b)
			},
		},
		{
			name: "enable", args: "USER", nargs: 1, summary: "allow a user to bind",
			help: "Examples:\n  smppctl users enable alice\n",
			run: func(e *env, args []string, _ any) error {
				return showUser(e, "POST", args[0], "/v1/users/"+url.PathEscape(args[0])+"/enable", nil)
			},
		},
		{
			name: "disable", args: "USER", nargs: 1, summary: "refuse a user's new binds",
			help: `Binds already held stay up but the user can no longer send; kick its
sessions (smppctl sessions list --user USER) to end them.

Examples:
  smppctl users disable alice
`,
			run: func(e *env, args []string, _ any) error {
				return showUser(e, "POST", args[0], "/v1/users/"+url.PathEscape(args[0])+"/disable", nil)
			},
		},
		{
			name: "topup", args: "USER AMOUNT", nargs: 2, summary: "add AMOUNT to a user's balance",
			help: `AMOUNT is a decimal with at most 6 decimals. A user with an unlimited
balance cannot be topped up: set a number first with balance-set.

Examples:
  smppctl users topup alice 12.5
`,
			run: func(e *env, args []string, _ any) error { return setBalance(e, args, "topup") },
		},
		{
			name: "balance-set", args: "USER AMOUNT", nargs: 2, summary: `set a user's balance ("unlimited" allowed)`,
			help: `Examples:
  smppctl users balance-set alice 100
  smppctl users balance-set alice unlimited
`,
			run: func(e *env, args []string, _ any) error { return setBalance(e, args, "set") },
		},
		callbackSecretCmd,
	},
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func rate(f float64) string {
	if f == 0 {
		return "unlimited"
	}
	return strconv.FormatFloat(f, 'f', -1, 64) + "/s"
}

func quota(u *user) string {
	if u.Quota == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%d/%d", u.QuotaUsed, u.Quota)
}

// showUser sends the request (path "" = /v1/users/USER) and prints the
// user it answers with.
func showUser(e *env, method, id, path string, body any) error {
	if path == "" {
		path = "/v1/users/" + url.PathEscape(id)
	}
	var u user
	raw, err := e.c.get(method, path, body, &u)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e, raw)
	}
	return table(e, [][]string{
		{"system_id", u.SystemID},
		{"enabled", strconv.FormatBool(u.Enabled)},
		{"active", strconv.FormatBool(u.Active)},
		{"group", dash(u.Group)},
		{"bind_types", list(u.BindTypes)},
		{"binds", strconv.Itoa(u.Binds)},
		{"max_binds", limit(u.MaxBinds)},
		{"max_binds_per_type", fmt.Sprintf("transmitter=%s receiver=%s transceiver=%s", limit(u.MaxBindsPerType.Transmitter),
			limit(u.MaxBindsPerType.Receiver), limit(u.MaxBindsPerType.Transceiver))},
		{"allow_ips", list(u.AllowIPs)},
		{"default_source", dash(u.DefaultSource)},
		{"source_addrs", list(u.SourceAddrs)},
		{"receipts", strconv.FormatBool(u.Receipts)},
		{"throughput", rate(u.Throughput)},
		{"burst", strconv.Itoa(u.Burst)},
		{"balance", u.Balance},
		{"quota", quota(&u)},
		{"max_validity", u.MaxValidity},
		{"max_priority", strconv.Itoa(u.MaxPriority)},
		{"callback_secret", present(u.CallbackSecret)},
	})
}

func limit(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

func setBalance(e *env, args []string, op string) error {
	var r struct {
		SystemID string `json:"system_id"`
		Balance  string `json:"balance"`
	}
	raw, err := e.c.get("POST", "/v1/users/"+url.PathEscape(args[0])+"/balance", map[string]string{op: args[1]}, &r)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e, raw)
	}
	fmt.Fprintf(e.out, "%s balance: %s\n", r.SystemID, r.Balance)
	return nil
}

// ---- connectors ----

var connectorsGroup = &group{
	name:    "connectors",
	summary: "list upstream connectors, stop or start one, add, change or remove one",
	help: `A stopped connector takes no messages: routing fails over to the route's
other connectors, and a route with none left answers ESME_RMSGQFUL.
Counters start again from 0 when a connector is started.
`,
	cmds: []*command{
		{
			name: "list", summary: "list connectors with their state and counters",
			help: `STATE is up, down (running, upstream not reachable or not bound) or
stopped (by an operator). RESTART says whether stop/start is possible.

Examples:
  smppctl connectors list
`,
			run: func(e *env, _ []string, _ any) error {
				var l connectorList
				raw, err := e.c.get("GET", "/v1/connectors", nil, &l)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				rows := [][]string{{"NAME", "TYPE", "STATE", "RESTART", "QUEUED", "SUBMITTED", "ACCEPTED", "REFUSED",
					"RETRIED", "EXPIRED", "RECEIPTS", "MO", "BINDS"}}
				for _, c := range l.Connectors {
					s := c.Stats
					rows = append(rows, []string{c.Name, dash(c.Type), c.State, strconv.FormatBool(c.Restartable),
						strconv.Itoa(s.Queued), u64(s.Submitted), u64(s.Accepted), u64(s.Refused), u64(s.Retried),
						u64(s.Expired), u64(s.Receipts), u64(s.MO), strconv.Itoa(s.Binds)})
				}
				return table(e, rows)
			},
		},
		{
			name: "stop", args: "NAME", nargs: 1, summary: "stop a connector",
			help: `The connector stops taking messages and hands what it holds upstream for
up to --grace; what is left is reported failed (refunded, and a receipt
goes to ESMEs that asked for one).

Examples:
  smppctl connectors stop upstream1
  smppctl connectors stop upstream1 --grace 2s
`,
			flags: func(fs *flag.FlagSet) func() any {
				g := fs.Duration("grace", 0, "how long to hand queued messages upstream (0 = the server's default, 10s)")
				return func() any { return *g }
			},
			run: func(e *env, args []string, body any) error {
				path := "/v1/connectors/" + url.PathEscape(args[0]) + "/stop"
				if g := body.(time.Duration); g > 0 {
					path += "?grace=" + g.String()
				}
				var r struct {
					Drained bool `json:"drained"`
				}
				raw, err := e.c.get("POST", path, nil, &r)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				if r.Drained {
					fmt.Fprintf(e.out, "connector %s stopped\n", args[0])
				} else {
					fmt.Fprintf(e.out, "connector %s stopped; messages it still held were reported failed\n", args[0])
				}
				return nil
			},
		},
		{
			name: "start", args: "NAME", nargs: 1, summary: "start a stopped connector",
			help: "Examples:\n  smppctl connectors start upstream1\n",
			run: func(e *env, args []string, _ any) error {
				raw, err := e.c.get("POST", "/v1/connectors/"+url.PathEscape(args[0])+"/start", nil, nil)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				fmt.Fprintf(e.out, "connector %s started\n", args[0])
				return nil
			},
		},
	},
}

// ---- routes ----

var routesGroup = &group{
	name:    "routes",
	summary: "show the routes in force and reload them from the config file",
	cmds: []*command{
		{
			name: "show", summary: "show the MT and MO routes, in match order",
			help: "Examples:\n  smppctl routes show\n  smppctl routes show --json\n",
			run: func(e *env, _ []string, _ any) error {
				return showRoutes(e, "GET", "/v1/routes")
			},
		},
		{
			name: "reload", summary: "re-read [[mt_route]] and [[mo_route]] and swap them in",
			help: `smppd re-reads its config file, checks the routes and swaps them in
atomically: messages keep flowing. On any error nothing changes. The routes
may name only connectors that run: add one with "smppctl connectors set"
or a reload first.

Examples:
  smppctl routes reload
`,
			run: func(e *env, _ []string, _ any) error {
				return showRoutes(e, "POST", "/v1/routes/reload")
			},
		},
	},
}

func showRoutes(e *env, method, path string) error {
	var r routes
	raw, err := e.c.get(method, path, nil, &r)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e, raw)
	}
	rows := [][]string{{"MT_ROUTE", "KIND", "CONNECTORS", "RATE", "FILTERS"}}
	for _, m := range r.MT {
		conns := list(m.Connectors)
		if len(m.Weights) > 0 {
			var ws []string
			for i, c := range m.Connectors {
				ws = append(ws, c+"="+strconv.Itoa(m.Weights[i]))
			}
			conns = strings.Join(ws, ",")
		}
		rows = append(rows, []string{m.Name, m.Kind, conns, strconv.FormatFloat(m.Rate, 'f', -1, 64), filters(m.Filters)})
	}
	if err := table(e, rows); err != nil {
		return err
	}
	fmt.Fprintln(e.out)
	rows = [][]string{{"MO_ROUTE", "USER", "FILTERS"}}
	for _, m := range r.MO {
		rows = append(rows, []string{m.Name, m.User, filters(m.Filters)})
	}
	return table(e, rows)
}

// filters prints a route's filters as key=value in key order; "*" = none.
func filters(f routeFilters) string {
	if len(f) == 0 {
		return "*"
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := f[k]
		if l, ok := v.([]any); ok {
			s := make([]string, len(l))
			for j, x := range l {
				s[j] = fmt.Sprint(x)
			}
			parts[i] = k + "=" + strings.Join(s, ",")
		} else {
			parts[i] = k + "=" + fmt.Sprint(v)
		}
	}
	return strings.Join(parts, " ")
}

// ---- mo ----

var moGroup = &group{
	name:    "mo",
	summary: "inject a mobile-originated message",
	cmds: []*command{{
		name: "inject", summary: "deliver an MO as if an upstream had sent it",
		help: `The MO goes through the MO routes (or straight to --user) and is
delivered to a bound receiver or transceiver of that user, or held until
one binds. The text is encoded in GSM 03.38 when it fits, else UCS2
(--encoding overrides); text longer than 254 octets goes in
message_payload.

Examples:
  smppctl mo inject --from 33612345678 --to 1234 --text "STOP"
  smppctl mo inject --from 33612345678 --to 1234 --text "Привет" --user alice
`,
		flags: func(fs *flag.FlagSet) func() any {
			from := fs.String("from", "", "source_addr, the mobile (required)")
			to := fs.String("to", "", "destination_addr, the short code (required)")
			text := fs.String("text", "", "message text (UTF-8)")
			user := fs.String("user", "", "deliver to this system_id instead of routing")
			enc := fs.String("encoding", "", "auto (default), gsm7, latin1 or ucs2")
			return func() any {
				return map[string]string{"source_addr": *from, "destination_addr": *to, "short_message": *text,
					"system_id": *user, "encoding": *enc}
			}
		},
		run: func(e *env, _ []string, body any) error {
			b := body.(map[string]string)
			if b["source_addr"] == "" || b["destination_addr"] == "" {
				return usageError("--from and --to are required")
			}
			var r struct {
				DataCoding int    `json:"data_coding"`
				Octets     int    `json:"octets"`
				SystemID   string `json:"system_id"`
			}
			raw, err := e.c.get("POST", "/v1/mo", b, &r)
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e, raw)
			}
			fmt.Fprintf(e.out, "MO accepted: data_coding %d, %d octets\n", r.DataCoding, r.Octets)
			return nil
		},
	}},
}
