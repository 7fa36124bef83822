package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/smppd/smppd/msg"
)

// The guards every request passes and the two answer shapes: Jasmin's
// text/plain `Success "<id>"` / `Error "<reason>"` (its JSON bodies for
// /balance and /rate), and the JSON API's {"error": {...}}.

// allow wraps h so that only the listed methods reach it: any other gets
// 405 with Allow (RFC 9110 §15.5.6). HEAD is not served. Every request
// is counted.
func (s *Server) allow(h http.HandlerFunc, methods ...string) http.HandlerFunc {
	allowHdr := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		s.stats.requests.Add(1)
		for _, m := range methods {
			if r.Method == m {
				h(w, r)
				return
			}
		}
		s.stats.method.Add(1)
		w.Header().Set("Allow", allowHdr)
		if isJSONPath(r.URL.Path) {
			writeError(w, http.StatusMethodNotAllowed, &apiError{Code: "method_not_allowed",
				Message: r.Method + " is not allowed here (allowed: " + allowHdr + ")"})
			return
		}
		jasminError(w, http.StatusMethodNotAllowed, "Method "+clip(r.Method)+" not allowed")
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	if isJSONPath(r.URL.Path) {
		writeError(w, http.StatusNotFound, &apiError{Code: "not_found", Message: "no such endpoint"})
		return
	}
	jasminError(w, http.StatusNotFound, "Not found")
}

func isJSONPath(p string) bool { return strings.HasPrefix(p, "/v1/") }

// Body kinds a request may carry.
type bodyKind uint8

const (
	bodyNone bodyKind = iota
	bodyForm
	bodyJSON
)

// kindOf reads Content-Type: a form, JSON, or nothing (no body, or a GET).
// ok is false for any other type, which the caller answers 415.
func kindOf(r *http.Request) (bodyKind, bool) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return bodyNone, r.ContentLength <= 0
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return bodyNone, false
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		return bodyForm, true
	case "application/json":
		return bodyJSON, true
	}
	return bodyNone, false
}

// errTooLarge is readBody's error for a body above max_body.
var errTooLarge = errors.New("body too large")

// readBody reads the whole body, at most max octets (errTooLarge beyond).
// A body that stops early (the read deadline, a reset) is an error.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	return b, err
}

// Header values set on every answer, shared (net/http only reads them):
// assigning them needs neither canonicalisation nor a slice per answer.
var (
	hdrText    = []string{"text/plain; charset=utf-8"}
	hdrJSON    = []string{"application/json"}
	hdrNoSniff = []string{"nosniff"}
	// hdrSuccessLen is the length of `Success "<16 hex digits>"`.
	hdrSuccessLen = []string{strconv.Itoa(len(`Success ""`) + msg.HexLen)}
)

// jasminError answers Jasmin's text/plain `Error "<reason>"`.
func jasminError(w http.ResponseWriter, status int, reason string) {
	h := w.Header()
	h["Content-Type"], h["X-Content-Type-Options"] = hdrText, hdrNoSniff
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `Error "`+reason+`"`)
}

// successBuf holds a `Success "<id>"` answer; id is 16 hex digits.
type successBuf [len(`Success ""`) + msg.HexLen]byte

// jasminSuccess answers `Success "<id>"`, written into b (the request's
// pooled state: a local array would escape to the heap through Write).
// Its Content-Length is set: flushed before the handler returns (to hand
// the message over after it), it still goes whole, not chunked.
func jasminSuccess(w http.ResponseWriter, id msg.ID, b *successBuf) {
	h := w.Header()
	h["Content-Type"], h["X-Content-Type-Options"], h["Content-Length"] = hdrText, hdrNoSniff, hdrSuccessLen
	w.WriteHeader(http.StatusOK)
	out := append(b[:0], `Success "`...)
	out = id.AppendHex(out)
	_, _ = w.Write(append(out, '"'))
}

// jasminJSON answers /balance and /rate: v as JSON (a refusal's reason is a
// JSON string, as Jasmin answers it).
func jasminJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`"System error"`)
	}
	h := w.Header()
	h["Content-Type"], h["X-Content-Type-Options"] = hdrJSON, hdrNoSniff
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// apiError is the JSON API's error object. SMPPStatus carries the SMPP
// command_status the same refusal answers over SMPP, when there is one.
type apiError struct {
	Code           string `json:"code"`
	Message        string `json:"message"`
	SMPPStatus     string `json:"smpp_status,omitempty"`
	SMPPStatusCode uint32 `json:"smpp_status_code,omitempty"`
}

// writeError answers {"error": e} with status.
func writeError(w http.ResponseWriter, status int, e *apiError) {
	writeJSON(w, status, struct {
		Error *apiError `json:"error"`
	}{e})
}

// retryAfterSeconds is the Retry-After of a throttled or full answer: a
// token bucket refills within a second, a connector queue drains in less.
const retryAfterSeconds = 1

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"encoding the answer failed"}}`)
	}
	writeRaw(w, status, b)
}

// writeRaw writes a JSON answer; 429 and 503 say when to retry.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	h.Set("Content-Length", strconv.Itoa(len(b))) // a batch's answer goes whole, not chunked
	h["Content-Type"], h["X-Content-Type-Options"] = hdrJSON, hdrNoSniff
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// maxLogField bounds a request-supplied value in an answer or a log line.
const maxLogField = 64

func clip(s string) string {
	if len(s) > maxLogField {
		s = s[:maxLogField]
	}
	// An answer quotes it: no quote, backslash or control character.
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}
