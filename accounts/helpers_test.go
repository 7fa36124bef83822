package accounts

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock whose time moves only by Advance.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Test hashes use the minimum iteration count so the suite stays fast.
const testIter = minIterations

var hashCache sync.Map // password -> hash, so tests share the hashing cost

func testHash(t testing.TB, pw string) string {
	t.Helper()
	if h, ok := hashCache.Load(pw); ok {
		return h.(string)
	}
	h, err := HashPasswordIter(pw, testIter)
	if err != nil {
		t.Fatal(err)
	}
	hashCache.Store(pw, h)
	return h
}

func testUser(t testing.TB, id, pw string) User {
	return User{SystemID: id, PasswordHash: testHash(t, pw), Enabled: true, BindTypes: AllBindTypes}
}

func mustStore(t testing.TB, users []User, opts Options) *Store {
	t.Helper()
	s, err := NewStore(users, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	localIP = netip.MustParseAddr("127.0.0.1")
	otherIP = netip.MustParseAddr("192.0.2.10")
)
