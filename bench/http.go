package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The HTTP API's load (smppbench -http): keep-alive clients sending Jasmin
// /send requests, or POST /v1/messages batches, as fast as the server
// answers (closed loop), for a duration after a warm-up. Every request is
// encoded once; each client is one goroutine with its own connection and
// histogram.

// HTTPMode is what the clients send.
type HTTPMode uint8

// HTTP modes.
const (
	HTTPSend  HTTPMode = iota // GET /send, one message a request
	HTTPBatch                 // POST /v1/messages, Batch messages a request
)

// String returns "send" or "batch".
func (m HTTPMode) String() string {
	if m == HTTPBatch {
		return "batch"
	}
	return "send"
}

// HTTPConfig is one HTTP run.
type HTTPConfig struct {
	URL      string // the API's base, http://127.0.0.1:1401
	User     string
	Password string
	Mode     HTTPMode
	Clients  int // concurrent keep-alive connections, ≥ 1
	Batch    int // messages per POST /v1/messages (HTTPBatch), 1..1000
	Duration time.Duration
	Warmup   time.Duration
	Dest     string // destination of every message
	Text     string // content of every message
}

// HTTPResult is a finished HTTP run; counts cover the measured phase.
type HTTPResult struct {
	Mode        string  `json:"mode"`
	Clients     int     `json:"clients"`
	Batch       int     `json:"batch,omitempty"`
	Elapsed     float64 `json:"elapsed_s"`
	Requests    uint64  `json:"requests"`
	Messages    uint64  `json:"messages"` // accepted
	Refused     uint64  `json:"refused"`  // messages refused (a non-200, or a batch item's refusal)
	Errors      uint64  `json:"errors"`   // transport errors
	MessageRate float64 `json:"messages_per_s"`
	RequestRate float64 `json:"requests_per_s"`
	Latency     Latency `json:"request_latency"`
}

// RunHTTP runs cfg until its duration ends or ctx is done.
func RunHTTP(ctx context.Context, cfg HTTPConfig) (*HTTPResult, error) {
	if cfg.Clients < 1 || cfg.Duration <= 0 {
		return nil, errors.New("bench: HTTP run needs clients >= 1 and a duration")
	}
	if cfg.Mode == HTTPBatch && (cfg.Batch < 1 || cfg.Batch > 1000) {
		return nil, errors.New("bench: a batch holds 1..1000 messages")
	}
	base := strings.TrimSuffix(cfg.URL, "/")
	tr := &http.Transport{
		MaxIdleConns: cfg.Clients, MaxIdleConnsPerHost: cfg.Clients, MaxConnsPerHost: cfg.Clients,
		DisableCompression: true, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var newReq func() (*http.Request, error)
	switch cfg.Mode {
	case HTTPSend:
		q := url.Values{"username": {cfg.User}, "password": {cfg.Password}, "to": {cfg.Dest}, "content": {cfg.Text}}
		u := base + "/send?" + q.Encode()
		newReq = func() (*http.Request, error) { return http.NewRequest(http.MethodGet, u, nil) }
	case HTTPBatch:
		var b bytes.Buffer
		b.WriteString(`{"messages":[`)
		item := `{"to":` + strconv.Quote(cfg.Dest) + `,"content":` + strconv.Quote(cfg.Text) + `}`
		for i := range cfg.Batch {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(item)
		}
		b.WriteString(`]}`)
		body := b.Bytes()
		u := base + "/v1/messages"
		newReq = func() (*http.Request, error) {
			r, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
			if err != nil {
				return nil, err
			}
			r.Header.Set("Content-Type", "application/json")
			r.SetBasicAuth(cfg.User, cfg.Password)
			return r, nil
		}
	}
	var measuring atomic.Bool
	var reqs, msgs, refused, errs atomic.Uint64
	start := time.Now()
	measureAt := start.Add(cfg.Warmup)
	end := measureAt.Add(cfg.Duration)
	hists := make([]latencyHist, cfg.Clients)
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	for i := range cfg.Clients {
		hists[i] = newLatencyHist()
		wg.Add(1)
		go func(h latencyHist) {
			defer wg.Done()
			buf := make([]byte, 0, 64<<10)
			for ctx.Err() == nil {
				now := time.Now()
				if !now.Before(end) {
					return
				}
				if !measuring.Load() && !now.Before(measureAt) {
					measuring.Store(true)
				}
				on := measuring.Load()
				req, err := newReq()
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				res, err := client.Do(req.WithContext(ctx))
				if err != nil {
					if on {
						errs.Add(1)
					}
					firstErr.CompareAndSwap(nil, &err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				buf, err = readAll(buf[:0], res.Body)
				res.Body.Close()
				took := time.Since(now)
				if !on {
					continue
				}
				reqs.Add(1)
				h.record(int64(took))
				ok, bad := countAnswer(cfg, res.StatusCode, buf, err)
				msgs.Add(ok)
				refused.Add(bad)
			}
		}(hists[i])
	}
	wg.Wait()
	elapsed := time.Since(measureAt)
	if p := firstErr.Load(); p != nil && reqs.Load() == 0 {
		return nil, fmt.Errorf("bench: no request succeeded: %w", *p)
	}
	all := newLatencyHist()
	for _, h := range hists {
		all.merge(h)
	}
	r := &HTTPResult{Mode: cfg.Mode.String(), Clients: cfg.Clients, Elapsed: elapsed.Seconds(),
		Requests: reqs.Load(), Messages: msgs.Load(), Refused: refused.Load(), Errors: errs.Load(), Latency: all.summary()}
	if cfg.Mode == HTTPBatch {
		r.Batch = cfg.Batch
	}
	if s := elapsed.Seconds(); s > 0 {
		r.MessageRate, r.RequestRate = float64(r.Messages)/s, float64(r.Requests)/s
	}
	return r, nil
}

// readAll appends the whole body to buf.
func readAll(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// countAnswer counts the messages an answer accepted and refused: /send's
// `Success "..."`, a batch's "accepted" and "refused" members.
func countAnswer(cfg HTTPConfig, status int, body []byte, err error) (ok, bad uint64) {
	if err != nil || status != http.StatusOK {
		if cfg.Mode == HTTPBatch {
			return 0, uint64(cfg.Batch)
		}
		return 0, 1
	}
	if cfg.Mode == HTTPSend {
		if bytes.HasPrefix(body, []byte(`Success "`)) {
			return 1, 0
		}
		return 0, 1
	}
	return jsonCount(body, `"accepted":`), jsonCount(body, `"refused":`)
}

// jsonCount reads the number after key in body (0 when absent).
func jsonCount(body []byte, key string) uint64 {
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return 0
	}
	var n uint64
	for _, c := range body[i+len(key):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}
