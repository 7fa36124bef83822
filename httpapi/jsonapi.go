package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// The JSON API: POST /v1/messages takes one message (a JSON object of
// /send's parameters, without username and password) or a batch
// ({"messages": [...]}, up to MaxBatch); GET /v1/messages/{id} and GET
// /v1/messages?to= look the user's own messages up in the store.

// jsonFields are the members of a message object: /send's parameters
// without the credentials (dlr is filled by its defaults).
var jsonFields = func() fieldSet {
	var fs fieldSet
	for _, f := range sendFields {
		switch f.p {
		case pUsername, pPassword:
			continue
		case pDLR:
			f.required = false
		}
		fs = append(fs, f)
	}
	return fs
}()

// messages routes /v1/messages by method.
func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		s.post(w, r)
		return
	}
	s.find(w, r)
}

// authJSON authenticates a JSON API request; false: the answer is written.
func (s *Server) authJSON(w http.ResponseWriter, r *http.Request) (*accounts.User, bool) {
	u, name, err := s.loginJSON(r)
	if err == nil {
		return u, true
	}
	if errors.Is(err, errNoCredentials) {
		challenge(w)
		writeError(w, http.StatusUnauthorized, &apiError{Code: "unauthorized",
			Message: "credentials required: HTTP basic auth (system_id and password) or the API key (Authorization: Bearer, X-API-Key)"})
		return nil, false
	}
	f := authFailure(err, name)
	if f.json == http.StatusUnauthorized {
		challenge(w)
	}
	writeError(w, f.json, f.apiError())
	return nil, false
}

// result is what became of one message of a POST: accepted with its
// parts' ids, or refused with an error. Its answer is the body of a single
// message's success, and one item of a batch's "messages":
// {"index": i, "status": 200, "id": "<last part's id>", "parts": [ids]}
// or {"index": i, "status": 4xx, "error": {...}}.
type result struct {
	written uint64   // the store's position after the message (Hub.WaitDurable)
	status  int      // the HTTP status of the message alone
	ids     []msg.ID // every part's id, the last the message's; a view of one's buffer
	err     *apiError
}

// post is POST /v1/messages.
func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	if kind, ok := kindOf(r); !ok || kind != bodyJSON {
		s.stats.ctype.Add(1)
		writeError(w, http.StatusUnsupportedMediaType, &apiError{Code: "unsupported_media_type",
			Message: "Content-Type must be application/json"})
		return
	}
	body, err := readBody(w, r, s.o.MaxBody)
	switch {
	case err == errTooLarge:
		s.stats.large.Add(1)
		writeError(w, http.StatusRequestEntityTooLarge, &apiError{Code: "too_large",
			Message: "the body is larger than max_body (" + strconv.FormatInt(s.o.MaxBody, 10) + " octets)"})
		return
	case err != nil:
		s.stats.bad.Add(1)
		writeError(w, http.StatusBadRequest, &apiError{Code: "invalid_request", Message: "the body could not be read"})
		return
	}
	u, ok := s.authJSON(w, r)
	if !ok {
		return
	}
	if !u.May(accounts.RightHTTPSend) {
		writeError(w, http.StatusForbidden, notAuthorized(u, "Cannot send MT messages").apiError())
		return
	}
	hold := holdPool.Get().(*flow.DirectHold)
	answered := false
	defer func() { s.release(w, hold, answered) }() // after the answer is written, even on a panic
	if key := r.Header.Get("Idempotency-Key"); key != "" && s.idem != nil {
		if len(key) > maxIdemKey || !msg.PrintableNoSpace(key) {
			s.stats.bad.Add(1)
			writeError(w, http.StatusBadRequest, &apiError{Code: "invalid_request",
				Message: "Idempotency-Key must be 1..255 printable characters without spaces"})
			return
		}
		k := idemKey{user: u.SystemID, key: key}
		switch state, status, kept := s.idem.begin(k, sha256.Sum256(body), now); state {
		case idemReplay:
			s.stats.replays.Add(1)
			w.Header().Set("Idempotent-Replayed", "true")
			writeRaw(w, status, kept)
			return
		case idemPending:
			writeError(w, http.StatusConflict, &apiError{Code: "idempotency_conflict",
				Message: "a request with this Idempotency-Key is still being answered"})
			return
		case idemMismatch:
			writeError(w, http.StatusUnprocessableEntity, &apiError{Code: "idempotency_mismatch",
				Message: "this Idempotency-Key was used with another request body"})
			return
		}
		status, answer := http.StatusInternalServerError, []byte(nil)
		defer func() { s.idem.finish(k, status, answer) }() // a panic frees the key (a 500 is not kept)
		status, answer = s.postMessages(u, body, hold, now)
		writeRaw(w, status, answer)
		answered = status == http.StatusOK
		return
	}
	status, answer := s.postMessages(u, body, hold, now)
	writeRaw(w, status, answer)
	answered = status == http.StatusOK
}

// postMessages decides a POST /v1/messages body and returns the answer;
// the accepted messages wait in hold (200: every one durable).
func (s *Server) postMessages(u *accounts.User, body []byte, hold *flow.DirectHold, now time.Time) (int, []byte) {
	items, isBatch, err := batchItems(body)
	if err != nil {
		s.stats.bad.Add(1)
		msg := "invalid JSON body"
		if errors.Is(err, errEnvelope) {
			msg = errEnvelope.Error()[len("httpapi: "):]
		}
		return errorAnswer(http.StatusBadRequest, &apiError{Code: "invalid_request", Message: msg})
	}
	var idBuf [DefaultMaxParts]msg.ID
	if !isBatch {
		res := s.one(u, body, hold, now, idBuf[:0])
		if res.err != nil {
			return errorAnswer(res.status, res.err)
		}
		if err := s.o.Hub.WaitDurable(res.written); err != nil {
			s.warn("commit", err)
			return errorAnswer(http.StatusServiceUnavailable, &apiError{Code: "unavailable",
				Message: "the message store failed to write the message: retry later"})
		}
		return http.StatusOK, res.appendJSON(make([]byte, 0, 128), -1)
	}
	if n := len(items); n == 0 || n > MaxBatch {
		s.stats.bad.Add(1)
		return errorAnswer(http.StatusBadRequest, &apiError{Code: "invalid_request",
			Message: "a batch holds 1 to " + strconv.Itoa(MaxBatch) + " messages, got " + strconv.Itoa(n)})
	}
	var accepted, refused int
	var written uint64
	answer := make([]byte, 0, 80*len(items)+64)
	answer = append(answer, `{"accepted":`...)
	mark := len(answer)
	answer = append(answer, `000000,"refused":000000,"messages":[`...) // the counts are patched in below
	ids := idBuf[:0]
	for i, raw := range items {
		res := s.one(u, raw, hold, now, ids)
		if res.err != nil {
			refused++
		} else {
			accepted++
		}
		written = max(written, res.written)
		if i > 0 {
			answer = append(answer, ',')
		}
		answer = res.appendJSON(answer, i)
		ids = res.ids[:0] // the next message's ids reuse the buffer
	}
	answer = append(answer, "]}"...)
	head := strconv.AppendInt(nil, int64(accepted), 10)
	head = append(head, `,"refused":`...)
	head = strconv.AppendInt(head, int64(refused), 10)
	answer = append(answer[:mark], append(head, answer[mark+len(`000000,"refused":000000`):]...)...)
	if accepted > 0 {
		if err := s.o.Hub.WaitDurable(written); err != nil {
			s.warn("commit", err)
			return errorAnswer(http.StatusServiceUnavailable, &apiError{Code: "unavailable",
				Message: "the message store failed to write the messages: retry later"})
		}
	}
	return http.StatusOK, answer
}

// appendJSON appends r's answer, with "index" when index >= 0, as
// encoding/json would write it (by hand: a batch's thousand answers cost
// as much as their parsing through reflection, and ids as strings one
// allocation each). An id is hex digits: it needs no escaping.
func (r *result) appendJSON(b []byte, index int) []byte {
	b = append(b, '{')
	if index >= 0 {
		b = append(b, `"index":`...)
		b = strconv.AppendInt(b, int64(index), 10)
		b = append(b, ',')
	}
	b = append(b, `"status":`...)
	b = strconv.AppendInt(b, int64(r.status), 10)
	if len(r.ids) > 0 {
		b = append(b, `,"id":"`...)
		b = append(r.ids[len(r.ids)-1].AppendHex(b), `","parts":[`...)
		for i, id := range r.ids {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(id.AppendHex(append(b, '"')), '"')
		}
		b = append(b, ']')
	}
	if e := r.err; e != nil {
		b = append(b, `,"error":{"code":`...)
		b = appendJSONString(b, e.Code)
		b = append(b, `,"message":`...)
		b = appendJSONString(b, e.Message)
		if e.SMPPStatus != "" {
			b = append(b, `,"smpp_status":`...)
			b = appendJSONString(b, e.SMPPStatus)
		}
		if e.SMPPStatusCode != 0 {
			b = append(b, `,"smpp_status_code":`...)
			b = strconv.AppendUint(b, uint64(e.SMPPStatusCode), 10)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 as U+FFFD, as encoding/json
// writes it (but for its HTML escapes, which an API answer does not need).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// one decides one message object; an accepted one's part ids are copied
// into ids (reused: valid until the next call with the same buffer).
func (s *Server) one(u *accounts.User, raw []byte, hold *flow.DirectHold, now time.Time, ids []msg.ID) result {
	o1 := getOne()
	defer o1.release()
	p := &o1.p
	if f := p.fromJSON(raw); f != nil {
		s.stats.bad.Add(1)
		return result{status: f.json, err: f.apiError()}
	}
	if p.n == 0 {
		s.stats.bad.Add(1)
		return result{status: http.StatusBadRequest, err: &apiError{Code: "invalid_request", Message: "a message needs at least to and content"}}
	}
	p.sendDefaults()
	if f := p.check(jsonFields); f != nil {
		s.stats.bad.Add(1)
		return result{status: f.json, err: f.apiError()}
	}
	if f := s.build(u, p, &o1.m, now); f != nil {
		s.stats.refused.Add(1)
		return result{status: f.json, err: f.apiError()}
	}
	o := s.submit(u, o1, hold, now)
	if o.fail != nil {
		return result{status: o.fail.json, err: o.fail.apiError()}
	}
	return result{status: http.StatusOK, ids: append(ids, o.ids...), written: o.written}
}

func errorAnswer(status int, e *apiError) (int, []byte) {
	return jsonAnswer(status, struct {
		Error *apiError `json:"error"`
	}{e})
}

func jsonAnswer(status int, v any) (int, []byte) {
	b, err := json.Marshal(v)
	if err != nil {
		return http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"encoding the answer failed"}}`)
	}
	return status, b
}

// view is a message as GET /v1/messages shows it (its storage Record).
type view struct {
	ID         string  `json:"id"`
	State      string  `json:"state"`
	Submitted  string  `json:"submitted"`
	Done       *string `json:"done"`
	From       string  `json:"from"`
	To         string  `json:"to"`
	Parts      int     `json:"parts"`
	Route      string  `json:"route"`
	Connector  string  `json:"connector"`
	UpstreamID string  `json:"upstream_id,omitempty"`
	Error      uint16  `json:"error"`
	Charge     string  `json:"charge"`
	DLR        bool    `json:"dlr"`
}

func (s *Server) view(r *storage.Record) view {
	_, _, from := r.UpstreamSource() // as sent upstream, after the policy's rewrites
	_, _, to := r.UpstreamDest()
	v := view{ID: r.ID.String(), State: r.State.String(), Submitted: stamp(r.Submitted),
		From: string(from), To: string(to), Parts: int(r.Parts), Route: r.MTRoute,
		Connector: s.o.Hub.ConnectorName(int(r.Connector)), Error: r.Err,
		Charge: accounts.Micros(r.Charge).String(), DLR: r.RegisteredDelivery&3 != 0}
	if r.Done != 0 && r.State.Final() {
		d := stamp(r.Done)
		v.Done = &d
	}
	if s.o.Upstream != nil {
		if up, ok := s.o.Upstream.UpstreamOf(r.ID, nil); ok {
			v.UpstreamID = string(up)
		}
	}
	return v
}

func stamp(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// message is GET /v1/messages/{id}: the user's own message, 404 for any
// other (a user learns nothing of other users' ids).
func (s *Server) message(w http.ResponseWriter, r *http.Request) {
	u, ok := s.authJSON(w, r)
	if !ok {
		return
	}
	notFound := &apiError{Code: "not_found", Message: "no message " + clip(r.PathValue("id"))}
	id, err := msg.ParseID([]byte(r.PathValue("id")))
	if err != nil || s.o.Messages == nil {
		writeError(w, http.StatusNotFound, notFound)
		return
	}
	var rec storage.Record
	if err := s.o.Messages.Get(id, &rec); err != nil || rec.SystemID != u.SystemID {
		writeError(w, http.StatusNotFound, notFound)
		return
	}
	writeJSON(w, http.StatusOK, s.view(&rec))
}

// Page sizes of GET /v1/messages.
const (
	defaultPage = 100
	maxPage     = 1000
)

// find is GET /v1/messages?to=&since=&limit=&before=: the user's messages
// to a number, newest first, a page at a time (next is the before of the
// following page).
func (s *Server) find(w http.ResponseWriter, r *http.Request) {
	u, ok := s.authJSON(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	bad := func(msg string) {
		s.stats.bad.Add(1)
		writeError(w, http.StatusBadRequest, &apiError{Code: "invalid_request", Message: msg})
	}
	for k := range q {
		switch k {
		case "to", "since", "limit", "before":
		default:
			bad("unknown parameter " + clip(k))
			return
		}
	}
	to := q.Get("to")
	if !validTo(to) {
		bad("to must be a number (digits, one leading + allowed)")
		return
	}
	query := storage.Query{Addr: []byte(to), Fields: storage.MatchDest, SystemID: u.SystemID}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			bad("since must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
			return
		}
		query.Since = t.UnixNano()
	}
	limit := defaultPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			bad("limit must be 1.." + strconv.Itoa(maxPage))
			return
		}
		limit = n
	}
	if v := q.Get("before"); v != "" {
		id, err := msg.ParseID([]byte(v))
		if err != nil {
			bad("before must be a message id")
			return
		}
		query.Before = id
	}
	out := struct {
		Messages []view `json:"messages"`
		Next     string `json:"next,omitempty"`
	}{Messages: []view{}}
	if s.o.Messages != nil {
		recs := make([]storage.Record, limit)
		n, err := s.o.Messages.Find(&query, recs)
		if err != nil {
			s.warn("find", err)
			writeError(w, http.StatusServiceUnavailable, &apiError{Code: "unavailable", Message: "the message store cannot answer now"})
			return
		}
		for i := range recs[:n] {
			out.Messages = append(out.Messages, s.view(&recs[i]))
		}
		if n == limit {
			out.Next = recs[n-1].ID.String()
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// jsonNumber is a number written as given.
type jsonNumber string

func (n jsonNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }

// jsonAmount writes a limited balance as a JSON number of units.
func jsonAmount(a accounts.Amount) jsonNumber { return jsonNumber(a.String()) }

func decodeHex(s string) ([]byte, error) { return hex.DecodeString(s) }
