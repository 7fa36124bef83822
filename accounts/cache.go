package accounts

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"strings"
	"sync"
	"time"
)

// credCache remembers passwords that recently passed the slow hash check,
// so a bind storm of known-good credentials costs an HMAC each instead of a
// PBKDF2 run.
//
// It never holds a password: an entry is HMAC-SHA256 under a key drawn at
// start-up (never stored) over system_id and password, so a memory dump
// yields nothing that can be tested offline faster than the PBKDF2 hashes
// themselves. One entry per system_id (the last password verified); each
// remembers the password_hash it was verified against, so a reload that
// changes a user's hash invalidates that user's entry, and purge drops the
// entries of removed or changed users eagerly. Entries expire after ttl;
// at most size entries, least recently verified evicted first.
type credCache struct {
	mu   sync.Mutex
	ttl  time.Duration
	key  [32]byte
	ents *lru[string, cacheEntry]
	macs sync.Pool // *macState under key: every HTTP request logs in
}

// macState is one HMAC under the cache's key with its buffers, pooled:
// hmac.New costs allocations and the key's pads on every login.
type macState struct {
	h   hash.Hash
	in  []byte // system_id, NUL, password: wiped before it is pooled
	sum []byte
}

type cacheEntry struct {
	mac     [sha256.Size]byte
	encoded string // the password_hash the password was verified against
	expires time.Time
}

func newCredCache(ttl time.Duration, size int) *credCache {
	c := &credCache{ttl: ttl, ents: newLRU[string, cacheEntry](size)}
	if _, err := rand.Read(c.key[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	c.macs.New = func() any { return &macState{h: hmac.New(sha256.New, c.key[:])} }
	return c
}

// mac computes the cache key material for (systemID, password).
func (c *credCache) mac(systemID, pw string) [sha256.Size]byte {
	st := c.macs.Get().(*macState)
	st.in = append(st.in[:0], systemID...)
	st.in = append(st.in, 0) // system_id holds no NUL, so the split is unambiguous
	st.in = append(st.in, pw...)
	st.h.Write(st.in)
	st.sum = st.h.Sum(st.sum[:0])
	var out [sha256.Size]byte
	copy(out[:], st.sum)
	st.h.Reset()
	clear(st.in)
	c.macs.Put(st)
	return out
}

// hit reports whether (systemID, mac) was verified against encoded within
// the TTL.
func (c *credCache) hit(systemID, encoded string, mac *[sha256.Size]byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.ents.get(systemID)
	if !ok {
		return false
	}
	if !now.Before(e.expires) || e.encoded != encoded {
		c.ents.remove(systemID)
		return false
	}
	return subtle.ConstantTimeCompare(e.mac[:], mac[:]) == 1
}

// put records a successful verification.
func (c *credCache) put(systemID, encoded string, mac *[sha256.Size]byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.ents.touch(strings.Clone(systemID)) // the key outlives the request it was cut from
	*e = cacheEntry{mac: *mac, encoded: encoded, expires: now.Add(c.ttl)}
}

// purge drops every entry for which current(systemID) is not the hash the
// entry was verified against ("" for a removed user).
func (c *credCache) purge(current func(systemID string) string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var stale []string
	c.ents.each(func(id string, e *cacheEntry) {
		if current(id) != e.encoded {
			stale = append(stale, id)
		}
	})
	for _, id := range stale {
		c.ents.remove(id)
	}
}

func (c *credCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ents.len()
}
