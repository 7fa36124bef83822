package memory

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
)

func TestUpstreamMethods(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.now})
	long := bytes.Repeat([]byte{'x'}, MaxUpstreamID)
	tests := []struct {
		name   string
		put    bool // PutUpstream(conn, key, id) first
		conn   int
		key    []byte
		id     msg.ID
		lookup int // connector to look up with
		want   msg.ID
		ok     bool
	}{
		{"put and find", true, 1, []byte("abc"), 10, 1, 10, true},
		{"other connector", false, 0, []byte("abc"), 0, 2, 0, false},
		{"prefix is not the key", false, 0, []byte("ab"), 0, 1, 0, false},
		{"same key on connector 2", true, 2, []byte("abc"), 20, 2, 20, true},
		{"connector 1 unchanged", false, 0, []byte("abc"), 0, 1, 10, true},
		{"replace", true, 1, []byte("abc"), 11, 1, 11, true},
		{"negative connector", true, -1, []byte("abc"), 12, -1, 12, true},
		{"binary key", true, 1, []byte{0, 1, 2, 0xff}, 13, 1, 13, true},
		{"64 octets", true, 3, long, 14, 3, 14, true},
		{"65 octets ignored", true, 3, append(long, 'y'), 15, 3, 0, false},
		{"empty ignored", true, 3, nil, 16, 3, 0, false},
	}
	for _, tc := range tests {
		key := bytes.Clone(tc.key)
		if tc.put {
			s.PutUpstream(tc.conn, key, tc.id)
			for i := range key {
				key[i] ^= 0x55 // the store must have copied it
			}
			key = bytes.Clone(tc.key)
		}
		got, ok := s.Upstream(tc.lookup, key)
		if got != tc.want || ok != tc.ok {
			t.Fatalf("%s: Upstream = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	st := s.Stats()
	if st.Upstream != 5 || st.UpstreamRejected != 2 || s.UpstreamLen() != 5 {
		t.Fatalf("stats %+v, UpstreamLen %d", st, s.UpstreamLen())
	}
}

func TestUpstreamEvictionAndTTL(t *testing.T) {
	clk := newClock()
	s := New(Options{MaxUpstream: 5, TTL: time.Hour, Now: clk.now})
	key := func(i int) []byte { return fmt.Appendf(nil, "up-%d", i) }
	for i := 0; i < 5; i++ {
		s.PutUpstream(0, key(i), msg.ID(i))
	}
	s.PutUpstream(0, key(0), 100) // replaced in place: still the oldest
	s.PutUpstream(0, key(5), 5)
	if _, ok := s.Upstream(0, key(0)); ok {
		t.Fatal("oldest mapping not evicted")
	}
	for i := 1; i <= 5; i++ {
		if id, ok := s.Upstream(0, key(i)); !ok || id != msg.ID(i) {
			t.Fatalf("key %d: %v %v", i, id, ok)
		}
	}
	clk.advance(30 * time.Minute)
	s.PutUpstream(0, key(6), 6)
	clk.advance(30*time.Minute + 1)
	if _, ok := s.Upstream(0, key(1)); ok {
		t.Fatal("mapping outlived the TTL")
	}
	if id, ok := s.Upstream(0, key(6)); !ok || id != 6 {
		t.Fatal("young mapping lost")
	}
	if n := s.Sweep(clk.now()); n != 4 {
		t.Fatalf("Sweep reclaimed %d, want 4", n)
	}
	st := s.Stats()
	if st.Upstream != 1 || st.UpstreamEvicted != 2 || st.UpstreamExpired != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestUpstreamManyKeys(t *testing.T) {
	s := New(Options{MaxUpstream: 200_000}) // room to spare in every shard
	var k [24]byte
	for i := 0; i < 50_000; i++ {
		s.PutUpstream(i%3, fmt.Appendf(k[:0], "%020d", i), msg.ID(i))
	}
	for i := 0; i < 50_000; i++ {
		if id, ok := s.Upstream(i%3, fmt.Appendf(k[:0], "%020d", i)); !ok || id != msg.ID(i) {
			t.Fatalf("key %d: %v %v", i, id, ok)
		}
		if _, ok := s.Upstream(i%3+1, fmt.Appendf(k[:0], "%020d", i)); ok {
			t.Fatalf("key %d found under the wrong connector", i)
		}
	}
}

func TestUpstreamConcurrent(t *testing.T) {
	s := New(Options{MaxUpstream: 100_000})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var k [32]byte
			for i := 0; i < 2000; i++ {
				key := fmt.Appendf(k[:0], "w%d-%d", w, i)
				s.PutUpstream(w%2, key, msg.ID(w<<32|i))
				if id, ok := s.Upstream(w%2, key); !ok || id != msg.ID(w<<32|i) {
					t.Errorf("worker %d key %d: %v %v", w, i, id, ok)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if n := s.UpstreamLen(); n != 16_000 {
		t.Fatalf("UpstreamLen %d, want 16000", n)
	}
}
