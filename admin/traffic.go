package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Traffic is what the stuck-traffic tools act on: held MO, receipts and
// HTTP callbacks, and dead letters (cmd/smppd adapts the store, the
// delivery service and the webhook sender). Every change goes through the
// audit log like any other write.
type Traffic interface {
	// Held lists up to max held items of kind ("" = all) for systemID
	// ("" = all), with how many match in all.
	Held(kind, systemID string, max int) (list []HeldItem, total int, err error)
	// HeldItem returns one item with its body; ErrTrafficNotFound.
	HeldItem(key uint64) (HeldItem, error)
	// RetryHeld offers an item again now; ErrTrafficNotFound,
	// ErrTrafficBusy when its deliverer holds it (leased).
	RetryHeld(key uint64) error
	// PurgeHeld drops an item for good; ErrTrafficNotFound,
	// ErrTrafficBusy when leased.
	PurgeHeld(key uint64) error
	// RetryDeadLetter delivers the letters named key again and removes
	// those that took; ErrTrafficNotFound, or why one could not be.
	RetryDeadLetter(key int64) (retried int, err error)
	// PurgeDeadLetter removes the letters named key; ErrTrafficNotFound.
	PurgeDeadLetter(key int64) (int, error)
	// PurgeQueue fails what waits in a connector's queue (refunded,
	// receipts) and returns how many; ErrTrafficNotFound.
	PurgeQueue(connector string) (int, error)
}

// Errors a Traffic returns for the API's statuses; any other is a 422
// with its text.
var (
	ErrTrafficNotFound    = errors.New("no such item")
	ErrTrafficBusy        = errors.New("being delivered now (leased): try again once its attempt ends")
	ErrTrafficUnsupported = errors.New("the store does not support this")
)

// HeldItem is one entry of GET /v1/held.
type HeldItem struct {
	Key      string    `json:"key"`
	Kind     string    `json:"kind"`            // mo, receipt, callback
	SystemID string    `json:"system_id"`       // the user it waits for; "" for callbacks and internal queues
	Queue    string    `json:"queue,omitempty"` // an internal queue: webhook, mo-parts, multi
	ID       string    `json:"id,omitempty"`    // the receipted message id
	Expires  time.Time `json:"expires"`
	Attempts int       `json:"attempts"`
	Leased   bool      `json:"leased"` // being delivered now
	Octets   int       `json:"octets"`
	Body     string    `json:"body_hex,omitempty"` // GET /v1/held/{key} only
}

// HeldList is the body of GET /v1/held.
type HeldList struct {
	Total int        `json:"total"`
	Held  []HeldItem `json:"held"`
}

// trafficResult is the body of a retry or purge.
type trafficResult struct {
	Key     string `json:"key"`
	Action  string `json:"action"`
	Letters int    `json:"letters,omitempty"`
}

func (s *Server) trafficRoutes() {
	s.mux.HandleFunc("GET /v1/held", s.listHeld)
	s.mux.HandleFunc("GET /v1/held/{key}", s.showHeld)
	s.mux.HandleFunc("POST /v1/held/{key}/retry", s.retryHeld)
	s.mux.HandleFunc("DELETE /v1/held/{key}", s.purgeHeld)
	s.mux.HandleFunc("POST /v1/dead-letters/{key}/retry", s.retryDeadLetter)
	s.mux.HandleFunc("DELETE /v1/dead-letters/{key}", s.purgeDeadLetter)
	s.mux.HandleFunc("GET /v1/queues", s.listQueues)
	s.mux.HandleFunc("POST /v1/queues/{name}/purge", s.purgeQueue)
}

// Queue is one entry of GET /v1/queues: a connector's MT waiting for it.
type Queue struct {
	Connector string `json:"connector"`
	Queued    int    `json:"queued"` // in its queue and held by it (sent, or waiting for an answer or a retry)
	Up        bool   `json:"up"`
	Stopped   bool   `json:"stopped"` // by an operator
}

func (s *Server) listQueues(w http.ResponseWriter, _ *http.Request) {
	if s.opts.Connectors == nil {
		unwired(w, "connectors")
		return
	}
	infos := s.opts.Connectors.Connectors()
	out := struct {
		Queues []Queue `json:"queues"`
	}{make([]Queue, len(infos))}
	for i, in := range infos {
		out.Queues[i] = Queue{Connector: in.Name, Queued: in.Stats.Queued, Up: in.Up, Stopped: in.Stopped}
	}
	writeJSON(w, http.StatusOK, &out)
}

// purgeQueue fails what waits in the connector's queue now; what it
// already holds stays (it may be accepted upstream).
func (s *Server) purgeQueue(w http.ResponseWriter, r *http.Request) {
	t := s.traffic(w)
	if t == nil {
		return
	}
	n, err := t.PurgeQueue(r.PathValue("name"))
	if err != nil {
		trafficError(w, err)
		return
	}
	s.opts.Logger.Info().Str("event", "queue_purge").Str("connector", r.PathValue("name")).Int("messages", n).Msg("operator traffic action")
	writeJSON(w, http.StatusOK, &struct {
		Connector string `json:"connector"`
		Action    string `json:"action"`
		Messages  int    `json:"messages"`
	}{r.PathValue("name"), "purged", n})
}

// listHeld answers ?kind= (mo, receipt, callback), ?system_id= and
// ?limit= (as GET /v1/dead-letters).
func (s *Server) listHeld(w http.ResponseWriter, r *http.Request) {
	t := s.traffic(w)
	if t == nil {
		return
	}
	q := r.URL.Query()
	kind := q.Get("kind")
	switch kind {
	case "", "mo", "receipt", "callback":
	default:
		writeError(w, http.StatusBadRequest, "bad_request", `kind must be "mo", "receipt" or "callback"`)
		return
	}
	limit := defaultDeadLetters
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeadLetters {
			writeError(w, http.StatusBadRequest, "bad_request", "limit must be 1.."+strconv.Itoa(maxDeadLetters))
			return
		}
		limit = n
	}
	list, total, err := t.Held(kind, q.Get("system_id"), limit)
	if err != nil {
		trafficError(w, err)
		return
	}
	if list == nil {
		list = []HeldItem{}
	}
	writeJSON(w, http.StatusOK, &HeldList{Total: total, Held: list})
}

func (s *Server) showHeld(w http.ResponseWriter, r *http.Request) {
	t, key := s.heldKey(w, r)
	if t == nil {
		return
	}
	it, err := t.HeldItem(key)
	if err != nil {
		trafficError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, &it)
}

func (s *Server) retryHeld(w http.ResponseWriter, r *http.Request) {
	t, key := s.heldKey(w, r)
	if t == nil {
		return
	}
	if err := t.RetryHeld(key); err != nil {
		trafficError(w, err)
		return
	}
	s.trafficLog("held_retry", r.PathValue("key"), 0)
	writeJSON(w, http.StatusOK, &trafficResult{Key: r.PathValue("key"), Action: "retried"})
}

func (s *Server) purgeHeld(w http.ResponseWriter, r *http.Request) {
	t, key := s.heldKey(w, r)
	if t == nil {
		return
	}
	if err := t.PurgeHeld(key); err != nil {
		trafficError(w, err)
		return
	}
	s.trafficLog("held_purge", r.PathValue("key"), 0)
	writeJSON(w, http.StatusOK, &trafficResult{Key: r.PathValue("key"), Action: "purged"})
}

func (s *Server) retryDeadLetter(w http.ResponseWriter, r *http.Request) {
	t, key := s.deadKey(w, r)
	if t == nil {
		return
	}
	n, err := t.RetryDeadLetter(key)
	if err != nil {
		trafficError(w, err)
		return
	}
	s.trafficLog("dead_letter_retry", r.PathValue("key"), n)
	writeJSON(w, http.StatusOK, &trafficResult{Key: r.PathValue("key"), Action: "retried", Letters: n})
}

func (s *Server) purgeDeadLetter(w http.ResponseWriter, r *http.Request) {
	t, key := s.deadKey(w, r)
	if t == nil {
		return
	}
	n, err := t.PurgeDeadLetter(key)
	if err != nil {
		trafficError(w, err)
		return
	}
	s.trafficLog("dead_letter_purge", r.PathValue("key"), n)
	writeJSON(w, http.StatusOK, &trafficResult{Key: r.PathValue("key"), Action: "purged", Letters: n})
}

// traffic returns the wired Traffic, or answers 503.
func (s *Server) traffic(w http.ResponseWriter) Traffic {
	if s.opts.Traffic == nil {
		unwired(w, "traffic tools")
	}
	return s.opts.Traffic
}

// heldKey parses {key} of a held item (a decimal HeldKey, never 0).
func (s *Server) heldKey(w http.ResponseWriter, r *http.Request) (Traffic, uint64) {
	t := s.traffic(w)
	if t == nil {
		return nil, 0
	}
	k, err := strconv.ParseUint(r.PathValue("key"), 10, 64)
	if err != nil || k == 0 {
		writeError(w, http.StatusBadRequest, "bad_request", "key must be a held item's key (GET /v1/held)")
		return nil, 0
	}
	return t, k
}

// deadKey parses {key} of a dead letter (its arrival, Unix ns).
func (s *Server) deadKey(w http.ResponseWriter, r *http.Request) (Traffic, int64) {
	t := s.traffic(w)
	if t == nil {
		return nil, 0
	}
	k, err := strconv.ParseInt(r.PathValue("key"), 10, 64)
	if err != nil || k <= 0 {
		writeError(w, http.StatusBadRequest, "bad_request", "key must be a dead letter's key (GET /v1/dead-letters)")
		return nil, 0
	}
	return t, k
}

func trafficError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrTrafficNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrTrafficBusy):
		writeError(w, http.StatusConflict, "busy", err.Error())
	case errors.Is(err, ErrTrafficUnsupported):
		writeError(w, http.StatusNotImplemented, "unsupported", err.Error())
	default:
		writeError(w, http.StatusUnprocessableEntity, "rejected", err.Error())
	}
}

// trafficLog logs an action beside its audit entry (which names the
// token).
func (s *Server) trafficLog(event, key string, letters int) {
	s.opts.Logger.Info().Str("event", event).Str("key", key).Int("letters", letters).Msg("operator traffic action")
}
