package flow

import (
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

// payloadReplace is a replace_sm of id carrying n GSM characters as
// message_payload (153 per part).
func payloadReplace(id msg.ID, n int) *codec.ReplaceSM {
	r := &codec.ReplaceSM{MessageID: []byte(id.String())}
	r.TLVs.Add(codec.TagMessagePayload, []byte(strings.Repeat("a", n)))
	return r
}

func textReplace(id msg.ID, text string) *codec.ReplaceSM {
	return &codec.ReplaceSM{MessageID: []byte(id.String()), ShortMessage: []byte(text)}
}

func paidRoute(rate float64) routing.Config {
	return routing.Config{MT: []routing.MTRouteConfig{{Name: "paid", Kind: "default", Connectors: []string{"a"}, Rate: rate}}}
}

func balanceOf(p principal) int64 { return p.User().Limits.Credit().Balance().Micros() }

func userParts(th *testHub, p principal) uint64 {
	for _, s := range th.UserStats() {
		if s.SystemID == p.SystemID() {
			return s.Parts
		}
	}
	return 0
}

// A replacement is counted like a submit: parts beyond those the message is
// billed for are charged; fewer parts give nothing back (the message stays
// billed for the most it had); a refusal upstream refunds every part.
func TestReplaceChargesExtraParts(t *testing.T) {
	th := newHub(t, hubSpec{routes: paidRoute(1)})
	p := newUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000)}})
	m, id := submitted(t, th, p, 0, "short")
	if balanceOf(p) != 9_000_000 || m.Parts != 1 || th.store.record(t, id).Parts != 1 {
		t.Fatalf("submit: balance %d, parts %d", balanceOf(p), m.Parts)
	}

	steps := []struct {
		name    string
		r       *codec.ReplaceSM
		balance int64
		parts   int
	}{
		{"3 parts: 2 more charged", payloadReplace(id, 400), 7_000_000, 3},
		{"1 part: nothing back", textReplace(id, "x"), 7_000_000, 3},
		{"3 parts again: already paid", payloadReplace(id, 300), 7_000_000, 3},
		{"5 parts: 2 more", payloadReplace(id, 700), 5_000_000, 5},
	}
	for _, st := range steps {
		wantStatus(t, replace(th, p, st.r), codec.StatusOK)
		rec := th.store.record(t, id)
		if balanceOf(p) != st.balance || m.Parts != st.parts || int(rec.Parts) != st.parts || m.Phase() != msg.PhaseQueued {
			t.Fatalf("%s: balance %d parts %d record %d phase %v; want %d, %d", st.name, balanceOf(p), m.Parts, rec.Parts,
				m.Phase(), st.balance, st.parts)
		}
	}
	if n := userParts(th, p); n != 5 {
		t.Fatalf("user parts counter %d, want 5", n)
	}
	// The upstream refuses it: the submit's charge and every extra one
	// come back, as one refund.
	m.Claim()
	th.Failed(m, uint32(codec.StatusInvDstAdr), msg.StateRejected)
	m.Release()
	if balanceOf(p) != 10_000_000 || th.Stats().Refunds != 1 {
		t.Fatalf("after the refusal: balance %d, refunds %d", balanceOf(p), th.Stats().Refunds)
	}
}

// Extra parts pass the same admission as a submit: a replacement the user
// cannot afford, or over its rate or max_validity, is refused with the
// submit's status and leaves the message as it was.
func TestReplaceRefusedByLimits(t *testing.T) {
	cases := []struct {
		name   string
		limits accounts.UserLimits
		jasmin bool
		r      func(msg.ID) *codec.ReplaceSM
		want   codec.Status
		why    Refusal
	}{
		{"balance", accounts.UserLimits{Balance: accounts.Micros(2_000_000)},
			false, func(id msg.ID) *codec.ReplaceSM { return payloadReplace(id, 400) }, codec.StatusSubmitFail, RefuseBalance},
		{"balance, Jasmin's status", accounts.UserLimits{Balance: accounts.Micros(2_000_000)},
			true, func(id msg.ID) *codec.ReplaceSM { return payloadReplace(id, 400) }, codec.StatusSysErr, RefuseBalance},
		{"quota", accounts.UserLimits{Quota: 2},
			false, func(id msg.ID) *codec.ReplaceSM { return payloadReplace(id, 400) }, codec.StatusSubmitFail, RefuseBalance},
		{"throughput", accounts.UserLimits{Throughput: 1, Burst: 1},
			false, func(id msg.ID) *codec.ReplaceSM { return payloadReplace(id, 200) }, codec.StatusThrottled, RefuseThrottled},
		{"max_validity, no new parts", accounts.UserLimits{MaxValidity: time.Hour},
			false, func(id msg.ID) *codec.ReplaceSM {
				r := textReplace(id, "y")
				r.ValidityPeriod = []byte("000000020000000R")
				return r
			}, codec.StatusInvExpiry, RefuseLimits},
		{"max_validity, new parts", accounts.UserLimits{MaxValidity: time.Hour},
			false, func(id msg.ID) *codec.ReplaceSM {
				r := payloadReplace(id, 400)
				r.ValidityPeriod = []byte("000000020000000R")
				return r
			}, codec.StatusInvExpiry, RefuseLimits},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			th := newHub(t, hubSpec{routes: paidRoute(1), mod: func(o *Options) {
				o.Admission = &accounts.Admission{JasminCompat: c.jasmin}
			}})
			p := newUser(t, "alice", userSpec{limits: c.limits})
			m, id := submitted(t, th, p, 0, "old")
			before, expires := balanceOf(p), m.Expires
			wantStatus(t, replace(th, p, c.r(id)), c.want)
			rec := th.store.record(t, id)
			if string(m.ShortMessage) != "old" || len(m.TLVs) != 0 || m.Parts != 1 || m.Expires != expires ||
				m.Phase() != msg.PhaseQueued || rec.Parts != 1 || string(rec.TextPrefix()) != "old" || balanceOf(p) != before {
				t.Fatalf("message changed: %+v, record %+v, balance %d -> %d", m, rec, before, balanceOf(p))
			}
			if n := th.Stats().Refused[c.why]; n != 1 {
				t.Fatalf("refusals for %v: %d", c.why, n)
			}
		})
	}
}

// The replacement is routed as a new submit: a content filter that would
// refuse it refuses the replace (ESME_RINVDSTADR with no other route); a
// replacement routed to another connector cannot follow (the message does
// not move): ESME_RREPLACEFAIL; extra parts pay the matched route's rate.
func TestReplaceRoutedLikeASubmit(t *testing.T) {
	codes := routing.MTRouteConfig{Name: "codes", Kind: "static", Connectors: []string{"a"}, Rate: 2,
		FilterConfig: routing.FilterConfig{ContentRegex: "code"}}

	t.Run("only a content route", func(t *testing.T) {
		th := newHub(t, hubSpec{routes: routing.Config{MT: []routing.MTRouteConfig{codes}}})
		p := newUser(t, "alice", userSpec{})
		m, id := submitted(t, th, p, 0, "your code 1234")
		wantStatus(t, replace(th, p, textReplace(id, "click here")), codec.StatusInvDstAdr)
		if string(m.ShortMessage) != "your code 1234" || th.Stats().Refused[RefuseNoRoute] != 1 {
			t.Fatalf("after the refusal: %q, no-route refusals %d", m.ShortMessage, th.Stats().Refused[RefuseNoRoute])
		}
		wantStatus(t, replace(th, p, textReplace(id, "new code 5678")), codec.StatusOK)
		if string(m.ShortMessage) != "new code 5678" {
			t.Fatalf("replaced %q", m.ShortMessage)
		}
	})

	t.Run("another route, another connector", func(t *testing.T) {
		th := newHub(t, hubSpec{conns: 2, routes: routing.Config{MT: []routing.MTRouteConfig{codes,
			{Name: "rest", Kind: "default", Connectors: []string{"b"}}}}})
		p := newUser(t, "alice", userSpec{})
		m, id := submitted(t, th, p, 0, "your code 1234")
		wantStatus(t, replace(th, p, textReplace(id, "click here")), codec.StatusReplaceFail)
		if string(m.ShortMessage) != "your code 1234" || m.Phase() != msg.PhaseQueued {
			t.Fatalf("after the refusal: %q %v", m.ShortMessage, m.Phase())
		}
	})

	t.Run("the matched route's rate", func(t *testing.T) {
		th := newHub(t, hubSpec{routes: routing.Config{MT: []routing.MTRouteConfig{codes,
			{Name: "rest", Kind: "default", Connectors: []string{"a"}, Rate: 1}}}})
		p := newUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000)}})
		_, id := submitted(t, th, p, 0, "hello") // "rest": 1
		wantStatus(t, replace(th, p, payloadReplace(id, 250)), codec.StatusOK)
		if balanceOf(p) != 8_000_000 {
			t.Fatalf("balance %d: one more part at rest's rate is 8000000", balanceOf(p))
		}
		r := payloadReplace(id, 400)
		copy(r.TLVs.Raw()[4:], "code") // now the "codes" route: one more part at 2
		wantStatus(t, replace(th, p, r), codec.StatusOK)
		if balanceOf(p) != 6_000_000 {
			t.Fatalf("balance %d: one more part at codes' rate is 6000000", balanceOf(p))
		}
	})
}

// A replacement's text is checked as a submit's: UDHI without a
// well-formed UDH is ESME_RINVESMCLASS.
func TestReplaceBadUDH(t *testing.T) {
	th := newHub(t, hubSpec{})
	p := newUser(t, "alice", userSpec{})
	r := sm("4915100000", "4916200000", "\x05\x00\x03\x2a\x02\x01part one")
	r.ESMClass = codec.ESMClassUDHI
	st, ids := th.submit(p, r)
	wantStatus(t, st, codec.StatusOK)
	m := th.conns[0].pop(t)
	wantStatus(t, replace(th, p, textReplace(mustID(t, ids), "\x09no udh")), codec.StatusInvEsmClass)
	wantStatus(t, replace(th, p, textReplace(mustID(t, ids), "\x05\x00\x03\x2a\x02\x01new one")), codec.StatusOK)
	if string(m.Text()) != "new one" || m.Parts != 1 {
		t.Fatalf("replaced part %q, %d parts", m.Text(), m.Parts)
	}
}
