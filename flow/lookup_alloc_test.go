//go:build !race

package flow

import (
	"testing"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/policy"
)

// The submit path with the lookup answering from its cache, the limits and
// the route counts allocates nothing, and the message takes the networks
// route.
func TestLookupLimitsRouteCountsAllocateNothing(t *testing.T) {
	th, _, req := extrasHub(t, true)
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	submit := func() {
		res.MessageID = res.MessageID[:0]
		th.HandleSubmit(req, res)
		if res.Status != codec.StatusOK || res.Wait {
			t.Fatalf("status %v wait %v", res.Status, res.Wait)
		}
	}
	submit()
	if a := testing.AllocsPerRun(1000, submit); a != 0 {
		t.Fatalf("%v allocations per submit", a)
	}
	rc := th.opts.Routes.(*policy.RouteCounts)
	for _, s := range rc.Stats() {
		if s.Route == "ported" && s.Accepted == 1001+1 {
			return
		}
	}
	t.Fatalf("the submits did not take the networks route: %+v", rc.Stats())
}
