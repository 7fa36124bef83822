package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// message is one object of GET /v1/messages (docs/CDR.md's fields).
type message struct {
	ID            string  `json:"id"`
	User          string  `json:"user"`
	Source        string  `json:"source"`
	Destination   string  `json:"destination"`
	Parts         int     `json:"parts"`
	Route         string  `json:"route"`
	Connector     string  `json:"connector"`
	UpstreamID    string  `json:"upstream_id"`
	Submitted     string  `json:"submitted"`
	Expires       string  `json:"expires"`
	Final         string  `json:"final"`
	State         string  `json:"state"`
	Error         int     `json:"error"`
	Charge        float64 `json:"charge"`
	QuotaParts    int     `json:"quota_parts"`
	RegDelivery   int     `json:"registered_delivery"`
	DataCoding    int     `json:"data_coding"`
	Text          *string `json:"text"`
	TextHex       *string `json:"text_hex"`
	SchemaVersion int     `json:"v"`
}

type messagePage struct {
	Messages []message `json:"messages"`
	Next     string    `json:"next"`
}

// eraseStatus is GET /v1/messages/erase.
type eraseStatus struct {
	Number   string    `json:"number"`
	Running  bool      `json:"running"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Files    int       `json:"files_rewritten"`
	Lines    uint64    `json:"lines_removed"`
	Error    string    `json:"error"`
}

type findArgs struct {
	to, since, cursor string
	limit             int
	all               bool
}

type eraseArgs struct {
	wait time.Duration
	yes  bool
}

var msgGroup = &group{
	name:    "msg",
	summary: "look up MT messages across all users; erase a number",
	help: `What happened to a message, and what was sent to a number, from the
message store: state, times, parts, connector, upstream id, error and
charge, as the CDR lines say them (docs/CDR.md). Records live as long as
[storage] message_ttl keeps them; older ones are only in the CDR files.
`,
	cmds: []*command{
		{
			name: "show", args: "ID", nargs: 1, summary: "one message by id",
			help: `ID is the id submit_sm_resp gave (16 hex digits) or its decimal form, as a
receipt's id: may quote it.

Examples:
  smppctl msg show 0718f3a2c4000001
  smppctl msg show 0718f3a2c4000001 --json
`,
			run: func(e *env, args []string, _ any) error {
				var m message
				raw, err := e.c.get("GET", "/v1/messages/"+url.PathEscape(args[0]), nil, &m)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				rows := [][]string{
					{"id:", m.ID}, {"user:", m.User}, {"source:", m.Source}, {"destination:", m.Destination},
					{"state:", m.State}, {"error:", strconv.Itoa(m.Error)}, {"submitted:", m.Submitted},
					{"final:", dash(m.Final)}, {"expires:", dash(m.Expires)}, {"parts:", strconv.Itoa(m.Parts)},
					{"route:", dash(m.Route)}, {"connector:", dash(m.Connector)}, {"upstream id:", dash(m.UpstreamID)},
					{"charge:", strconv.FormatFloat(m.Charge, 'f', -1, 64)}, {"registered_delivery:", strconv.Itoa(m.RegDelivery)},
					{"data_coding:", strconv.Itoa(m.DataCoding)},
				}
				switch {
				case m.Text != nil:
					rows = append(rows, []string{"text:", strconv.Quote(*m.Text)})
				case m.TextHex != nil:
					rows = append(rows, []string{"text (hex):", *m.TextHex})
				}
				return table(e, rows)
			},
		},
		{
			name: "find", summary: "the messages to a number, newest first",
			help: `Lists the messages whose destination is --to (a leading + is ignored on
both sides), newest first, --limit at a time. When more are left it prints
the command for the next page (--cursor); --all follows every page.
--since keeps messages submitted from then on: an RFC 3339 time or a
duration back from now ("24h").

Examples:
  smppctl msg find --to +4917012345678
  smppctl msg find --to 4917012345678 --since 24h --limit 200
  smppctl msg find --to 4917012345678 --all --json
`,
			flags: func(fs *flag.FlagSet) func() any {
				a := &findArgs{}
				fs.StringVar(&a.to, "to", "", "the destination number (required)")
				fs.StringVar(&a.since, "since", "", `only messages submitted since: RFC 3339 or a duration such as "24h"`)
				fs.IntVar(&a.limit, "limit", 50, "messages per page (1..1000)")
				fs.StringVar(&a.cursor, "cursor", "", "start after this page cursor (printed as next)")
				fs.BoolVar(&a.all, "all", false, "follow every page")
				return func() any { return a }
			},
			run: findMessages,
		},
		{
			name: "erase", args: "NUMBER", nargs: 1, summary: "erase every record and CDR line of a number",
			help: `Deletes from the store every message record whose destination or source
is NUMBER (a leading + is ignored), then removes its lines from the CDR
files, which the server does in the background: this command waits for
that (--wait) and prints what went. It cannot be undone, so it asks for
--yes. The procedure and what it does not reach (the store's log until
compaction, backups, files already shipped elsewhere): docs/OPERATIONS.md,
"Erasing a number". Needs an operator token.

Examples:
  smppctl msg erase +4917012345678 --yes
`,
			flags: func(fs *flag.FlagSet) func() any {
				a := &eraseArgs{}
				fs.DurationVar(&a.wait, "wait", 10*time.Minute, "how long to wait for the CDR lines' erasure (0: do not wait)")
				fs.BoolVar(&a.yes, "yes", false, "confirm: the erasure cannot be undone")
				return func() any { return a }
			},
			run: eraseNumber,
		},
	},
}

func findMessages(e *env, _ []string, body any) error {
	a := body.(*findArgs)
	if a.to == "" {
		return usageError("--to is required")
	}
	q := url.Values{"to": {a.to}, "limit": {strconv.Itoa(a.limit)}}
	if a.since != "" {
		q.Set("since", a.since)
	}
	cursor := a.cursor
	var all []message
	var raws []json.RawMessage
	for {
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p messagePage
		raw, err := e.c.get("GET", "/v1/messages?"+q.Encode(), nil, &p)
		if err != nil {
			return err
		}
		all = append(all, p.Messages...)
		raws = append(raws, raw)
		cursor = p.Next
		if !a.all || cursor == "" {
			break
		}
	}
	if e.json {
		if len(raws) == 1 {
			return printJSON(e, raws[0])
		}
		merged := struct {
			Messages []message `json:"messages"`
		}{all}
		b, err := json.MarshalIndent(merged, "", "  ")
		if err != nil {
			return err
		}
		return printJSON(e, append(b, '\n'))
	}
	rows := [][]string{{"ID", "USER", "SOURCE", "DESTINATION", "STATE", "ERR", "SUBMITTED", "FINAL", "PARTS", "ROUTE", "CONNECTOR"}}
	for _, m := range all {
		rows = append(rows, []string{m.ID, m.User, m.Source, m.Destination, m.State, strconv.Itoa(m.Error),
			m.Submitted, dash(m.Final), strconv.Itoa(m.Parts), dash(m.Route), dash(m.Connector)})
	}
	if err := table(e, rows); err != nil {
		return err
	}
	if cursor != "" {
		fmt.Fprintf(e.out, "more: smppctl msg find --to %s --cursor %s%s\n", a.to, cursor, sinceFlag(a.since))
	}
	return nil
}

func sinceFlag(s string) string {
	if s == "" {
		return ""
	}
	return " --since " + s
}

func eraseNumber(e *env, args []string, body any) error {
	a := body.(*eraseArgs)
	if !a.yes {
		return usageError("erasing " + args[0] + "'s records cannot be undone: add --yes")
	}
	var r struct {
		Records  int    `json:"records_erased"`
		CDRLines string `json:"cdr_lines"`
	}
	raw, err := e.c.get("POST", "/v1/messages/erase", map[string]string{"number": args[0]}, &r)
	if err != nil {
		return err
	}
	if r.CDRLines != "erasing" || a.wait <= 0 {
		if e.json {
			return printJSON(e, raw)
		}
		fmt.Fprintf(e.out, "records erased: %d\nCDR lines: %s\n", r.Records, r.CDRLines)
		return nil
	}
	deadline := time.Now().Add(a.wait)
	for {
		var st eraseStatus
		sraw, err := e.c.get("GET", "/v1/messages/erase", nil, &st)
		if err != nil {
			return err
		}
		if !st.Running {
			if e.json {
				return printJSON(e, append(raw, sraw...))
			}
			fmt.Fprintf(e.out, "records erased: %d\nCDR lines removed: %d (%d files rewritten)\n", r.Records, st.Lines, st.Files)
			if st.Error != "" {
				return fmt.Errorf("the CDR lines' erasure failed: %s", st.Error)
			}
			return nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(e.out, "records erased: %d\nCDR lines: still erasing after %v (see GET /v1/messages/erase)\n", r.Records, a.wait)
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}
