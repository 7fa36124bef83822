package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Resolution is how Lookup.Resolve decided.
type Resolution uint8

const (
	// Resolved: the network is known (possibly "": no network).
	Resolved Resolution = iota
	// Pending: a request to the service is running; ask again later.
	Pending
	// Fallback: the service failed, was too slow or is paused; the network
	// is LookupConfig.Fallback.
	Fallback
	// Full: MaxPending numbers already wait for the service.
	Full
)

// failuresToPause is how many failed lookups in a row pause the service
// for ErrorTTL: while it is down no message waits for it.
const failuresToPause = 10

// maxAnswer bounds the body read from the service.
const maxAnswer = 4096

// Lookup maps a destination to its current network: from the ported-numbers
// file, else from the HTTP service through a bounded cache. Resolve never
// blocks: a number not cached starts a request on a worker goroutine and
// answers Pending, and the caller asks again later (the engine offers a
// waiting submit again after a tick); a request past Timeout answers
// Fallback. A cache hit allocates nothing.
type Lookup struct {
	ported   atomic.Pointer[portedTable]
	cache    *netCache
	names    names
	fallback int32 // interned Fallback, -1 = none
	client   *http.Client
	urlHead  string // URL before "{number}"
	urlTail  string // after
	timeout  time.Duration
	ttl      int64 // ns
	errTTL   int64 // ns
	hasHTTP  bool

	mu       sync.Mutex
	inflight map[uint64]int64 // number -> deadline (Unix ns); mu
	max      int
	queue    chan uint64

	failsInRow atomic.Int32
	pausedTill atomic.Int64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	stats lookupCounters
}

type lookupCounters struct {
	fileHits, cacheHits, requests, answers, notFound, failures, timeouts, fallbacks, full atomic.Uint64
}

// LookupStats are the stage's counters since start.
type LookupStats struct {
	FileHits  uint64 // numbers the ported file mapped
	CacheHits uint64 // answers from the cache
	Requests  uint64 // requests sent to the service
	Answers   uint64 // 200 answers with a network
	NotFound  uint64 // 404 answers (no network known)
	Failures  uint64 // requests that failed (connection, status, body)
	Timeouts  uint64 // requests cut at Timeout (also counted in Failures)
	Fallbacks uint64 // messages that took Fallback
	Full      uint64 // messages refused because MaxPending numbers waited
	Pending   int    // numbers waiting now
}

// NewLookup starts the stage from a validated config (Validate called):
// it reads the ported file and starts the workers. Close stops them.
func NewLookup(c LookupConfig) (*Lookup, error) {
	l := &Lookup{
		timeout:  c.Timeout.D(),
		ttl:      int64(c.CacheTTL.D()),
		errTTL:   int64(c.ErrorTTL.D()),
		fallback: -1,
		inflight: make(map[uint64]int64),
		max:      c.MaxPending,
	}
	if c.Fallback != "" {
		l.fallback = l.names.intern(c.Fallback)
	}
	if c.PortedFile != "" {
		t, err := LoadPorted(c.PortedFile)
		if err != nil {
			return nil, fmt.Errorf("lookup.ported_file: %w", err)
		}
		l.ported.Store(t)
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	if c.URL != "" {
		l.hasHTTP = true
		l.urlHead, l.urlTail, _ = strings.Cut(c.URL, "{number}")
		l.cache = newNetCache(c.CacheSize)
		l.queue = make(chan uint64, c.MaxPending)
		l.client = &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: c.Workers,
			IdleConnTimeout:     90 * time.Second,
		}}
		for range c.Workers {
			l.wg.Add(1)
			go l.work()
		}
	}
	return l, nil
}

// ReloadPorted reads the ported file again and swaps it in; on error the
// old table stays in force.
func (l *Lookup) ReloadPorted(path string) error {
	t, err := LoadPorted(path)
	if err != nil {
		return fmt.Errorf("lookup.ported_file: %w", err)
	}
	l.ported.Store(t)
	return nil
}

// Close stops the workers; requests in progress are cut. Resolve keeps
// answering from the file and the cache.
func (l *Lookup) Close() {
	l.cancel()
	l.wg.Wait()
}

// Resolve returns dst's network at now (Unix ns). mayWait says the caller
// can ask again later: without it a number not cached takes the fallback
// at once (its request still runs, for the next message).
func (l *Lookup) Resolve(dst []byte, mayWait bool, now int64) (string, Resolution) {
	if net, ok := l.ported.Load().lookup(dst); ok {
		l.stats.fileHits.Add(1)
		return net, Resolved
	}
	if !l.hasHTTP {
		return "", Resolved
	}
	key, _, ok := packDigits(dst)
	if !ok {
		return "", Resolved // not a number a service can know
	}
	if id, ok := l.cache.get(key, now); ok {
		l.stats.cacheHits.Add(1)
		return l.names.name(id), Resolved
	}
	if l.pausedTill.Load() > now {
		return l.takeFallback()
	}
	switch l.start(key, now) {
	case Full:
		if !mayWait {
			return l.takeFallback()
		}
		l.stats.full.Add(1)
		return "", Full
	}
	if !mayWait {
		return l.takeFallback()
	}
	return "", Pending
}

func (l *Lookup) takeFallback() (string, Resolution) {
	l.stats.fallbacks.Add(1)
	return l.names.name(l.fallback), Fallback
}

// start queues a request for key unless one is running; Full when
// MaxPending are. A request already running past its deadline is left to
// its worker, which stores the fallback.
func (l *Lookup) start(key uint64, now int64) Resolution {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.inflight[key]; ok {
		return Pending
	}
	if len(l.inflight) >= l.max {
		return Full
	}
	select {
	case l.queue <- key:
	default:
		return Full // the queue is as long as max: unreachable
	}
	l.inflight[key] = now + int64(l.timeout)
	return Pending
}

func (l *Lookup) work() {
	defer l.wg.Done()
	buf := make([]byte, 0, 256)
	for {
		select {
		case <-l.ctx.Done():
			return
		case key := <-l.queue:
			l.mu.Lock()
			deadline := l.inflight[key]
			l.mu.Unlock()
			buf = l.request(buf, key, deadline)
		}
	}
}

// request asks the service about key and stores the answer, or the
// fallback for ErrorTTL, then forgets the number as in flight.
func (l *Lookup) request(buf []byte, key uint64, deadline int64) []byte {
	net, found, err := int32(-1), false, error(nil)
	if time.Now().UnixNano() >= deadline {
		err = context.DeadlineExceeded // waited in the queue the whole timeout
	} else {
		buf = append(buf[:0], l.urlHead...)
		buf = strconv.AppendUint(buf, key, 10)
		// Drop the packing's leading 1.
		buf = append(buf[:len(l.urlHead)], buf[len(l.urlHead)+1:]...)
		buf = append(buf, l.urlTail...)
		net, found, err = l.ask(string(buf), deadline)
	}
	now := time.Now().UnixNano()
	l.mu.Lock()
	delete(l.inflight, key)
	l.mu.Unlock()
	if err != nil {
		l.stats.failures.Add(1)
		if errors.Is(err, context.DeadlineExceeded) {
			l.stats.timeouts.Add(1)
		}
		l.cache.put(key, l.fallback, now+l.errTTL)
		if l.failsInRow.Add(1) >= failuresToPause {
			l.failsInRow.Store(0)
			l.pausedTill.Store(now + l.errTTL)
		}
		return buf
	}
	l.failsInRow.Store(0)
	if found {
		l.stats.answers.Add(1)
	} else {
		l.stats.notFound.Add(1)
	}
	l.cache.put(key, net, now+l.ttl)
	return buf
}

// ask runs one request. found is false for a 404 (no network known).
func (l *Lookup) ask(url string, deadline int64) (net int32, found bool, err error) {
	ctx, cancel := context.WithDeadline(l.ctx, time.Unix(0, deadline))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return -1, false, err
	}
	req.Header.Set("Accept", "application/json")
	l.stats.requests.Add(1)
	resp, err := l.client.Do(req)
	if err != nil {
		return -1, false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return -1, false, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return -1, false, nil
	case resp.StatusCode != http.StatusOK:
		return -1, false, fmt.Errorf("lookup service answered %s", resp.Status)
	case len(body) > maxAnswer:
		return -1, false, fmt.Errorf("lookup service answer over %d octets", maxAnswer)
	}
	var a struct {
		Network string `json:"network"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return -1, false, fmt.Errorf("lookup service answer: %w", err)
	}
	if !validNetwork(a.Network) {
		return -1, false, fmt.Errorf("lookup service answer: network %q is not 1..64 of A-Z a-z 0-9 _ . : -", a.Network)
	}
	id := l.names.intern(a.Network)
	if id < 0 {
		return -1, false, fmt.Errorf("lookup service answer: more than %d distinct networks", maxNetworkNames)
	}
	return id, true, nil
}

// Stats returns the stage's counters.
func (l *Lookup) Stats() LookupStats {
	l.mu.Lock()
	p := len(l.inflight)
	l.mu.Unlock()
	s := &l.stats
	return LookupStats{FileHits: s.fileHits.Load(), CacheHits: s.cacheHits.Load(), Requests: s.requests.Load(),
		Answers: s.answers.Load(), NotFound: s.notFound.Load(), Failures: s.failures.Load(),
		Timeouts: s.timeouts.Load(), Fallbacks: s.fallbacks.Load(), Full: s.full.Load(), Pending: p}
}
