package policy

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/units"
)

// lookupService is a local HTTP lookup service: numbers starting 4917 are
// on "netA", 4915 on "netB", anything else is not known (404).
func lookupService(t *testing.T, delay time.Duration, asked *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		n := strings.TrimPrefix(r.URL.Path, "/hlr/")
		switch {
		case strings.HasPrefix(n, "4917"):
			w.Write([]byte(`{"network":"netA"}`))
		case strings.HasPrefix(n, "4915"):
			w.Write([]byte(`{"network":"netB"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newTestLookup(t *testing.T, c LookupConfig) *Lookup {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	l, err := NewLookup(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// resolveWaiting asks as a waiting submit is offered again: every 2 ms
// until the answer is no longer Pending, for at most 5 s.
func resolveWaiting(t *testing.T, l *Lookup, dst string) (string, Resolution, time.Duration) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		net, r := l.Resolve([]byte(dst), true, time.Now().UnixNano())
		if r != Pending {
			return net, r, time.Since(start)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%s: still pending after 5s", dst)
	return "", Pending, 0
}

func TestLookupService(t *testing.T) {
	var asked atomic.Int64
	srv := lookupService(t, 0, &asked)
	l := newTestLookup(t, LookupConfig{URL: srv.URL + "/hlr/{number}", Fallback: "netF"})
	for _, c := range []struct{ dst, net string }{
		{"+4917012345", "netA"}, {"4915112345", "netB"}, {"331234567", ""},
	} {
		if net, r := l.Resolve([]byte(c.dst), true, time.Now().UnixNano()); r != Pending || net != "" {
			t.Fatalf("%s: first ask = %q %v, want Pending", c.dst, net, r)
		}
		net, r, _ := resolveWaiting(t, l, c.dst)
		if r != Resolved || net != c.net {
			t.Fatalf("%s: %q %v, want %q Resolved", c.dst, net, r, c.net)
		}
	}
	before := asked.Load()
	if net, r := l.Resolve([]byte("4917012345"), true, time.Now().UnixNano()); net != "netA" || r != Resolved {
		t.Fatalf("cached: %q %v", net, r)
	}
	if asked.Load() != before {
		t.Fatal("a cached number was asked again")
	}
	st := l.Stats()
	if st.Answers != 2 || st.NotFound != 1 || st.Failures != 0 || st.CacheHits == 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLookupCacheExpires(t *testing.T) {
	var asked atomic.Int64
	srv := lookupService(t, 0, &asked)
	l := newTestLookup(t, LookupConfig{URL: srv.URL + "/hlr/{number}", CacheTTL: units.Duration(time.Second)})
	resolveWaiting(t, l, "4917000")
	now := time.Now().UnixNano()
	if _, r := l.Resolve([]byte("4917000"), true, now); r != Resolved {
		t.Fatalf("within the TTL: %v", r)
	}
	if _, r := l.Resolve([]byte("4917000"), true, now+int64(2*time.Second)); r != Pending {
		t.Fatalf("past the TTL: %v, want a new request", r)
	}
}

// A slow service: the message waits no longer than the timeout, then takes
// the fallback, which is kept for error_ttl.
func TestLookupSlowServiceFallsBack(t *testing.T) {
	var asked atomic.Int64
	srv := lookupService(t, 2*time.Second, &asked)
	l := newTestLookup(t, LookupConfig{URL: srv.URL + "/hlr/{number}", Timeout: units.Duration(50 * time.Millisecond), Fallback: "netF"})
	net, r, waited := resolveWaiting(t, l, "4917123")
	if r != Resolved || net != "netF" {
		t.Fatalf("slow service: %q %v, want the fallback netF", net, r)
	}
	if waited > time.Second {
		t.Fatalf("waited %v for a 50ms timeout", waited)
	}
	st := l.Stats()
	if st.Timeouts != 1 || st.Failures != 1 {
		t.Fatalf("stats %+v, want one timeout", st)
	}
	// Without waiting the fallback comes at once while the request runs.
	if net, r := l.Resolve([]byte("4915999"), false, time.Now().UnixNano()); r != Fallback || net != "netF" {
		t.Fatalf("mayWait false: %q %v", net, r)
	}
}

// A dead service (nothing listens): requests fail fast, messages take the
// fallback, and after failuresToPause failures no message waits at all.
func TestLookupDeadServiceFallsBackAndPauses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	l := newTestLookup(t, LookupConfig{URL: "http://" + addr + "/hlr/{number}", Timeout: units.Duration(time.Second)})
	var logs syncBuffer
	l.SetLog(zerolog.New(&logs))
	for i := range failuresToPause {
		dst := "49170" + string(rune('0'+i))
		net, r, _ := resolveWaiting(t, l, dst)
		if r != Resolved || net != "" {
			t.Fatalf("%s: %q %v, want the (empty) fallback", dst, net, r)
		}
	}
	net, r := l.Resolve([]byte("4915000"), true, time.Now().UnixNano())
	if r != Fallback || net != "" {
		t.Fatalf("after %d failures: %q %v, want Fallback without a request", failuresToPause, net, r)
	}
	if st := l.Stats(); st.Failures != failuresToPause || st.Requests != failuresToPause {
		t.Fatalf("stats %+v", st)
	}
	out := logs.String()
	if strings.Count(out, `"event":"lookup_failed"`) != 1 || strings.Count(out, `"event":"lookup_paused"`) != 1 || strings.Contains(out, "49170") {
		t.Fatalf("want one failure line (throttled), one pause line, no number: %s", out)
	}
}

// MaxPending numbers waiting: the next number is refused (Full), and a
// caller that cannot wait takes the fallback instead.
func TestLookupFull(t *testing.T) {
	var asked atomic.Int64
	srv := lookupService(t, 2*time.Second, &asked)
	l := newTestLookup(t, LookupConfig{URL: srv.URL + "/hlr/{number}", MaxPending: 2, Workers: 1,
		Timeout: units.Duration(3 * time.Second), Fallback: "netF"})
	now := time.Now().UnixNano()
	for _, d := range []string{"4917001", "4917002"} {
		if _, r := l.Resolve([]byte(d), true, now); r != Pending {
			t.Fatalf("%s: %v", d, r)
		}
	}
	if _, r := l.Resolve([]byte("4917001"), true, now); r != Pending {
		t.Fatalf("same number again: %v, want Pending (one request per number)", r)
	}
	if _, r := l.Resolve([]byte("4917003"), true, now); r != Full {
		t.Fatalf("third number: %v, want Full", r)
	}
	if net, r := l.Resolve([]byte("4917003"), false, now); r != Fallback || net != "netF" {
		t.Fatalf("third number, no wait: %q %v", net, r)
	}
	if st := l.Stats(); st.Full != 1 || st.Pending != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// syncBuffer is a bytes.Buffer the workers may write while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPortedFile(t *testing.T) {
	p := writeFile(t, "ported", "# ported numbers\n4917* netA\n491701* netB\n+4917012345 netC\n\n0044 netD\n")
	l := newTestLookup(t, LookupConfig{PortedFile: p})
	for _, c := range []struct{ dst, net string }{
		{"4917099", "netA"}, {"49170199", "netB"}, {"4917012345", "netC"}, {"+4917012345", "netC"},
		{"49170123456", "netB"}, {"0044", "netD"}, {"00441", ""}, {"4915", ""}, {"49x", ""}, {"", ""},
	} {
		if net, r := l.Resolve([]byte(c.dst), true, 0); net != c.net || r != Resolved {
			t.Errorf("%q: %q %v, want %q", c.dst, net, r, c.net)
		}
	}
	// A bad file keeps the old table.
	bad := writeFile(t, "bad", "4917* netA\n4917* netB\n")
	if err := l.ReloadPorted(bad); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("duplicate: %v", err)
	}
	if net, _ := l.Resolve([]byte("4917099"), true, 0); net != "netA" {
		t.Fatalf("after a bad reload: %q", net)
	}
	good := writeFile(t, "good", "4917* netZ\n")
	if err := l.ReloadPorted(good); err != nil {
		t.Fatal(err)
	}
	if net, _ := l.Resolve([]byte("4917099"), true, 0); net != "netZ" {
		t.Fatalf("after a reload: %q", net)
	}
}

func TestPortedFileErrors(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"4917 netA extra\n", "line 1"},
		{"49a7 netA\n", "not 1..18 digits"},
		{"1234567890123456789 netA\n", "not 1..18 digits"},
		{"4917 net/A\n", "network"},
		{"* netA\n", "not 1..18 digits"},
		{"4917 a\n4917 b\n", "listed twice"},
	} {
		if _, err := parsePorted(strings.NewReader(c.body)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.body, err, c.want)
		}
	}
}

func TestLookupConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  LookupConfig
		want string
	}{
		{LookupConfig{URL: "http://127.0.0.1/x"}, "lookup.url"},
		{LookupConfig{URL: "ftp://h/{number}"}, "lookup.url"},
		{LookupConfig{URL: "http://h/{number}", Timeout: units.Duration(time.Minute)}, "lookup.timeout"},
		{LookupConfig{CacheSize: 10}, "lookup.cache_size"},
		{LookupConfig{CacheTTL: units.Duration(time.Millisecond)}, "lookup.cache_ttl"},
		{LookupConfig{ErrorTTL: units.Duration(2 * time.Hour)}, "lookup.error_ttl"},
		{LookupConfig{MaxPending: -1}, "lookup.max_pending"},
		{LookupConfig{Workers: 5000}, "lookup.workers"},
		{LookupConfig{Fallback: "a b"}, "lookup.fallback"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	c := LookupConfig{URL: "https://hlr.example/q?n={number}"}
	if err := c.Validate(); err != nil || c.Timeout.D() != DefaultLookupTimeout || c.Workers != DefaultLookupWorkers {
		t.Fatalf("defaults: %v %+v", err, c)
	}
}

func TestNetCacheBounded(t *testing.T) {
	c := newNetCache(1024)
	n := c.capacity()
	for k := uint64(1); k <= uint64(4*n); k++ {
		c.put(k, 1, 100)
	}
	held := 0
	for k := uint64(1); k <= uint64(4*n); k++ {
		if _, ok := c.get(k, 0); ok {
			held++
		}
	}
	if held > n || held < n/2 {
		t.Fatalf("held %d of %d slots", held, n)
	}
}

func TestLookupCacheHitAllocatesNothing(t *testing.T) {
	var asked atomic.Int64
	srv := lookupService(t, 0, &asked)
	l := newTestLookup(t, LookupConfig{URL: srv.URL + "/hlr/{number}"})
	resolveWaiting(t, l, "4917012345")
	dst := []byte("4917012345")
	now := time.Now().UnixNano()
	if a := testing.AllocsPerRun(1000, func() {
		if net, _ := l.Resolve(dst, true, now); net != "netA" {
			t.Fatal(net)
		}
	}); a != 0 {
		t.Fatalf("%v allocations per cache hit", a)
	}
}

// Configure at a reload: the same service settings keep the cache, a new
// ported file is read, a bad one keeps the old configuration.
func TestLookupConfigure(t *testing.T) {
	var asked atomic.Int64
	srv := lookupService(t, 0, &asked)
	c := LookupConfig{URL: srv.URL + "/hlr/{number}", PortedFile: writeFile(t, "p1", "3361* netP\n")}
	l := newTestLookup(t, c)
	resolveWaiting(t, l, "4917000")
	c.PortedFile = writeFile(t, "p2", "3362* netQ\n")
	if err := l.Configure(c); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixNano()
	if net, r := l.Resolve([]byte("4917000"), true, now); r != Resolved || net != "netA" {
		t.Fatalf("cache after a reload with the same service: %q %v", net, r)
	}
	if net, _ := l.Resolve([]byte("33620"), true, now); net != "netQ" {
		t.Fatalf("new ported file: %q", net)
	}
	bad := c
	bad.PortedFile = writeFile(t, "p3", "x netQ\n")
	if err := l.Configure(bad); err == nil || !strings.Contains(err.Error(), "lookup.ported_file") {
		t.Fatalf("bad file: %v", err)
	}
	if net, _ := l.Resolve([]byte("33620"), true, now); net != "netQ" {
		t.Fatalf("after a bad reload: %q", net)
	}
	c.Timeout = units.Duration(time.Second)
	if err := l.Configure(c); err != nil {
		t.Fatal(err)
	}
	if _, r := l.Resolve([]byte("4917000"), true, now); r != Pending {
		t.Fatalf("a changed service starts with an empty cache: %v", r)
	}
	if err := l.Configure(LookupConfig{}); err != nil {
		t.Fatal(err)
	}
	if net, r := l.Resolve([]byte("4917000"), true, now); r != Resolved || net != "" {
		t.Fatalf("lookup off: %q %v", net, r)
	}
}

func TestLookupStage(t *testing.T) {
	var asked atomic.Int64
	// The service answers after a second, so the first number is still in
	// flight when the second asks, however slow the machine.
	srv := lookupService(t, time.Second, &asked)
	l := newTestLookup(t, LookupConfig{URL: srv.URL + "/hlr/{number}", Fallback: "netF", MaxPending: 1,
		Timeout: units.Duration(4 * time.Second)})
	m := &Msg{Dir: DirMT, Dst: []byte("4917111"), MayWait: true, Now: time.Now()}
	if v := l.Check(m); v.Action != Wait || v.Stage != LookupStageName {
		t.Fatalf("first: %+v", v)
	}
	m2 := &Msg{Dir: DirMT, Dst: []byte("4915222"), MayWait: true, Now: time.Now()}
	if v := l.Check(m2); v.Action != Refuse || v.Status != codec.StatusMsgQFul {
		t.Fatalf("past max_pending: %+v, want Refuse ESME_RMSGQFUL", v)
	}
	m2.MayWait = false
	if v := l.Check(m2); v.Action != Pass || m2.Network != "netF" {
		t.Fatalf("cannot wait: %+v network %q, want Pass with the fallback", v, m2.Network)
	}
	resolveWaiting(t, l, "4917111")
	m.Now = time.Now()
	if v := l.Check(m); v.Action != Pass || m.Network != "netA" {
		t.Fatalf("answered: %+v network %q", v, m.Network)
	}
	mo := &Msg{Dir: DirMO, Dst: []byte("4917999"), MayWait: true, Now: time.Now()}
	if v := l.Check(mo); v.Action != Pass || mo.Network != "" {
		t.Fatalf("MO: %+v", v)
	}
	if a := testing.AllocsPerRun(1000, func() { l.Check(m) }); a != 0 {
		t.Fatalf("%v allocations per cached Check", a)
	}
}

func BenchmarkLookupCacheHit(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"network":"netA"}`))
	}))
	defer srv.Close()
	c := LookupConfig{URL: srv.URL + "/{number}"}
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	l, err := NewLookup(c)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	m := &Msg{Dir: DirMT, Dst: []byte("491701234567"), MayWait: true}
	for m.Now = time.Now(); l.Check(m).Action == Wait; m.Now = time.Now() {
		time.Sleep(time.Millisecond)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		l.Check(m)
	}
}

func BenchmarkLookupPortedFile(b *testing.B) {
	var sb strings.Builder
	for i := range 100_000 {
		sb.WriteString("4917" + strconv.Itoa(1_000_000+i) + " net" + strconv.Itoa(i%7) + "\n")
	}
	sb.WriteString("4915* netB\n")
	t, err := parsePorted(strings.NewReader(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	l := &Lookup{}
	l.ported.Store(t)
	m := &Msg{Dir: DirMT, Dst: []byte("49151234567"), MayWait: true, Now: time.Now()}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		l.Check(m)
	}
}
