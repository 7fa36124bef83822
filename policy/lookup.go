package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
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
//
// One Lookup lives for the process: Configure applies each policy load's
// [lookup] table (the file is read again; the service's cache and workers
// are kept unless its settings changed). Until then, and as a zero
// Lookup, it maps nothing.
type Lookup struct {
	ported atomic.Pointer[portedTable]
	svc    atomic.Pointer[service]
	mu     sync.Mutex   // Configure, Close
	cfg    LookupConfig // in force (mu)
	stats  lookupCounters
	log    atomic.Pointer[zerolog.Logger]
}

// logEvery spaces the service's failure lines: one per this interval.
const logEvery = int64(10 * time.Second)

// SetLog sets where the service's failures are logged (default: nowhere).
func (l *Lookup) SetLog(log zerolog.Logger) { l.log.Store(&log) }

// service is the HTTP side with its cache and workers.
type service struct {
	stats    *lookupCounters
	log      *atomic.Pointer[zerolog.Logger]
	logged   atomic.Int64 // when the last failure line went out (Unix ns)
	cache    *netCache
	names    names
	fallback int32 // interned Fallback, -1 = none
	client   *http.Client
	urlHead  string // URL before "{number}"
	urlTail  string // after
	timeout  time.Duration
	ttl      int64 // ns
	errTTL   int64 // ns

	mu       sync.Mutex
	inflight map[uint64]int64 // number -> deadline (Unix ns); mu
	max      int
	queue    chan uint64

	failsInRow atomic.Int32
	pausedTill atomic.Int64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
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

// NewLookup returns a Lookup configured with c (see Configure).
func NewLookup(c LookupConfig) (*Lookup, error) {
	l := &Lookup{}
	if err := l.Configure(c); err != nil {
		return nil, err
	}
	return l, nil
}

// Configure validates c and puts it in force: the ported file is read
// again, and the service restarted (empty cache) only when its url,
// timeouts, cache, fallback, bounds or workers changed. On error the
// previous configuration stays.
func (l *Lookup) Configure(c LookupConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	var t *portedTable
	if c.PortedFile != "" {
		var err error
		if t, err = LoadPorted(c.PortedFile); err != nil {
			return fmt.Errorf("lookup.ported_file: %w", err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ported.Store(t)
	old := l.svc.Load()
	same := c
	same.PortedFile = l.cfg.PortedFile
	if old != nil && same == l.cfg {
		l.cfg = c
		return nil
	}
	var svc *service
	if c.URL != "" {
		svc = newService(c, &l.stats, &l.log)
	}
	l.svc.Store(svc)
	l.cfg = c
	if old != nil {
		old.close()
	}
	return nil
}

func newService(c LookupConfig, st *lookupCounters, log *atomic.Pointer[zerolog.Logger]) *service {
	s := &service{
		stats:    st,
		log:      log,
		timeout:  c.Timeout.D(),
		ttl:      int64(c.CacheTTL.D()),
		errTTL:   int64(c.ErrorTTL.D()),
		fallback: -1,
		inflight: make(map[uint64]int64),
		max:      c.MaxPending,
		cache:    newNetCache(c.CacheSize),
		queue:    make(chan uint64, c.MaxPending),
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: c.Workers,
			IdleConnTimeout:     90 * time.Second,
		}},
	}
	if c.Fallback != "" {
		s.fallback = s.names.intern(c.Fallback)
	}
	s.urlHead, s.urlTail, _ = strings.Cut(c.URL, "{number}")
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for range c.Workers {
		s.wg.Add(1)
		go s.work()
	}
	return s
}

func (s *service) close() {
	s.cancel()
	s.wg.Wait()
	s.client.CloseIdleConnections()
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

// Close stops the service's workers; requests in progress are cut. Resolve
// keeps answering from the file and the cache.
func (l *Lookup) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.svc.Load(); s != nil {
		s.close()
	}
}

// Resolve returns dst's network at now (Unix ns). mayWait says the caller
// can ask again later: without it a number not cached takes the fallback
// at once (its request still runs, for the next message).
func (l *Lookup) Resolve(dst []byte, mayWait bool, now int64) (string, Resolution) {
	if net, ok := l.ported.Load().lookup(dst); ok {
		l.stats.fileHits.Add(1)
		return net, Resolved
	}
	s := l.svc.Load()
	if s == nil {
		return "", Resolved
	}
	key, _, ok := packDigits(dst)
	if !ok {
		return "", Resolved // not a number a service can know
	}
	if id, ok := s.cache.get(key, now); ok {
		l.stats.cacheHits.Add(1)
		return s.names.name(id), Resolved
	}
	if s.pausedTill.Load() > now {
		return s.takeFallback()
	}
	if s.start(key) == Full {
		if !mayWait {
			return s.takeFallback()
		}
		l.stats.full.Add(1)
		return "", Full
	}
	if !mayWait {
		return s.takeFallback()
	}
	return "", Pending
}

func (s *service) takeFallback() (string, Resolution) {
	s.stats.fallbacks.Add(1)
	return s.names.name(s.fallback), Fallback
}

// start queues a request for key unless one is running; Full when
// MaxPending are. A request already running past its deadline is left to
// its worker, which stores the fallback. The deadline is read from the
// wall clock the workers use, whatever clock the caller's now came from.
func (s *service) start(key uint64) Resolution {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.inflight[key]; ok {
		return Pending
	}
	if len(s.inflight) >= s.max {
		return Full
	}
	select {
	case s.queue <- key:
	default:
		return Full // the queue is as long as max: unreachable
	}
	s.inflight[key] = time.Now().UnixNano() + int64(s.timeout)
	return Pending
}

func (s *service) work() {
	defer s.wg.Done()
	buf := make([]byte, 0, 256)
	for {
		select {
		case <-s.ctx.Done():
			return
		case key := <-s.queue:
			s.mu.Lock()
			deadline := s.inflight[key]
			s.mu.Unlock()
			buf = s.request(buf, key, deadline)
		}
	}
}

// request asks the service about key and stores the answer, or the
// fallback for ErrorTTL, then forgets the number as in flight.
func (s *service) request(buf []byte, key uint64, deadline int64) []byte {
	net, found, err := int32(-1), false, error(nil)
	if time.Now().UnixNano() >= deadline {
		err = context.DeadlineExceeded // waited in the queue the whole timeout
	} else {
		buf = append(buf[:0], s.urlHead...)
		buf = strconv.AppendUint(buf, key, 10)
		// Drop the packing's leading 1.
		buf = append(buf[:len(s.urlHead)], buf[len(s.urlHead)+1:]...)
		buf = append(buf, s.urlTail...)
		net, found, err = s.ask(string(buf), deadline)
	}
	now := time.Now().UnixNano()
	// The number stays in flight until its answer is cached and the
	// failure counted: a Resolve in between would otherwise miss both and
	// send the same number again (a request, and a failure, too many).
	defer s.done(key)
	if err != nil {
		s.stats.failures.Add(1)
		if errors.Is(err, context.DeadlineExceeded) {
			s.stats.timeouts.Add(1)
		}
		s.cache.put(key, s.fallback, now+s.errTTL)
		paused := s.failsInRow.Add(1) >= failuresToPause
		if paused {
			s.failsInRow.Store(0)
			s.pausedTill.Store(now + s.errTTL)
		}
		s.logFailure(err, paused, now)
		return buf
	}
	s.failsInRow.Store(0)
	if found {
		s.stats.answers.Add(1)
	} else {
		s.stats.notFound.Add(1)
	}
	s.cache.put(key, net, now+s.ttl)
	return buf
}

// done forgets key as in flight.
func (s *service) done(key uint64) {
	s.mu.Lock()
	delete(s.inflight, key)
	s.mu.Unlock()
}

// logFailure logs a failed request, at most once per logEvery, and
// always the pause after failuresToPause in a row. The number is not
// logged.
func (s *service) logFailure(err error, paused bool, now int64) {
	lp := s.log.Load()
	if lp == nil {
		return
	}
	if paused {
		lp.Warn().Str("event", "lookup_paused").Err(err).Dur("pause", time.Duration(s.errTTL)).
			Msg("the lookup service failed 10 times in a row: messages take lookup.fallback without asking it for lookup.error_ttl")
		return
	}
	if last := s.logged.Load(); now-last < logEvery || !s.logged.CompareAndSwap(last, now) {
		return
	}
	lp.Warn().Str("event", "lookup_failed").Err(err).Uint64("failures_total", s.stats.failures.Load()).
		Msg("lookup service request failed: the number takes lookup.fallback for lookup.error_ttl")
}

// ask runs one request. found is false for a 404 (no network known).
func (s *service) ask(target string, deadline int64) (net int32, found bool, err error) {
	ctx, cancel := context.WithDeadline(s.ctx, time.Unix(0, deadline))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return -1, false, err
	}
	req.Header.Set("Accept", "application/json")
	s.stats.requests.Add(1)
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s lookup service: %w", ue.Op, ue.Err) // without the URL: it holds the number
		}
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
	id := s.names.intern(a.Network)
	if id < 0 {
		return -1, false, fmt.Errorf("lookup service answer: more than %d distinct networks", maxNetworkNames)
	}
	return id, true, nil
}

// Stats returns the stage's counters.
func (l *Lookup) Stats() LookupStats {
	p := 0
	if svc := l.svc.Load(); svc != nil {
		svc.mu.Lock()
		p = len(svc.inflight)
		svc.mu.Unlock()
	}
	s := &l.stats
	return LookupStats{FileHits: s.fileHits.Load(), CacheHits: s.cacheHits.Load(), Requests: s.requests.Load(),
		Answers: s.answers.Load(), NotFound: s.notFound.Load(), Failures: s.failures.Load(),
		Timeouts: s.timeouts.Load(), Fallbacks: s.fallbacks.Load(), Full: s.full.Load(), Pending: p}
}
