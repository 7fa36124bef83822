package accounts

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
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
	return c
}

// mac computes the cache key material for (systemID, password).
func (c *credCache) mac(systemID, pw string) [sha256.Size]byte {
	h := hmac.New(sha256.New, c.key[:])
	h.Write([]byte(systemID))
	h.Write([]byte{0}) // system_id holds no NUL, so the split is unambiguous
	h.Write([]byte(pw))
	var out [sha256.Size]byte
	h.Sum(out[:0])
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
	e := c.ents.touch(systemID)
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
