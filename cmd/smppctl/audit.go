package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// auditEntry is one entry of GET /v1/audit, the fields smppctl shows.
type auditEntry struct {
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	Token   string            `json:"token"`
	Remote  string            `json:"remote"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query"`
	Target  map[string]string `json:"target"`
	Request json.RawMessage   `json:"request"`
	Status  int               `json:"status"`
}

type auditPage struct {
	Entries   []json.RawMessage `json:"entries"`
	More      bool              `json:"more"`
	NextAfter uint64            `json:"next_after"`
}

type auditArgs struct {
	since string
	after uint64
	limit int
}

// auditPageSize is what one request asks for (the API's maximum).
const auditPageSize = 1000

var auditGroup = &group{
	name:    "audit",
	summary: "show the audit log: who changed what, and when",
	cmds: []*command{{
		summary: "list audit entries, oldest first",
		help: `Every admin API request that may change something (users, balances,
quotas, lists, routes, connectors, sessions, MO, held and dead traffic) is
an entry, written before its answer: which token and address asked, the
method and path, the body (secrets redacted), and the HTTP status. Reads
are not audited. Columns: SEQ, TIME (UTC), TOKEN, REMOTE, STATUS, REQUEST,
BODY (shortened; --json shows entries whole, with the answer).

--since takes a duration back from now (24h) or an RFC 3339 time;
--after an entry's SEQ, to go on from where an earlier listing ended.

Examples:
  smppctl audit
  smppctl audit --since 168h
  smppctl audit --since 2026-12-01T00:00:00Z --limit 0 --json
  smppctl audit --after 1200
`,
		flags: func(fs *flag.FlagSet) func() any {
			since := fs.String("since", "24h", `entries from this long ago (duration) or this time (RFC 3339); "" for all`)
			after := fs.Uint64("after", 0, "entries after this SEQ")
			limit := fs.Int("limit", 1000, "show at most this many entries (0 = all)")
			return func() any { return auditArgs{since: *since, after: *after, limit: *limit} }
		},
		run: runAudit,
	}},
}

func runAudit(e *env, _ []string, body any) error {
	a := body.(auditArgs)
	if a.limit < 0 {
		return usageError("--limit must be 0 or more")
	}
	var raw []json.RawMessage
	after := a.after
	for a.limit == 0 || len(raw) < a.limit {
		n := auditPageSize
		if a.limit > 0 {
			n = min(n, a.limit-len(raw))
		}
		q := url.Values{"limit": {strconv.Itoa(n)}, "after": {strconv.FormatUint(after, 10)}}
		if a.since != "" {
			q.Set("since", a.since)
		}
		var p auditPage
		if _, err := e.c.get("GET", "/v1/audit?"+q.Encode(), nil, &p); err != nil {
			return err
		}
		raw = append(raw, p.Entries...)
		if !p.More || len(p.Entries) == 0 {
			break
		}
		after = p.NextAfter
	}
	if e.json {
		b, err := json.MarshalIndent(map[string]any{"entries": raw}, "", "  ")
		if err != nil {
			return err
		}
		return printJSON(e, append(b, '\n'))
	}
	rows := [][]string{{"SEQ", "TIME", "TOKEN", "REMOTE", "STATUS", "REQUEST", "BODY"}}
	for _, r := range raw {
		var en auditEntry
		if err := json.Unmarshal(r, &en); err != nil {
			return fmt.Errorf("unexpected audit entry %s: %w", r, err)
		}
		req := en.Method + " " + en.Path
		if en.Query != "" {
			req += "?" + en.Query
		}
		var body bytes.Buffer
		if len(en.Request) > 0 {
			_ = json.Compact(&body, en.Request) // the server indents it
		}
		rows = append(rows, []string{u64(en.Seq), en.Time.UTC().Format("2006-01-02 15:04:05"), en.Token, en.Remote,
			strconv.Itoa(en.Status), req, shorten(body.String(), 60)})
	}
	return table(e, rows)
}

// shorten cuts s to n runes with an ellipsis, "-" when empty.
func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "-"
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
