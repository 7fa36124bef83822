package main

import (
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// heldItem is one entry of GET /v1/held.
type heldItem struct {
	Key      string    `json:"key"`
	Kind     string    `json:"kind"`
	SystemID string    `json:"system_id"`
	Queue    string    `json:"queue"`
	ID       string    `json:"id"`
	Expires  time.Time `json:"expires"`
	Attempts int       `json:"attempts"`
	Leased   bool      `json:"leased"`
	Octets   int       `json:"octets"`
	Body     string    `json:"body_hex"`
}

type heldArgs struct {
	kind, user string
	limit      int
}

// deadLetterEntry is one entry of GET /v1/dead-letters.
type deadLetterEntry struct {
	Key       string    `json:"key"`
	Kind      string    `json:"kind"`
	Connector int32     `json:"connector"`
	SystemID  string    `json:"system_id"`
	ID        string    `json:"id"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
	Body      string    `json:"body_hex"`
}

// trafficAction runs a retry or purge and prints what the server did.
func trafficAction(e *env, method, path, done string) error {
	var r struct {
		Letters int `json:"letters"`
	}
	raw, err := e.c.get(method, path, nil, &r)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e, raw)
	}
	if r.Letters > 1 {
		done += " (" + strconv.Itoa(r.Letters) + " letters)"
	}
	_, err = fmt.Fprintln(e.out, done)
	return err
}

var heldGroup = &group{
	name:    "held",
	summary: "list, inspect, retry and purge held MO, receipts and HTTP callbacks",
	help: `Held items wait in the store: MO and receipts for a user with no
receiver bound, HTTP callbacks (receipts to a dlr-url, MO to a URL) for
their target. Every retry and purge is in the audit log.
`,
	cmds: []*command{
		{
			name: "list", summary: "list held items",
			help: `KIND is mo, receipt or callback; FOR is the user, or the server's own
queue in brackets (webhook, mo-parts, multi). LEASED items are being
delivered now.

Examples:
  smppctl held list
  smppctl held list --kind callback
  smppctl held list --user demo --limit 1000
`,
			flags: func(fs *flag.FlagSet) func() any {
				kind := fs.String("kind", "", "mo, receipt or callback (default all)")
				user := fs.String("user", "", "only this system_id's items")
				limit := fs.Int("limit", 100, "show at most this many (1..10000)")
				return func() any { return heldArgs{kind: *kind, user: *user, limit: *limit} }
			},
			run: func(e *env, _ []string, body any) error {
				a := body.(heldArgs)
				q := url.Values{"limit": {strconv.Itoa(a.limit)}}
				if a.kind != "" {
					q.Set("kind", a.kind)
				}
				if a.user != "" {
					q.Set("system_id", a.user)
				}
				var l struct {
					Total int        `json:"total"`
					Held  []heldItem `json:"held"`
				}
				raw, err := e.c.get("GET", "/v1/held?"+q.Encode(), nil, &l)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				rows := [][]string{{"KEY", "KIND", "FOR", "ID", "ATTEMPTS", "LEASED", "OCTETS", "EXPIRES IN"}}
				for _, h := range l.Held {
					who := h.SystemID
					if h.Queue != "" {
						who = "[" + h.Queue + "]"
					}
					rows = append(rows, []string{h.Key, h.Kind, dash(who), dash(h.ID), strconv.Itoa(h.Attempts),
						strconv.FormatBool(h.Leased), strconv.Itoa(h.Octets), time.Until(h.Expires).Round(time.Second).String()})
				}
				if err := table(e, rows); err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.out, "%d held in all\n", l.Total)
				return err
			},
		},
		{
			name: "show", args: "KEY", nargs: 1, summary: "show one held item with its body",
			help: `Examples:
  smppctl held show 4294967297
`,
			run: func(e *env, args []string, _ any) error {
				var h heldItem
				raw, err := e.c.get("GET", "/v1/held/"+url.PathEscape(args[0]), nil, &h)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				return table(e, [][]string{{"KEY", h.Key}, {"KIND", h.Kind}, {"FOR", dash(h.SystemID + h.Queue)},
					{"ID", dash(h.ID)}, {"ATTEMPTS", strconv.Itoa(h.Attempts)}, {"LEASED", strconv.FormatBool(h.Leased)},
					{"EXPIRES", h.Expires.UTC().Format(time.RFC3339)}, {"BODY", dash(h.Body)}})
			},
		},
		{
			name: "retry", args: "KEY", nargs: 1, summary: "offer a held MO or receipt again now",
			help: `The item's attempts start again from 0 and it is delivered now if a
receiver of its user is bound; otherwise it stays held in its place. A
leased item (being delivered) and the items of the server's own queues
(retried by their senders on their schedule) are refused.

Examples:
  smppctl held retry 4294967297
`,
			run: func(e *env, args []string, _ any) error {
				return trafficAction(e, "POST", "/v1/held/"+url.PathEscape(args[0])+"/retry", "retried")
			},
		},
		{
			name: "purge", args: "KEY", nargs: 1, summary: "drop a held item for good",
			help: `Nothing is delivered or sent for it. A leased item is refused: try again
once its attempt ends.

Examples:
  smppctl held purge 4294967297
`,
			run: func(e *env, args []string, _ any) error {
				return trafficAction(e, "DELETE", "/v1/held/"+url.PathEscape(args[0]), "purged")
			},
		},
	},
}

var deadGroup = &group{
	name:    "dead",
	summary: "list, retry and purge dead letters",
	help: `Dead letters are what no one could take: an MO with no route or user, a
receipt for a message id that is not ours, a callback its target refused
for good. They were answered ESME_ROK upstream. Every retry and purge is
in the audit log.
`,
	cmds: []*command{
		{
			name: "list", summary: "list dead letters, newest first",
			help: `Examples:
  smppctl dead list
  smppctl dead list --limit 1000 --json
`,
			flags: func(fs *flag.FlagSet) func() any {
				limit := fs.Int("limit", 100, "show at most this many (1..10000)")
				return func() any { return *limit }
			},
			run: func(e *env, _ []string, body any) error {
				var l struct {
					Total       int               `json:"total"`
					DeadLetters []deadLetterEntry `json:"dead_letters"`
				}
				raw, err := e.c.get("GET", "/v1/dead-letters?limit="+strconv.Itoa(body.(int)), nil, &l)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				rows := [][]string{{"KEY", "KIND", "AT", "CONNECTOR", "FOR", "ID", "REASON"}}
				for _, d := range l.DeadLetters {
					rows = append(rows, []string{d.Key, d.Kind, d.At.UTC().Format("2006-01-02 15:04:05"),
						strconv.Itoa(int(d.Connector)), dash(d.SystemID), dash(d.ID), shorten(d.Reason, 60)})
				}
				if err := table(e, rows); err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.out, "%d dead letters in all\n", l.Total)
				return err
			},
		},
		{
			name: "retry", args: "KEY", nargs: 1, summary: "deliver a dead letter again",
			help: `An MO goes through the MO routes as they are now (to the user it was for,
if any); a callback is queued for its target again. The letter is removed
once that took; if not, the error says why and it stays. A receipt for an
id that is not ours cannot be retried: purge it.

Examples:
  smppctl dead retry 1796611375060400597
`,
			run: func(e *env, args []string, _ any) error {
				return trafficAction(e, "POST", "/v1/dead-letters/"+url.PathEscape(args[0])+"/retry", "retried")
			},
		},
		{
			name: "purge", args: "KEY", nargs: 1, summary: "remove a dead letter",
			help: `Examples:
  smppctl dead purge 1796611375060400597
`,
			run: func(e *env, args []string, _ any) error {
				return trafficAction(e, "DELETE", "/v1/dead-letters/"+url.PathEscape(args[0]), "purged")
			},
		},
	},
}

var queuesGroup = &group{
	name:    "queues",
	summary: "list connectors' queued MT and purge one",
	cmds: []*command{
		{
			name: "list", summary: "list each connector's queued MT",
			help: `QUEUED counts what waits in the connector's queue and what it holds (sent
upstream, waiting for an answer or a retry).

Examples:
  smppctl queues list
`,
			run: func(e *env, _ []string, _ any) error {
				var l struct {
					Queues []struct {
						Connector string `json:"connector"`
						Queued    int    `json:"queued"`
						Up        bool   `json:"up"`
						Stopped   bool   `json:"stopped"`
					} `json:"queues"`
				}
				raw, err := e.c.get("GET", "/v1/queues", nil, &l)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				rows := [][]string{{"CONNECTOR", "QUEUED", "UP", "STOPPED"}}
				for _, q := range l.Queues {
					rows = append(rows, []string{q.Connector, strconv.Itoa(q.Queued), strconv.FormatBool(q.Up), strconv.FormatBool(q.Stopped)})
				}
				return table(e, rows)
			},
		},
		{
			name: "purge", args: "NAME", nargs: 1, summary: "fail what waits in a connector's queue",
			help: `Every message waiting in the queue is failed now: refunded, and a receipt
goes to the ESMEs that asked for one. What the connector already holds
(sent upstream, or waiting for an answer or a retry) stays: it may be
accepted upstream. For a connector whose upstream is down for good.

Examples:
  smppctl queues purge smsc-a
`,
			run: func(e *env, args []string, _ any) error {
				var r struct {
					Messages int `json:"messages"`
				}
				raw, err := e.c.get("POST", "/v1/queues/"+url.PathEscape(args[0])+"/purge", nil, &r)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				_, err = fmt.Fprintf(e.out, "purged %d messages\n", r.Messages)
				return err
			},
		},
	},
}
