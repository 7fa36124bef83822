package httpapi

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

// Idempotency-Key on POST /v1/messages: a client that retries a request
// (a timeout, a dropped connection) with the same key gets the first
// answer again, with the ids of the messages it sent, instead of sending
// them twice. Keys are per user. The cache is bounded by count
// ([http-api] idempotency_keys) and by the octets of the answers it holds
// (maxIdemBytes); the oldest entry goes first, and an entry lives
// idempotency_ttl. Only definitive answers are kept: a 2xx, or a 4xx other
// than 401, 409 and 429 (a retry of those may succeed).

// maxIdemBytes bounds the answers kept: a batch of 1,000 answers in about
// 90 KiB, so 64 MiB keeps the last 700 or so batches even at the worst.
const maxIdemBytes = 64 << 20

// maxIdemKey is the longest Idempotency-Key accepted.
const maxIdemKey = 255

type idemKey struct{ user, key string }

type idemEntry struct {
	k       idemKey
	sum     [sha256.Size]byte // the request body's hash: a reused key with another body is refused
	pending bool              // the first request is still being answered
	status  int
	body    []byte
	at      time.Time
	elem    *list.Element
}

type idemCache struct {
	mu       sync.Mutex
	max      int
	maxBytes int
	ttl      time.Duration
	m        map[idemKey]*idemEntry
	order    *list.List // oldest first
	bytes    int
}

func newIdemCache(max, maxBytes int, ttl time.Duration) *idemCache {
	return &idemCache{max: max, maxBytes: maxBytes, ttl: ttl, m: make(map[idemKey]*idemEntry), order: list.New()}
}

// Outcomes of begin.
const (
	idemNew      = iota // reserved: answer the request, then finish
	idemReplay          // the kept answer is returned
	idemPending         // the first request with this key is still running: 409
	idemMismatch        // the key was used with another body: 422
)

// begin looks k up for a request whose body hashes to sum. idemNew
// reserves the key until finish or abandon.
func (c *idemCache) begin(k idemKey, sum [sha256.Size]byte, now time.Time) (int, int, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		if !e.pending && now.Sub(e.at) > c.ttl {
			c.drop(e)
		} else {
			switch {
			case e.sum != sum:
				return idemMismatch, 0, nil
			case e.pending:
				return idemPending, 0, nil
			}
			return idemReplay, e.status, e.body
		}
	}
	for len(c.m) >= c.max && c.order.Len() > 0 {
		c.drop(c.order.Front().Value.(*idemEntry))
	}
	e := &idemEntry{k: k, sum: sum, pending: true, at: now}
	e.elem = c.order.PushBack(e)
	c.m[k] = e
	return idemNew, 0, nil
}

// finish keeps the answer of k's request (or forgets the key, for an answer
// a retry may change).
func (c *idemCache) finish(k idemKey, status int, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !e.pending {
		return
	}
	if !keepable(status) || len(body) > c.maxBytes {
		c.drop(e)
		return
	}
	e.pending, e.status, e.body = false, status, body
	c.bytes += len(body)
	for c.bytes > c.maxBytes && c.order.Len() > 1 {
		old := c.order.Front().Value.(*idemEntry)
		if old == e {
			break
		}
		c.drop(old)
	}
}

func keepable(status int) bool {
	switch {
	case status >= 200 && status < 300:
		return true
	case status == 401, status == 409, status == 429:
		return false
	}
	return status >= 400 && status < 500
}

func (c *idemCache) drop(e *idemEntry) {
	c.order.Remove(e.elem)
	delete(c.m, e.k)
	c.bytes -= len(e.body)
}

// len is the number of keys held (tests).
func (c *idemCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
