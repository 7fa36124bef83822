package storagetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/storage"
)

// upstreamCases hold storage.UpstreamIDs to its contract.
var upstreamCases = []testCase{
	{name: "Upstream/RoundTrip", run: upstreamRoundTrip},
	{name: "Upstream/BadIDs", run: upstreamBadIDs},
	{name: "Upstream/Reverse", run: upstreamReverse},
	{name: "Upstream/TTL", run: upstreamTTL},
}

func upstreamRoundTrip(t *testing.T, e *env) {
	key := []byte("UP-1")
	if err := e.s.PutUpstream(1, key, id(1)); err != nil {
		t.Fatal(err)
	}
	key[0] = 'X' // a view valid during the call only: the store copied it
	if got, ok := e.s.Upstream(1, []byte("UP-1")); !ok || got != id(1) {
		t.Fatalf("Upstream(1, UP-1) = %v, %v", got, ok)
	}
	if _, ok := e.s.Upstream(2, []byte("UP-1")); ok {
		t.Fatal("another connector's id found")
	}
	if _, ok := e.s.Upstream(1, []byte("UP-2")); ok {
		t.Fatal("an unknown id found")
	}
	// The same pair again maps to the newer id.
	if err := e.s.PutUpstream(1, []byte("UP-1"), id(2)); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.s.Upstream(1, []byte("UP-1")); got != id(2) {
		t.Fatalf("after a second put: %v, want %v", got, id(2))
	}
	long := []byte(strings.Repeat("7", storage.MaxUpstreamID))
	if err := e.s.PutUpstream(2, long, id(3)); err != nil {
		t.Fatalf("an id of MaxUpstreamID octets: %v", err)
	}
	if got, ok := e.s.Upstream(2, long); !ok || got != id(3) {
		t.Fatalf("longest id: %v, %v", got, ok)
	}
	if st := e.s.Stats(); st.Upstream != 2 {
		t.Fatalf("Stats.Upstream = %d, want 2", st.Upstream)
	}
}

func upstreamBadIDs(t *testing.T, e *env) {
	long := []byte(strings.Repeat("7", storage.MaxUpstreamID+1))
	for _, bad := range [][]byte{nil, {}, long} {
		if err := e.s.PutUpstream(1, bad, id(1)); !errors.Is(err, storage.ErrBadUpstreamID) {
			t.Errorf("PutUpstream(%d octets) = %v, want ErrBadUpstreamID", len(bad), err)
		}
		if _, ok := e.s.Upstream(1, bad); ok {
			t.Errorf("Upstream(%d octets) found", len(bad))
		}
		if err := e.s.PutUpstreamOf(id(1), bad); !errors.Is(err, storage.ErrBadUpstreamID) {
			t.Errorf("PutUpstreamOf(%d octets) = %v, want ErrBadUpstreamID", len(bad), err)
		}
	}
	if _, ok := e.s.UpstreamOf(id(1), nil); ok {
		t.Fatal("a refused reverse id was kept")
	}
	if st := e.s.Stats(); st.UpstreamRejected != 6 || st.Upstream != 0 || st.Reverse != 0 {
		t.Fatalf("Stats after 6 refusals: %+v", st)
	}
}

func upstreamReverse(t *testing.T, e *env) {
	key := []byte("SMSC-77")
	if err := e.s.PutUpstreamOf(id(1), key); err != nil {
		t.Fatal(err)
	}
	key[0] = 'X'
	dst := []byte("prefix:")
	got, ok := e.s.UpstreamOf(id(1), dst)
	if !ok || string(got) != "prefix:SMSC-77" {
		t.Fatalf("UpstreamOf appended %q, %v", got, ok)
	}
	if _, ok := e.s.UpstreamOf(id(2), nil); ok {
		t.Fatal("an unknown id found")
	}
	if err := e.s.PutUpstreamOf(id(1), []byte("SMSC-78")); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.s.UpstreamOf(id(1), nil); string(got) != "SMSC-78" {
		t.Fatalf("after a second put: %q", got)
	}
	if st := e.s.Stats(); st.Reverse != 1 || st.Upstream != 0 {
		t.Fatalf("Stats: %+v", st)
	}
}

func upstreamTTL(t *testing.T, e *env) {
	if err := e.s.PutUpstream(1, []byte("A"), id(1)); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutUpstreamOf(id(1), []byte("A")); err != nil {
		t.Fatal(err)
	}
	e.advance(ttl + time.Second)
	if _, ok := e.s.Upstream(1, []byte("A")); ok {
		t.Fatal("upstream id found past the TTL")
	}
	if _, ok := e.s.UpstreamOf(id(1), nil); ok {
		t.Fatal("reverse id found past the TTL")
	}
	if n := e.s.Sweep(e.now()); n != 2 {
		t.Fatalf("Sweep reclaimed %d, want 2", n)
	}
	if st := e.s.Stats(); st.Upstream != 0 || st.Reverse != 0 || st.UpstreamExpired != 2 {
		t.Fatalf("Stats after the sweep: %+v", st)
	}
}
