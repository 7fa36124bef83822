package flow

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/policy"
	"github.com/smppd/smppd/routing"
)

// extrasHub is allocHub with, when on, the policy's portability lookup
// (the destination cached, a networks route first), a sender and a route
// [[limit]] that never refuse, and the per-route counts.
func extrasHub(tb testing.TB, on bool) (*testHub, principal, *engine.SubmitRequest) {
	tb.Helper()
	var mod func(*Options)
	dst := "4915112345678"
	if on {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"network":"netB"}`))
		}))
		tb.Cleanup(srv.Close)
		lk, err := policy.NewLookup(policy.LookupConfig{URL: srv.URL + "/{number}"})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(lk.Close)
		for {
			if _, r := lk.Resolve([]byte(dst), true, time.Now().UnixNano()); r == policy.Resolved {
				break
			}
			time.Sleep(time.Millisecond)
		}
		pol, err := policy.Compile(&policy.Config{}, "", policy.Options{Stages: []policy.Stage{lk}})
		if err != nil {
			tb.Fatal(err)
		}
		holder := new(policy.Holder)
		holder.Swap(pol)
		lim := policy.NewLimits()
		if err := lim.Apply([]policy.LimitConfig{{Sender: "12345", Rate: 1e6, Burst: 1e6}, {Route: "ported", Rate: 1e6, Burst: 1e6}}); err != nil {
			tb.Fatal(err)
		}
		mod = func(o *Options) {
			o.Policy, o.Routes = &policy.Hook{Holder: holder, Limits: lim}, policy.NewRouteCounts()
		}
	}
	th := newHub(tb, hubSpec{conns: 2, mod: mod, routes: routing.Config{
		MT: []routing.MTRouteConfig{
			{Name: "ported", Kind: "roundrobin", Connectors: []string{"a", "b"}, Rate: 0.01, FilterConfig: routing.FilterConfig{Networks: []string{"netB"}}},
			{Name: "rr", Kind: "roundrobin", Connectors: []string{"a", "b"}, Rate: 0.01},
		},
		MO: []routing.MORouteConfig{{Name: "mo", User: "alice"}},
	}})
	for _, c := range th.conns {
		c.auto = true
	}
	th.Deliveries().Attach(&ackOut{dl: th.dl})
	p := newUser(tb, "alice", userSpec{receipts: true, limits: accounts.UserLimits{
		Balance: accounts.Micros(1 << 56), Quota: 1 << 56, Throughput: 1e9}})
	req := &engine.SubmitRequest{Command: codec.SubmitSMID, SubmitSM: sm("12345", dst, "hello world"), Principal: p.Bind, MayWait: true}
	return th, p, req
}

// BenchmarkSubmitExtras is the submit path without and with the
// portability lookup (cache hit), a sender and a route limit and the
// per-route counts; run both in one process for a ratio.
func BenchmarkSubmitExtras(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "lookup-limits-routes"
		}
		b.Run(name, func(b *testing.B) {
			th, _, req := extrasHub(b, on)
			res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
			b.ReportAllocs()
			for b.Loop() {
				res.MessageID = res.MessageID[:0]
				th.HandleSubmit(req, res)
			}
			if res.Status != codec.StatusOK {
				b.Fatal(res.Status)
			}
		})
	}
}
