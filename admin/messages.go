package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/smppd/smppd/msg"
)

// MessageLookup answers the operator's message lookups and erasures
// across all users (package cdr's Lookup, wired by cmd/smppd). Each
// message is one JSON object in the CDR line's shape (docs/CDR.md);
// systemID "" means every user's.
type MessageLookup interface {
	// Message returns id's object; found is false when the store has no
	// record of it.
	Message(id msg.ID, systemID string) (obj []byte, found bool, err error)
	// Find returns up to limit objects of the messages to number
	// submitted at or after since (Unix ns, 0 = any), with ids below
	// before (0 = from the newest), newest first; next is the following
	// page's cursor, 0 when there is none.
	Find(number []byte, systemID string, since int64, before msg.ID, limit int) (objs [][]byte, next msg.ID, err error)
	// Erase deletes every record to or from number and starts erasing
	// its CDR lines (lines: false without CDRs). An error with a Busy
	// method reporting true means an erasure is already running.
	Erase(number []byte) (records int, lines bool, err error)
	// EraseStatus is the latest erasure of CDR lines as a JSON object,
	// nil without CDRs.
	EraseStatus() []byte
}

// Limits of GET /v1/messages.
const (
	defaultFind = 50
	maxFind     = 1000
)

// number is what ?to= and an erasure's "number" accept: an MSISDN, as
// Jasmin's HTTP API checks "to", at most 20 digits (SMPP 3.4 §5.2.9).
var number = regexp.MustCompile(`^\+?[0-9]{1,20}$`)

// MessagePage is the body of GET /v1/messages?to=.
type MessagePage struct {
	Messages []json.RawMessage `json:"messages"`
	// Next is the cursor of the following page (?cursor=), absent on
	// the last one.
	Next string `json:"next,omitempty"`
}

// EraseRequest is the body of POST /v1/messages/erase.
type EraseRequest struct {
	Number string `json:"number"`
}

// EraseResponse answers POST /v1/messages/erase: the store's records are
// gone when it is sent; the CDR lines' erasure runs on (GET
// /v1/messages/erase).
type EraseResponse struct {
	Number  string `json:"number"`
	Records int    `json:"records_erased"`
	// CDRLines is "erasing" (follow GET /v1/messages/erase) or "off" (no
	// CDR stream).
	CDRLines string `json:"cdr_lines"`
}

func (s *Server) messageRoutes() {
	s.mux.HandleFunc("GET /v1/messages/{id}", s.getMessage)
	s.mux.HandleFunc("GET /v1/messages", s.findMessages)
	s.mux.HandleFunc("POST /v1/messages/erase", s.eraseNumber)
	s.mux.HandleFunc("GET /v1/messages/erase", s.eraseStatus)
}

// getMessage answers one message by id (16 hex digits, or decimal as a
// receipt may quote it).
func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	l := s.opts.Messages
	if l == nil {
		unwired(w, "message lookups")
		return
	}
	raw := []byte(r.PathValue("id"))
	id, err := msg.ParseID(raw)
	if err != nil {
		if id, err = msg.ParseDecimalID(raw); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "the id is not a message id (16 hex digits, or its decimal form)")
			return
		}
	}
	obj, found, err := l.Message(id, "")
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, "store_error", err.Error())
	case !found:
		writeError(w, http.StatusNotFound, "not_found", "no message "+id.String()+" (never accepted, or past its lifetime)")
	default:
		writeJSON(w, http.StatusOK, json.RawMessage(obj))
	}
}

// findMessages answers ?to=MSISDN[&since=][&limit=][&cursor=]: the
// messages to the number, newest first, a page at a time. since is an
// RFC 3339 time or a duration back from now ("24h").
func (s *Server) findMessages(w http.ResponseWriter, r *http.Request) {
	l := s.opts.Messages
	if l == nil {
		unwired(w, "message lookups")
		return
	}
	q := r.URL.Query()
	to := q.Get("to")
	if !number.MatchString(to) {
		writeError(w, http.StatusBadRequest, "bad_request", "to must be a number: an optional + and 1..20 digits")
		return
	}
	limit := defaultFind
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxFind {
			writeError(w, http.StatusBadRequest, "bad_request", "limit must be 1.."+strconv.Itoa(maxFind))
			return
		}
		limit = n
	}
	var since int64
	if v := q.Get("since"); v != "" {
		t, err := parseSince(v, time.Now())
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
		since = t.UnixNano()
	}
	var before msg.ID
	if v := q.Get("cursor"); v != "" {
		id, err := msg.ParseID([]byte(v))
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "cursor must be the next value of the previous page")
			return
		}
		before = id
	}
	objs, next, err := l.Find([]byte(to), "", since, before, limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "store_error", err.Error())
		return
	}
	page := MessagePage{Messages: make([]json.RawMessage, len(objs))}
	for i, o := range objs {
		page.Messages[i] = o
	}
	if next != 0 {
		page.Next = next.String()
	}
	writeJSON(w, http.StatusOK, &page)
}

// eraseNumber deletes a number's records and starts erasing its CDR lines
// (docs/OPERATIONS.md, "Erasing a number"). 202: the lines go on in the
// background.
func (s *Server) eraseNumber(w http.ResponseWriter, r *http.Request) {
	l := s.opts.Messages
	if l == nil {
		unwired(w, "message lookups")
		return
	}
	var req EraseRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if !number.MatchString(req.Number) {
		writeError(w, http.StatusBadRequest, "bad_request", "number must be an optional + and 1..20 digits")
		return
	}
	records, lines, err := l.Erase([]byte(req.Number))
	if err != nil && records == 0 && !lines {
		status, code := http.StatusInternalServerError, "erase_failed"
		if busy := (interface{ Busy() bool })(nil); errors.As(err, &busy) && busy.Busy() {
			status, code = http.StatusConflict, "busy"
		}
		writeError(w, status, code, err.Error())
		return
	}
	masked := s.logNumber(req.Number)
	resp := EraseResponse{Number: masked, Records: records, CDRLines: "off"}
	if lines {
		resp.CDRLines = "erasing"
	}
	ev := s.opts.Logger.Info()
	if err != nil {
		ev = s.opts.Logger.Error().Err(err)
	}
	ev.Str("event", "number_erased").Str("number", masked).Int("records", records).Bool("cdr_lines", lines).
		Msg("records of a number erased")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "erase_failed",
			strconv.Itoa(records)+" records erased, then: "+err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, &resp)
}

// eraseStatus answers the latest erasure of CDR lines.
func (s *Server) eraseStatus(w http.ResponseWriter, _ *http.Request) {
	l := s.opts.Messages
	if l == nil {
		unwired(w, "message lookups")
		return
	}
	st := l.EraseStatus()
	if st == nil {
		writeError(w, http.StatusNotFound, "not_found", "no CDR stream: [cdr] is off")
		return
	}
	writeJSON(w, http.StatusOK, json.RawMessage(st))
}

// logNumber is a number as the logs show it: masked with LogPrivacy.
func (s *Server) logNumber(n string) string {
	if !s.opts.LogPrivacy {
		return n
	}
	return string(msg.MaskAddr(nil, []byte(n)))
}
