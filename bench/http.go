package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
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
// /send requests, POST /v1/messages batches, or the admin API's POST /v1/mo
// (an operator's MO injection), as fast as the server
// answers (closed loop), for a duration after a warm-up. Every request is
// encoded once; each client is one goroutine with its own connection and
// histogram, and speaks just enough HTTP/1.1 to read an answer.

// HTTPMode is what the clients send.
type HTTPMode uint8

// HTTP modes.
const (
	HTTPSend  HTTPMode = iota // GET /send, one message a request
	HTTPBatch                 // POST /v1/messages, Batch messages a request
	HTTPMO                    // the admin API's POST /v1/mo, one MO a request
)

// String returns "send", "batch" or "mo".
func (m HTTPMode) String() string {
	switch m {
	case HTTPBatch:
		return "batch"
	case HTTPMO:
		return "mo"
	}
	return "send"
}

// HTTPConfig is one HTTP run.
type HTTPConfig struct {
	URL      string // the API's base, http://127.0.0.1:1401 (HTTPMO: the admin API's, :8790)
	User     string
	Password string
	Token    string // HTTPMO: the admin API's bearer token ("" = none)
	Mode     HTTPMode
	Clients  int // concurrent keep-alive connections, ≥ 1
	Batch    int // messages per POST /v1/messages (HTTPBatch), 1..1000
	Duration time.Duration
	Count    uint64 // stop once this many requests are measured (0 = by Duration alone)
	Warmup   time.Duration
	Dest     string // destination of every message (HTTPMO: the MO's source_addr)
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

// RunHTTP runs cfg until its duration ends or ctx is done. Each client
// is a raw HTTP/1.1 keep-alive connection: the request's octets are
// encoded once and written as they are, the answer is read with its
// status line, Content-Length (or chunks) and body, and nothing else:
// net/http's client costs about as much CPU per request as the server
// it would measure.
func RunHTTP(ctx context.Context, cfg HTTPConfig) (*HTTPResult, error) {
	if cfg.Clients < 1 || cfg.Duration <= 0 {
		return nil, errors.New("bench: HTTP run needs clients >= 1 and a duration")
	}
	if cfg.Mode == HTTPBatch && (cfg.Batch < 1 || cfg.Batch > 1000) {
		return nil, errors.New("bench: a batch holds 1..1000 messages")
	}
	u, err := url.Parse(strings.TrimSuffix(cfg.URL, "/"))
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("bench: -http %q: want http://host:port", cfg.URL)
	}
	req := httpRequest(cfg, u)
	var measuring, counted atomic.Bool
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
			var c *httpConn
			defer func() {
				if c != nil {
					c.close()
				}
			}()
			for ctx.Err() == nil {
				now := time.Now()
				if !now.Before(end) || counted.Load() {
					return
				}
				if !measuring.Load() && !now.Before(measureAt) {
					measuring.Store(true)
				}
				on := measuring.Load()
				if c == nil {
					var err error
					if c, err = dialHTTP(u.Host); err != nil {
						firstErr.CompareAndSwap(nil, &err)
						if on {
							errs.Add(1)
						}
						time.Sleep(10 * time.Millisecond)
						continue
					}
				}
				status, body, err := c.roundTrip(req, end.Add(30*time.Second))
				took := time.Since(now)
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					c.close()
					c = nil
					if on {
						errs.Add(1)
					}
					continue
				}
				if !on {
					continue
				}
				if n := reqs.Add(1); cfg.Count > 0 && n >= cfg.Count {
					counted.Store(true) // every client stops at its next turn
				}
				h.record(int64(took))
				ok, bad := countAnswer(cfg, status, body, nil)
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

// httpRequest encodes cfg's request once: GET /send with the query,
// POST /v1/messages with the batch and basic auth, or POST /v1/mo with the
// MO (from Dest to User's short code, routed by the MO routes).
func httpRequest(cfg HTTPConfig, u *url.URL) []byte {
	var b bytes.Buffer
	switch cfg.Mode {
	case HTTPSend:
		q := url.Values{"username": {cfg.User}, "password": {cfg.Password}, "to": {cfg.Dest}, "content": {cfg.Text}}
		fmt.Fprintf(&b, "GET %s/send?%s HTTP/1.1\r\nHost: %s\r\n\r\n", u.Path, q.Encode(), u.Host)
	case HTTPBatch:
		var body bytes.Buffer
		body.WriteString(`{"messages":[`)
		item := `{"to":` + strconv.Quote(cfg.Dest) + `,"content":` + strconv.Quote(cfg.Text) + `}`
		for i := range cfg.Batch {
			if i > 0 {
				body.WriteByte(',')
			}
			body.WriteString(item)
		}
		body.WriteString(`]}`)
		auth := base64.StdEncoding.EncodeToString([]byte(cfg.User + ":" + cfg.Password))
		fmt.Fprintf(&b, "POST %s/v1/messages HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", u.Path, u.Host, auth, body.Len())
		b.Write(body.Bytes())
	case HTTPMO:
		body := `{"source_addr":` + strconv.Quote(cfg.Dest) + `,"destination_addr":"1234","short_message":` + strconv.Quote(cfg.Text) + `}`
		fmt.Fprintf(&b, "POST %s/v1/mo HTTP/1.1\r\nHost: %s\r\n", u.Path, u.Host)
		if cfg.Token != "" {
			fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", cfg.Token)
		}
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	return b.Bytes()
}

// httpConn is one keep-alive connection and its buffers.
type httpConn struct {
	c    net.Conn
	r    *bufio.Reader
	body []byte
}

func dialHTTP(addr string) (*httpConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &httpConn{c: c, r: bufio.NewReaderSize(c, 64<<10), body: make([]byte, 0, 64<<10)}, nil
}

func (c *httpConn) close() { _ = c.c.Close() }

var errHTTPAnswer = errors.New("bench: malformed HTTP answer")

// roundTrip writes req and reads the answer: its status and body (valid
// until the next call).
func (c *httpConn) roundTrip(req []byte, deadline time.Time) (int, []byte, error) {
	_ = c.c.SetDeadline(deadline)
	if _, err := c.c.Write(req); err != nil {
		return 0, nil, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, errHTTPAnswer
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, errHTTPAnswer
	}
	length, chunked, closing := -1, false, false
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, nil, errHTTPAnswer
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil {
				return 0, nil, errHTTPAnswer
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			closing = bytes.EqualFold(v, []byte("close"))
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		for {
			l, err := c.r.ReadSlice('\n')
			if err != nil {
				return 0, nil, err
			}
			n, err := strconv.ParseUint(string(bytes.TrimRight(l, "\r\n")), 16, 31)
			if err != nil {
				return 0, nil, errHTTPAnswer
			}
			if err := c.read(int(n) + 2); err != nil { // the chunk and its CRLF
				return 0, nil, err
			}
			c.body = c.body[:len(c.body)-2]
			if n == 0 {
				break
			}
		}
	case length >= 0:
		if err := c.read(length); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, errHTTPAnswer
	}
	if closing {
		return status, c.body, io.EOF // the caller reconnects
	}
	return status, c.body, nil
}

// read appends n octets of the answer to c.body.
func (c *httpConn) read(n int) error {
	start := len(c.body)
	c.body = append(c.body, make([]byte, n)...)
	_, err := io.ReadFull(c.r, c.body[start:])
	return err
}

// countAnswer counts the messages an answer accepted and refused: /send's
// `Success "..."`, a batch's "accepted" and "refused" members, an MO's 202.
func countAnswer(cfg HTTPConfig, status int, body []byte, err error) (ok, bad uint64) {
	if cfg.Mode == HTTPMO {
		if err == nil && status == http.StatusAccepted {
			return 1, 0
		}
		return 0, 1
	}
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
