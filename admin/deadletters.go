package admin

import (
	"net/http"
	"strconv"
	"time"
)

// DeadLetter is one entry of GET /v1/dead-letters: an MO or receipt an
// upstream sent that no one can ever take (no MO route or user, a receipt
// for an id that is not ours), answered ESME_ROK so the upstream does not
// resend it forever, and kept for the operator.
type DeadLetter struct {
	Key       string    `json:"key"`  // names it for retry and purge: its arrival, Unix ns
	Kind      string    `json:"kind"` // mo, receipt, callback
	Connector int32     `json:"connector"`
	SystemID  string    `json:"system_id,omitempty"`
	ID        string    `json:"id,omitempty"` // our message id, when the receipt named one
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
	Body      string    `json:"body_hex,omitempty"` // the deliver_sm body (after the header), hex
}

// DeadLetterList is the body of GET /v1/dead-letters.
type DeadLetterList struct {
	Total       int          `json:"total"` // letters kept (the list shows at most limit)
	DeadLetters []DeadLetter `json:"dead_letters"`
}

// DeadLetterSource lists the store's dead letters, newest first, at most
// max of them, with how many are kept in all (cmd/smppd adapts the
// store's storage.DeadLetters).
type DeadLetterSource func(max int) (list []DeadLetter, total int, err error)

// Limits of ?limit= on GET /v1/dead-letters.
const (
	defaultDeadLetters = 100
	maxDeadLetters     = 10000
)

func (s *Server) deadLetterRoutes() {
	s.mux.HandleFunc("GET /v1/dead-letters", s.listDeadLetters)
}

// listDeadLetters answers the newest letters first, ?limit= of them
// (default 100, at most 10000).
func (s *Server) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	src := s.opts.DeadLetters
	if src == nil {
		unwired(w, "dead letters")
		return
	}
	limit := defaultDeadLetters
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeadLetters {
			writeError(w, http.StatusBadRequest, "bad_request", "limit must be 1.."+strconv.Itoa(maxDeadLetters))
			return
		}
		limit = n
	}
	list, total, err := src(limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "storage", err.Error())
		return
	}
	if list == nil {
		list = []DeadLetter{}
	}
	writeJSON(w, http.StatusOK, &DeadLetterList{Total: total, DeadLetters: list})
}
