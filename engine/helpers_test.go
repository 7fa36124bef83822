package engine

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

const wait = 5 * time.Second // upper bound for a reply; never a speed assertion

// fakeAuth accepts users from a map; "policy" refuses with ESME_RBINDFAIL.
type fakeAuth struct {
	users    map[string]string
	gate     chan struct{} // when set, each Authenticate waits for a token
	calls    atomic.Int32
	released atomic.Int32
	granted  atomic.Int32
}

type fakePrincipal struct {
	id   string
	a    *fakeAuth
	once sync.Once
}

func (p *fakePrincipal) SystemID() string { return p.id }
func (p *fakePrincipal) Release()         { p.once.Do(func() { p.a.released.Add(1) }) }

func (a *fakeAuth) Authenticate(req BindRequest) (Principal, codec.Status) {
	a.calls.Add(1)
	if a.gate != nil {
		<-a.gate
	}
	if req.SystemID == "policy" {
		return nil, codec.StatusBindFail
	}
	pw, ok := a.users[req.SystemID]
	if !ok || pw != req.Password {
		return nil, codec.StatusInvPaswd
	}
	a.granted.Add(1)
	return &fakePrincipal{id: req.SystemID, a: a}, codec.StatusOK
}

// gatedAuth makes every Authenticate wait for a token on gate.
func gatedAuth(o *Options) {
	a := newAuth()
	a.gate = make(chan struct{})
	o.Authenticator = a
}

func newAuth() *fakeAuth {
	return &fakeAuth{users: map[string]string{"user": "secret", "user2": "secret2"}}
}

// logBuf is a goroutine-safe zerolog sink for asserting log lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits until the log contains every one of subs in a single line.
func (l *logBuf) waitLog(t *testing.T, subs ...string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(l.String(), "\n") {
			all := true
			for _, s := range subs {
				if !strings.Contains(line, s) {
					all = false
					break
				}
			}
			if all {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no log line with %q in:\n%s", subs, l.String())
}

type testServer struct {
	*Server
	auth *fakeAuth
	logs *logBuf
	addr string
}

// start runs a server on 127.0.0.1:0 with short timers; mod adjusts options.
func start(t testing.TB, mod func(*Options)) *testServer {
	t.Helper()
	ts := &testServer{auth: newAuth(), logs: &logBuf{}}
	opts := Options{
		Addr:                "127.0.0.1:0",
		EventLoops:          2,
		SessionInitTimeout:  10 * time.Second,
		EnquireLinkInterval: 10 * time.Second,
		InactivityTimeout:   20 * time.Second,
		ResponseTimeout:     10 * time.Second,
		PDUReadTimeout:      10 * time.Second,
		Tick:                10 * time.Millisecond,
		Authenticator:       ts.auth,
		Logger:              zerolog.New(ts.logs).Level(zerolog.InfoLevel),
	}
	if mod != nil {
		mod(&opts)
	}
	if a, ok := opts.Authenticator.(*fakeAuth); ok {
		ts.auth = a
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
	ts.addr = srv.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return ts
}

func (ts *testServer) dial(t testing.TB) *smpptest.Client {
	t.Helper()
	c, err := smpptest.Dial(ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// bound dials and binds as kind with user/secret.
func (ts *testServer) bound(t testing.TB, kind codec.CommandID) *smpptest.Client {
	t.Helper()
	c := ts.dial(t)
	h, _, err := c.Bind(kind, "user", "secret", codec.InterfaceVersion34)
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != codec.StatusOK {
		t.Fatalf("bind: %v", h.Status)
	}
	return c
}

func mustExpect(t testing.TB, c *smpptest.Client, id codec.CommandID, st codec.Status) (codec.Header, []byte) {
	t.Helper()
	h, f, err := c.Expect(wait, id, st)
	if err != nil {
		t.Fatal(err)
	}
	return h, f
}

func mustSend(t testing.TB, c *smpptest.Client, id codec.CommandID, seq uint32, body []byte) {
	t.Helper()
	if err := c.Send(id, 0, seq, body); err != nil {
		t.Fatal(err)
	}
}

func mustClosed(t testing.TB, c *smpptest.Client) {
	t.Helper()
	if err := c.ExpectClosed(wait); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
