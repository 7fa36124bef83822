package accounts

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"
)

// TestMacPooled: the pooled HMAC gives what a fresh one gives, call after
// call (the state is reset between uses), and allocates nothing: every
// HTTP API request logs in through it.
func TestMacPooled(t *testing.T) {
	c := newCredCache(time.Minute, 4)
	want := func(id, pw string) [sha256.Size]byte {
		h := hmac.New(sha256.New, c.key[:])
		h.Write([]byte(id + "\x00" + pw))
		var out [sha256.Size]byte
		h.Sum(out[:0])
		return out
	}
	for range 3 {
		for _, p := range [][2]string{{"alice", "secret"}, {"bob", ""}, {"a-long-system", "12345678"}} {
			if c.mac(p[0], p[1]) != want(p[0], p[1]) {
				t.Fatalf("mac(%q, %q) differs from a fresh HMAC", p[0], p[1])
			}
		}
	}
	if raceEnabled {
		return
	}
	c.mac("warm", "up")
	if n := testing.AllocsPerRun(100, func() { c.mac("alice", "secret") }); n != 0 {
		t.Errorf("mac allocates %v times a call, want 0", n)
	}
}
