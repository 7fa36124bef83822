package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// RunHTTP against a stand-in API: /send answers Success, a batch reports
// one refusal per request; the counts follow.
func TestRunHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /send", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("username") != "u" || r.URL.Query().Get("to") != "33" {
			http.Error(w, `Error "bad"`, 400)
			return
		}
		_, _ = io.WriteString(w, `Success "0123456789abcdef"`)
	})
	mux.HandleFunc("POST /v1/messages", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "p" || strings.Count(string(b), `"to":"33"`) != 10 {
			http.Error(w, "{}", 400)
			return
		}
		_, _ = io.WriteString(w, `{"accepted":9,`)
		w.(http.Flusher).Flush() // a chunked answer
		_, _ = io.WriteString(w, `"refused":1,"messages":[]}`)
	})
	mux.HandleFunc("POST /v1/mo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/json" ||
			!strings.Contains(string(b), `"source_addr":"33"`) {
			http.Error(w, "{}", 400)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"accepted"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// A request counts when it starts after the warm-up: the measured
	// second is long enough that a loaded machine's slow first round
	// trips (started in the warm-up, answered past a short window) cannot
	// leave it empty.
	for _, tc := range []struct {
		mode    HTTPMode
		perReq  uint64
		refused uint64
	}{{HTTPSend, 1, 0}, {HTTPBatch, 9, 1}, {HTTPMO, 1, 0}} {
		r, err := RunHTTP(context.Background(), HTTPConfig{URL: srv.URL, User: "u", Password: "p", Token: "tok", Mode: tc.mode, Clients: 4,
			Batch: 10, Duration: time.Second, Warmup: 50 * time.Millisecond, Dest: "33", Text: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Requests == 0 || r.Messages != r.Requests*tc.perReq || r.Refused != r.Requests*tc.refused || r.Errors != 0 ||
			r.MessageRate <= 0 || r.Latency.Count != int64(r.Requests) {
			t.Errorf("%s: %+v", tc.mode, r)
		}
	}
	// Count ends the run before its duration, within one request a client.
	r, err := RunHTTP(context.Background(), HTTPConfig{URL: srv.URL, Token: "tok", Mode: HTTPMO, Clients: 4, Count: 50,
		Duration: time.Minute, Dest: "33", Text: "x"})
	if err != nil || r.Requests < 50 || r.Requests > 53 || r.Messages != r.Requests || r.Elapsed > 30 {
		t.Errorf("count 50: %+v, %v", r, err)
	}
	if _, err := RunHTTP(context.Background(), HTTPConfig{URL: "http://127.0.0.1:1", Clients: 1, Duration: 100 * time.Millisecond}); err == nil {
		t.Error("a run where no request succeeded reported no error")
	}
}
