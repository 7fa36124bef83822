package accounts

import (
	"net/netip"
	"strings"
	"testing"
	"time"
	"unsafe"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// A system_id cut from a large request (an HTTP query string) must not keep
// the request alive in the failed-bind limiter or the credential cache.
func TestKeysDoNotAliasTheirInput(t *testing.T) {
	big := "alice" + strings.Repeat("x", 32<<10)
	id := big[:5]
	inside := func(key string) bool {
		p, lo := uintptr(unsafe.Pointer(unsafe.StringData(key))), uintptr(unsafe.Pointer(unsafe.StringData(big)))
		return p >= lo && p < lo+uintptr(len(big))
	}

	l := newLimiter(Limits{FailWindow: time.Minute, MaxKeys: 8}, fixedClock{time.Unix(1, 0)})
	l.fail(netip.MustParseAddr("127.0.0.1"), id)
	n := 0
	l.ids.each(func(k string, _ *failState) {
		n++
		if k != "alice" || inside(k) {
			t.Errorf("limiter id key %q aliases its input: %v", k, inside(k))
		}
	})
	l.pairs.each(func(k pairKey, _ *failState) {
		n++
		if inside(k.id) {
			t.Errorf("limiter pair key aliases its input")
		}
	})
	if n != 2 {
		t.Fatalf("limiter holds %d id and pair keys, want 2", n)
	}

	c := newCredCache(time.Minute, 4)
	mac := c.mac(id, "secret")
	c.put(id, "hash", &mac, time.Unix(1, 0))
	c.ents.each(func(k string, _ *cacheEntry) {
		if k != "alice" || inside(k) {
			t.Errorf("cache key %q aliases its input: %v", k, inside(k))
		}
	})
	if c.len() != 1 {
		t.Fatalf("cache holds %d entries, want 1", c.len())
	}
}
