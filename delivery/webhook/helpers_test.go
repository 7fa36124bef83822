package webhook

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// hit is one request a receiver got.
type hit struct {
	method string
	path   string
	query  string
	body   []byte
	sig    string
	form   url.Values // the parameters, from the body (POST) or the query (GET)
	at     time.Time
}

// receiver is a real HTTP server on the loopback: answer decides each
// response from the request's number (1-based) and may block.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	hits   []hit
	got    chan hit
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{got: make(chan hit, 100000), answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body)) // answer may read it again
	h := hit{method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery, body: body,
		sig: r.Header.Get(SignatureHeader), at: time.Now()}
	if r.Method == http.MethodPost {
		h.form, _ = url.ParseQuery(string(body))
	} else {
		h.form = r.URL.Query()
	}
	rc.mu.Lock()
	rc.hits = append(rc.hits, h)
	n := len(rc.hits)
	rc.mu.Unlock()
	if rc.answer != nil {
		rc.answer(n, w, r)
	}
	rc.got <- h
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.hits)
}

// url is the receiver's address with path p.
func (rc *receiver) url(p string) string { return rc.srv.URL + p }

// wait returns the next request, failing the test after d.
func (rc *receiver) wait(t *testing.T, d time.Duration) hit {
	t.Helper()
	select {
	case h := <-rc.got:
		return h
	case <-time.After(d):
		t.Fatalf("no request within %v (%d so far)", d, rc.count())
		return hit{}
	}
}

// status answers every request with code and body.
func status(code int, body string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// fixture is a service on a memory store.
type fixture struct {
	s     *Service
	store storage.Store
}

// fastOptions retry quickly so the tests stay short.
func fastOptions(st storage.Store) Options {
	return Options{Holds: st.Holds(), DeadLetters: st.DeadLetters(), Callbacks: st.Callbacks(), UpstreamIDs: st,
		Timeout: 2 * time.Second, RetryMin: 20 * time.Millisecond, RetryMax: 80 * time.Millisecond,
		HoldLifetime: time.Minute, Logger: zerolog.Nop()}
}

func newFixture(t *testing.T, tweak func(*Options)) *fixture {
	t.Helper()
	st := memory.New(memory.Options{})
	o := fastOptions(st)
	if tweak != nil {
		tweak(&o)
	}
	return start(t, st, o)
}

func start(t *testing.T, st storage.Store, o Options) *fixture {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(s) })
	return &fixture{s: s, store: st}
}

func stop(s *Service) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Stop(ctx)
}

// eventually polls cond every few ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// deadLetters lists the store's dead letters, newest first.
func deadLetters(t *testing.T, st storage.Store) []storage.DeadLetter {
	t.Helper()
	var out []storage.DeadLetter
	if err := st.DeadLetters().List(0, func(d *storage.DeadLetter) {
		c := *d
		c.Body = append([]byte(nil), d.Body...)
		out = append(out, c)
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// req is a POST receipt-kind request to u with one parameter n.
func req(u, n string) *Request {
	return &Request{Kind: KindReceipt, Method: storage.CallbackPOST, URL: u, SystemID: "alice",
		Params: []byte(url.Values{"n": {n}}.Encode())}
}
