package flow

import (
	"testing"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/policy"
	"github.com/smppd/smppd/routing"
)

// Per-route counts and limits: accepted and refused messages are counted on
// the route that matched (refusals before a match on "none"); a route's
// and a sender's [[limit]] refuse ESME_RTHROTTLED and give their tokens
// back when a later check refuses.
func TestRouteCountsAndLimits(t *testing.T) {
	rc := policy.NewRouteCounts()
	lim := policy.NewLimits()
	if err := lim.Apply([]policy.LimitConfig{{Route: "de", Rate: 1, Burst: 2}, {Sender: "BANK", Rate: 1, Burst: 1}}); err != nil {
		t.Fatal(err)
	}
	th := newHub(t, hubSpec{routes: routing.Config{MT: []routing.MTRouteConfig{
		{Name: "de", Kind: "static", Connectors: []string{"a"}, FilterConfig: routing.FilterConfig{DestPrefixes: []string{"49"}}},
		{Name: "fr", Kind: "static", Connectors: []string{"a"}, Rate: 1, FilterConfig: routing.FilterConfig{DestPrefixes: []string{"33"}}},
	}}, mod: func(o *Options) { o.Routes, o.Policy = rc, &policy.Hook{Limits: lim} }})
	u := newUser(t, "u", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(1_500_000)}})

	// fr charges 1 a part and the balance holds one: the second is refused
	// by the balance after the sender's bucket gave its token.
	for i, want := range []codec.Status{codec.StatusOK, codec.StatusSubmitFail} {
		if st, _ := th.submit(u, sm("SHOP", "331", "x")); st != want {
			t.Fatalf("fr %d: %v, want %v", i, st, want)
		}
	}
	if st, _ := th.submit(u, sm("BANK", "332", "x")); st != codec.StatusSubmitFail {
		t.Fatalf("BANK on fr: %v, want the balance's refusal", st)
	}
	if st, _ := th.submit(u, sm("BANK", "491", "x")); st != codec.StatusOK {
		t.Fatalf("BANK's token was not given back after the balance refused: %v", st)
	}
	if st, _ := th.submit(u, sm("BANK", "492", "x")); st != codec.StatusThrottled {
		t.Fatalf("BANK again: %v, want ESME_RTHROTTLED (sender)", st)
	}
	if st, _ := th.submit(u, sm("SHOP", "493", "x")); st != codec.StatusOK {
		t.Fatalf("de 2: %v", st)
	}
	if st, _ := th.submit(u, sm("SHOP", "494", "x")); st != codec.StatusThrottled {
		t.Fatalf("de 3: %v, want ESME_RTHROTTLED (route)", st)
	}
	if st, _ := th.submit(u, sm("SHOP", "1", "x")); st != codec.StatusInvDstAdr {
		t.Fatalf("no route: %v", st)
	}
	got := map[string]policy.RouteStat{}
	for _, s := range rc.Stats() {
		got[s.Route] = s
	}
	if s := got["de"]; s.Accepted != 2 || s.Refused != 2 {
		t.Errorf("de: %+v, want 2 accepted, 2 refused", s)
	}
	if s := got["fr"]; s.Accepted != 1 || s.Refused != 2 {
		t.Errorf("fr: %+v, want 1 accepted, 2 refused", s)
	}
	if s := got[policy.RouteNone]; s.Refused != 1 {
		t.Errorf("none: %+v, want 1 refused", s)
	}
	st := th.Stats()
	if st.Refused[RefuseSenderTPS] != 1 || st.Refused[RefuseRouteTPS] != 1 {
		t.Errorf("refusals sender %d route %d, want 1 and 1", st.Refused[RefuseSenderTPS], st.Refused[RefuseRouteTPS])
	}
}
