package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// AuditLog keeps the audit trail (*audit.Log implements it): Append writes
// one JSON object durably as the next entry, stamped with "seq" and "time",
// and Read pages through the entries (seq above after, time not before
// since, oldest first, at most limit) reporting whether more follow.
type AuditLog interface {
	Append(rec []byte) (seq uint64, err error)
	Read(after uint64, since time.Time, limit int) (entries [][]byte, more bool, err error)
}

// auditEntry is what the API writes for one change: who (token, address),
// what (method, path, the endpoint and its path values, the body), and
// how it ended (status and answer). The log adds seq and time.
type auditEntry struct {
	Token  string            `json:"token"`
	Remote string            `json:"remote"`
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Query  string            `json:"query,omitempty"`
	Route  string            `json:"route,omitempty"`  // the endpoint's pattern: "POST /v1/users/{id}/balance"
	Target map[string]string `json:"target,omitempty"` // its path values: {"id": "alice"}
	// Request is the JSON body with every secret replaced (redactKey);
	// RequestOctets the size of a body not kept (not JSON).
	Request       json.RawMessage `json:"request,omitempty"`
	RequestOctets int             `json:"request_octets,omitempty"`
	Status        int             `json:"status"`
	// Response is the answer when at most maxAuditResponse octets: the
	// user, balance or connector state after the change, or the error.
	Response json.RawMessage `json:"response,omitempty"`
}

// maxAuditResponse bounds the answer kept in an entry; a user with long
// lists is a few KiB.
const maxAuditResponse = 16 << 10

// redacted replaces a secret's value in an entry.
const redacted = "[redacted]"

// redactKey reports whether a body key holds a secret (a password, a key
// or its hash, a token) that the audit log must not keep.
func redactKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range secretWords {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// auditStats are the audit log's counters in this server.
type auditStats struct {
	entries atomic.Uint64
	errors  atomic.Uint64
	down    atomic.Bool // the last Append failed: changes are refused until one succeeds
}

// AuditStats returns the entries this server wrote and the writes that
// failed since start.
func (s *Server) AuditStats() (entries, errors uint64) {
	return s.auditing.entries.Load(), s.auditing.errors.Load()
}

// audited serves a change through h and writes its audit entry before the
// answer leaves: h writes into a buffer, the entry goes to the log, then
// the buffer to the client. If the log cannot be written the client gets
// 500 audit_failed instead, and every change after is refused with 503
// audit_unavailable (nothing changed), its own entry tried first, until an
// entry is written again. Without Options.Audit, h serves directly.
func (s *Server) audited(w http.ResponseWriter, r *http.Request, tok *Token, h http.HandlerFunc) {
	if s.opts.Audit == nil {
		h(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "reading the body: "+err.Error())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body)) // over maxBody still: the handler answers 413
	var rec bufferedResponse
	if s.auditing.down.Load() {
		writeError(&rec, http.StatusServiceUnavailable, "audit_unavailable",
			"the audit log could not be written, so no change is made until it can: retry; the server log says why")
	} else {
		h(&rec, r)
	}
	line, err := json.Marshal(s.auditEntry(r, tok, body, &rec))
	if err == nil {
		_, err = s.opts.Audit.Append(line)
	}
	if err != nil {
		s.auditing.errors.Add(1)
		s.auditing.down.Store(true)
		s.opts.Logger.Error().Err(err).Str("event", "audit_failed").Str("token", tok.Name).Str("remote", r.RemoteAddr).
			Str("method", r.Method).Str("path", clip(r.URL.Path)).Int("status", rec.code()).RawJSON("entry", jsonOrNull(line)).
			Msg("audit log not written: changes are refused until it is")
		msg := "the audit log could not record this request: " + err.Error()
		if rec.code()/100 == 2 {
			msg = "the change was made (HTTP " + strconv.Itoa(rec.code()) + ") but the audit log could not record it: " +
				err.Error() + "; further changes are refused until it can"
		}
		writeError(w, http.StatusInternalServerError, "audit_failed", msg)
		return
	}
	s.auditing.entries.Add(1)
	s.auditing.down.Store(false)
	rec.flush(w)
}

// auditEntry builds the entry of request r, answered as rec says.
func (s *Server) auditEntry(r *http.Request, tok *Token, body []byte, rec *bufferedResponse) *auditEntry {
	e := &auditEntry{Token: tok.Name, Remote: r.RemoteAddr, Method: r.Method, Path: clip(r.URL.Path),
		Query: clip(r.URL.RawQuery), Status: rec.code()}
	if _, pattern := s.mux.Handler(r); pattern != "" {
		e.Route = pattern
		e.Target = pathValues(pattern, r.URL.EscapedPath())
	}
	if len(body) > 0 {
		if red, ok := redactJSON(body); ok && len(body) <= maxBody {
			e.Request = red
		} else {
			e.RequestOctets = len(body)
		}
	}
	if b := rec.body.Bytes(); len(b) <= maxAuditResponse && json.Valid(b) {
		// Redacted too: an answer may carry a secret made by the request
		// (POST /v1/users/{id}/callback-secret answers the new one).
		if red, ok := redactJSON(b); ok {
			e.Response = red
		}
	}
	return e
}

// pathValues returns the values a path gives a pattern's {wildcards}
// ("POST /v1/users/{id}/balance", "/v1/users/alice/balance": id=alice),
// or nil when it has none. Computed here rather than read with
// Request.PathValue so a request refused before routing has them too.
func pathValues(pattern, path string) map[string]string {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // a host in the pattern
	}
	pat, segs := strings.Split(pattern, "/"), strings.Split(path, "/")
	var out map[string]string
	for i, p := range pat {
		if !strings.HasPrefix(p, "{") || !strings.HasSuffix(p, "}") || i >= len(segs) {
			continue
		}
		name, v := p[1:len(p)-1], segs[i]
		if n, ok := strings.CutSuffix(name, "..."); ok {
			name, v = n, strings.Join(segs[i:], "/")
		}
		if name == "$" {
			continue
		}
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		if out == nil {
			out = make(map[string]string)
		}
		out[name] = clip(v)
	}
	return out
}

// redactJSON returns body with the value of every secret key replaced, at
// any depth, or false when body is not JSON. A body that cannot name a
// secret is only compacted, its keys in their own order: decoding it into
// maps and encoding it again was the larger part of an entry's cost.
func redactJSON(body []byte) (json.RawMessage, bool) {
	if !maySayASecret(body) {
		var out bytes.Buffer
		out.Grow(len(body))
		if err := json.Compact(&out, body); err != nil {
			return nil, false
		}
		return out.Bytes(), true
	}
	return redactDecoded(body)
}

// redactDecoded is redactJSON through a decode into maps and an encode.
func redactDecoded(body []byte) (json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // amounts stay as written
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, false
	}
	out, err := json.Marshal(redact(v))
	return out, err == nil
}

// secretWords are what redactKey looks for, lower case.
var secretWords = [...]string{"password", "secret", "token", "api_key"}

// maySayASecret reports whether body may hold a key redactKey matches:
// one of its words in any ASCII case, an escape (a key may spell one as
// \u0070assword) or a non-ASCII octet (strings.ToLower folds some, like
// the Kelvin sign, to ASCII). False means no key of body is a secret.
func maySayASecret(body []byte) bool {
	for i, c := range body {
		if c == '\\' || c >= 0x80 {
			return true
		}
		for _, w := range secretWords {
			if c|0x20 == w[0] && hasFoldPrefix(body[i:], w) {
				return true
			}
		}
	}
	return false
}

// hasFoldPrefix reports whether b starts with the lower-case ASCII word w
// in any case.
func hasFoldPrefix(b []byte, w string) bool {
	if len(b) < len(w) {
		return false
	}
	for j := 0; j < len(w); j++ {
		c := b[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[j] {
			return false
		}
	}
	return true
}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if _, flag := val.(bool); redactKey(k) && !flag { // a flag ("api_key": true) holds no secret
				x[k] = redacted
			} else {
				x[k] = redact(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}

func jsonOrNull(b []byte) []byte {
	if json.Valid(b) {
		return b
	}
	return []byte("null")
}

// bufferedResponse holds a handler's answer until its audit entry is
// written.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header {
	if b.header == nil {
		b.header = http.Header{}
	}
	return b.header
}

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedResponse) code() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

func (b *bufferedResponse) flush(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.code())
	_, _ = w.Write(b.body.Bytes())
}

// AuditPage is the body of GET /v1/audit: entries oldest first, as the
// log holds them; with More, ask again with after=NextAfter.
type AuditPage struct {
	Entries   []json.RawMessage `json:"entries"`
	More      bool              `json:"more"`
	NextAfter uint64            `json:"next_after,omitempty"`
}

// Bounds of GET /v1/audit's limit.
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

func (s *Server) auditRoutes() {
	s.mux.HandleFunc("GET /v1/audit", s.listAudit)
}

// listAudit serves GET /v1/audit?since=&after=&limit=: since is an RFC 3339
// time or a duration back from now ("24h"), after a seq (the previous
// page's next_after), limit 1..1000 [100].
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	if s.opts.Audit == nil {
		unwired(w, "audit entries")
		return
	}
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := parseSince(v, time.Now())
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
		since = t
	}
	var after uint64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "after must be an entry's seq (a decimal number)")
			return
		}
		after = n
	}
	limit := defaultAuditLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditLimit {
			writeError(w, http.StatusBadRequest, "bad_request", "limit must be from 1 to "+strconv.Itoa(maxAuditLimit))
			return
		}
		limit = n
	}
	recs, more, err := s.opts.Audit.Read(after, since, limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "audit_unreadable", err.Error())
		return
	}
	page := AuditPage{Entries: make([]json.RawMessage, len(recs)), More: more}
	for i, rec := range recs {
		page.Entries[i] = rec
	}
	if n := len(recs); n > 0 {
		var last struct {
			Seq uint64 `json:"seq"`
		}
		if json.Unmarshal(recs[n-1], &last) == nil {
			page.NextAfter = last.Seq
		}
	}
	writeJSON(w, http.StatusOK, &page)
}

// parseSince reads since: an RFC 3339 time, or a duration before now.
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, errors.New(`since must be an RFC 3339 time ("2026-12-07T10:00:00Z") or a duration back from now ("24h")`)
}
