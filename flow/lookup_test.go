package flow

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/internal/units"
	"github.com/smppd/smppd/policy"
	"github.com/smppd/smppd/routing"
)

// lookupHub is a hub whose policy runs the portability lookup against url,
// with a networks route "ported" to connector b before the range route to
// connector a.
func lookupHub(t *testing.T, url string, timeout time.Duration, fallback string) (*testHub, *policy.Lookup) {
	t.Helper()
	lk, err := policy.NewLookup(policy.LookupConfig{URL: url, Timeout: units.Duration(timeout), Fallback: fallback})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lk.Close)
	pol, err := policy.Compile(&policy.Config{}, "", policy.Options{Stages: []policy.Stage{lk}})
	if err != nil {
		t.Fatal(err)
	}
	holder := new(policy.Holder)
	holder.Swap(pol)
	th := newHub(t, hubSpec{conns: 2, routes: routing.Config{MT: []routing.MTRouteConfig{
		{Name: "ported", Kind: "static", Connectors: []string{"b"}, FilterConfig: routing.FilterConfig{Networks: []string{"netB"}}},
		{Name: "range", Kind: "static", Connectors: []string{"a"}, FilterConfig: routing.FilterConfig{DestPrefixes: []string{"49"}}},
	}}, mod: func(o *Options) { o.Policy = &policy.Hook{Holder: holder} }})
	return th, lk
}

// offer submits as an SMPP session that may wait does, offering the same
// PDU again every 2 ms while the hub answers Wait (the engine's tick), for
// at most 5 s. It returns the answer and how long it waited.
func offer(t *testing.T, th *testHub, p principal, dst string) (codec.Status, time.Duration) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: p.SystemID(), SubmitSM: sm("1", dst, "x"),
			Principal: p.Bind, MayWait: true}
		res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
		th.HandleSubmit(req, res)
		if !res.Wait {
			return res.Status, time.Since(start)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%s: still waiting after 5s", dst)
	return 0, 0
}

func hlr(delay time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if strings.HasSuffix(r.URL.Path, "/4917000001") {
			w.Write([]byte(`{"network":"netB"}`))
			return
		}
		http.NotFound(w, r)
	}
}

// A number ported to netB waits (the hub answers Wait: the engine holds the
// PDU, the event loop goes on) while the service is asked, then goes by the
// networks route; a number the service does not know goes by its range.
func TestLookupRoutesPortedNumber(t *testing.T) {
	srv := httptest.NewServer(hlr(0))
	defer srv.Close()
	th, _ := lookupHub(t, srv.URL+"/{number}", time.Second, "")
	u := newUser(t, "u", userSpec{limits: accounts.UserLimits{}})
	if st, _ := offer(t, th, u, "4917000001"); st != codec.StatusOK {
		t.Fatalf("ported: %v", st)
	}
	if st, _ := offer(t, th, u, "4917000002"); st != codec.StatusOK {
		t.Fatalf("not ported: %v", st)
	}
	if th.conns[1].queued() != 1 || th.conns[0].queued() != 1 {
		t.Fatalf("queued a=%d b=%d, want 1 each (ported to b, the other by its range to a)", th.conns[0].queued(), th.conns[1].queued())
	}
	// Cached now: no wait at all.
	req := &engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: "u", SubmitSM: sm("1", "4917000001", "x"), Principal: u.Bind, MayWait: true}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	th.HandleSubmit(req, res)
	if res.Wait || res.Status != codec.StatusOK || th.conns[1].queued() != 2 {
		t.Fatalf("cached: wait %v status %v", res.Wait, res.Status)
	}
}

// A slow service and a dead one: the message waits at most the timeout,
// then takes the fallback network.
func TestLookupSlowAndDeadServiceFallBack(t *testing.T) {
	slow := httptest.NewServer(hlr(3 * time.Second))
	defer slow.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/{number}"
	ln.Close()
	for name, url := range map[string]string{"slow": slow.URL + "/{number}", "dead": dead} {
		th, lk := lookupHub(t, url, 100*time.Millisecond, "netB")
		u := newUser(t, "u", userSpec{limits: accounts.UserLimits{}})
		st, waited := offer(t, th, u, "4917000009")
		if st != codec.StatusOK || th.conns[1].queued() != 1 {
			t.Fatalf("%s: %v, queued on b %d: want the fallback netB's route", name, st, th.conns[1].queued())
		}
		if waited > 2*time.Second {
			t.Fatalf("%s: waited %v for a 100ms timeout", name, waited)
		}
		if s := lk.Stats(); s.Failures != 1 {
			t.Fatalf("%s: %+v, want one failed request", name, s)
		}
	}
}

// A session that may not wait (its queue_full_wait spent, or submit_multi)
// takes the fallback at once.
func TestLookupWithoutWaitTakesFallback(t *testing.T) {
	slow := httptest.NewServer(hlr(3 * time.Second))
	defer slow.Close()
	th, _ := lookupHub(t, slow.URL+"/{number}", time.Second, "netB")
	u := newUser(t, "u", userSpec{limits: accounts.UserLimits{}})
	if st, _ := th.submit(u, sm("1", "4917000001", "x")); st != codec.StatusOK || th.conns[1].queued() != 1 {
		t.Fatalf("no wait: %v, queued on b %d", st, th.conns[1].queued())
	}
}
