package accounts

import (
	"sync"
	"testing"
	"time"
)

var (
	benchOnce sync.Once
	benchHash string
)

// benchStore has one user "u" (password "pw") hashed at DefaultIterations,
// as `smppd passwd` would write it.
func benchStore(b *testing.B, opts Options) *Store {
	benchOnce.Do(func() {
		h, err := HashPassword("pw")
		if err != nil {
			b.Fatal(err)
		}
		benchHash = h
	})
	return mustStore(b, []User{{SystemID: "u", PasswordHash: benchHash, Enabled: true, BindTypes: AllBindTypes}}, opts)
}

func benchBind(b *testing.B, s *Store, id, pw string) {
	warm(s, id, pw)
	b.ReportAllocs()
	for b.Loop() {
		bd, err := s.Authenticate(id, pw, BindTransceiver, localIP)
		if bd != nil {
			bd.Release()
		} else if err == nil {
			b.Fatal("no bind and no error")
		}
	}
}

// BenchmarkAuthenticateCacheHit is a bind of known-good credentials
// within cache_ttl: an HMAC instead of PBKDF2.
func BenchmarkAuthenticateCacheHit(b *testing.B) {
	benchBind(b, benchStore(b, Options{CacheTTL: time.Hour, CacheSize: 10}), "u", "pw")
}

// BenchmarkAuthenticateCacheMiss runs the full PBKDF2 check every time.
func BenchmarkAuthenticateCacheMiss(b *testing.B) {
	benchBind(b, benchStore(b, Options{}), "u", "pw")
}

// BenchmarkAuthenticateWrongPassword and BenchmarkAuthenticateUnknownUser
// should cost the same: the unknown-user path runs a dummy hash.
func BenchmarkAuthenticateWrongPassword(b *testing.B) {
	benchBind(b, benchStore(b, Options{CacheTTL: time.Hour, CacheSize: 10}), "u", "px")
}

func BenchmarkAuthenticateUnknownUser(b *testing.B) {
	benchBind(b, benchStore(b, Options{CacheTTL: time.Hour, CacheSize: 10}), "nobody", "pw")
}

// BenchmarkAuthenticateCacheHitParallel: many bind workers at once.
func BenchmarkAuthenticateCacheHitParallel(b *testing.B) {
	s := benchStore(b, Options{CacheTTL: time.Hour, CacheSize: 10})
	warm(s, "u", "pw")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bd, err := s.Authenticate("u", "pw", BindTransceiver, localIP)
			if err != nil {
				b.Error(err)
				return
			}
			bd.Release()
		}
	})
}

// warm runs one bind so the cache benchmarks time hits only.
func warm(s *Store, id, pw string) {
	if bd, _ := s.Authenticate(id, pw, BindTransceiver, localIP); bd != nil {
		bd.Release()
	}
}

// BenchmarkBindUser is the per-message read of a bound session's record.
func BenchmarkBindUser(b *testing.B) {
	s := benchStore(b, Options{})
	bd, err := s.Authenticate("u", "pw", BindTransceiver, localIP)
	if err != nil {
		b.Fatal(err)
	}
	defer bd.Release()
	b.ReportAllocs()
	var u *User
	for b.Loop() {
		u = bd.User()
	}
	_ = u
}

func benchSource(b *testing.B, src string) {
	u := User{SystemID: "u", SourceAddrs: []string{"INFO", "SHOP", "336*", "337*", `re:\+?44[0-9]{6,12}`}}
	if err := u.Prepare(); err != nil {
		b.Fatal(err)
	}
	in := []byte(src)
	b.ReportAllocs()
	for b.Loop() {
		u.SourceAllowed(in)
	}
}

func BenchmarkSourceAllowedExact(b *testing.B)  { benchSource(b, "SHOP") }
func BenchmarkSourceAllowedPrefix(b *testing.B) { benchSource(b, "33712345678") }
func BenchmarkSourceAllowedRegexp(b *testing.B) { benchSource(b, "+447700900123") }

// BenchmarkSourceAllowedMiss walks every pattern, the regexp included.
func BenchmarkSourceAllowedMiss(b *testing.B) { benchSource(b, "15551234567") }
