//go:build !race

package flow

import (
	"testing"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
)

// With the speed setting in force (a 1,000,000-entry list, 100
// trie rules, 10 regexps, normalisation) a submit allocates nothing.
func TestHandleSubmitAllocsPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1,000,000-entry list")
	}
	th, p := policyAllocHub(t, speedPolicy(t, false))
	req := engine.SubmitRequest{Command: codec.SubmitSMID, SubmitSM: sm("12345", "015112345678", "hello world"), Principal: p.Bind}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	n := testing.AllocsPerRun(1000, func() {
		res.MessageID, res.Status = res.MessageID[:0], 0
		th.HandleSubmit(&req, res)
		if res.Status != codec.StatusOK {
			t.Fatal(res.Status)
		}
	})
	if n != 0 {
		t.Errorf("HandleSubmit with the policy allocates %.2f times", n)
	}
}
