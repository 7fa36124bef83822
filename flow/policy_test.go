package flow

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/policy"
	"github.com/smppd/smppd/routing"
)

// hookPolicy normalises alice's numbers (German national forms), sends
// them to connector a with a '+', blocks a range, rejects a country with
// its own status and drops MO from a spam sender.
// The hub's seams are what package policy implements (wired in cmd/smppd).
var (
	_ Policy       = (*policy.Hook)(nil)
	_ RouteCounter = (*policy.RouteCounts)(nil)
)

const hookPolicy = `
[[normalise]]
users = ["alice"]
country_code = "49"

[[normalise]]
connectors = ["a"]
country_code = "49"
outbound = "plus"

[[list]]
name = "premium"
kind = "block"
field = "dest"
entries = ["49999*"]

[[list]]
name = "spam"
kind = "block"
field = "source"
entries = ["SpamCo"]
mo = true

[[rule]]
name = "no-fr"
dest_prefixes = ["33"]
reject = "ESME_RX_P_APPN"

[[rule]]
name = "urgent"
dest_prefixes = ["49171"]
set_priority = 3
`

func loadPolicy(t testing.TB, src string) *policy.Policy {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func policyHub(t *testing.T) (*testHub, principal, *policy.Holder) {
	t.Helper()
	pol := new(policy.Holder)
	pol.Swap(loadPolicy(t, hookPolicy))
	th := newHub(t, hubSpec{mod: func(o *Options) { o.Policy = &policy.Hook{Holder: pol} }})
	p := newUser(t, "alice", userSpec{receipts: true, limits: accounts.UserLimits{Balance: accounts.Micros(1 << 40)}})
	return th, p, pol
}

// The connector gets the policy's addresses in its outbound form; the
// record, the receipt and query_sm keep what the ESME submitted.
func TestPolicyRewritesWhatTheConnectorSends(t *testing.T) {
	th, p, _ := policyHub(t)
	r := sm("01701234567", "01719876543", "hi")
	r.RegisteredDelivery = 1
	st, sid := th.submit(p, r)
	wantStatus(t, st, codec.StatusOK)
	m := th.conns[0].pop(t)
	if string(m.Source) != "+491701234567" || m.SourceTON != 1 || m.SourceNPI != 1 ||
		string(m.Dest) != "+491719876543" || m.DestTON != 1 || m.DestNPI != 1 || m.Priority != 3 {
		t.Fatalf("upstream gets %s (%d/%d) -> %s (%d/%d) priority %d", m.Source, m.SourceTON, m.SourceNPI,
			m.Dest, m.DestTON, m.DestNPI, m.Priority)
	}
	id := mustID(t, sid)
	rec := th.store.record(t, id)
	if string(rec.SourceAddr()) != "01701234567" || string(rec.DestAddr()) != "01719876543" || rec.SourceTON != 0 || rec.DestTON != 0 {
		t.Fatalf("record %s (%d) -> %s (%d)", rec.SourceAddr(), rec.SourceTON, rec.DestAddr(), rec.DestTON)
	}
	// Beside them, what went upstream: the CDR's and the lookups'.
	_, _, upSrc := rec.UpstreamSource()
	if ton, npi, upDst := rec.UpstreamDest(); !rec.Rewritten || string(upSrc) != "+491701234567" ||
		string(upDst) != "+491719876543" || ton != 1 || npi != 1 {
		t.Fatalf("record's upstream addresses %s -> %s (%d/%d)", upSrc, upDst, ton, npi)
	}
	if !m.Claim() {
		t.Fatal("claim")
	}
	th.Accepted(m, []byte("up-1"))
	m.Release()
	th.Receipt(&msg.Receipt{ID: id, State: msg.StateDelivered, Done: th.clock.Now().UnixNano()})
	got := th.out.take()
	if len(got) != 1 {
		t.Fatalf("deliveries %+v", got)
	}
	if d := decodeDeliver(t, got[0]); string(d.SourceAddr) != "01719876543" || string(d.DestinationAddr) != "01701234567" {
		t.Fatalf("receipt from %s to %s, want the submitted addresses swapped", d.SourceAddr, d.DestinationAddr)
	}
}

// A receipt for a message the upstream refused carries the submitted
// addresses too, not the rewritten ones the message went with.
func TestPolicyFailedReceiptKeepsSubmittedAddresses(t *testing.T) {
	th, p, _ := policyHub(t)
	r := sm("01701234567", "01719876543", "hi")
	r.RegisteredDelivery = 1
	st, _ := th.submit(p, r)
	wantStatus(t, st, codec.StatusOK)
	m := th.conns[0].pop(t)
	if string(m.Dest) != "+491719876543" {
		t.Fatalf("upstream gets %s", m.Dest)
	}
	th.Failed(m, uint32(codec.StatusSubmitFail), msg.StateRejected)
	got := th.out.take()
	if len(got) != 1 {
		t.Fatalf("deliveries %+v", got)
	}
	if d := decodeDeliver(t, got[0]); string(d.SourceAddr) != "01719876543" || string(d.DestinationAddr) != "01701234567" {
		t.Fatalf("failure receipt from %s to %s, want the submitted addresses swapped", d.SourceAddr, d.DestinationAddr)
	}
}

func TestPolicyRefusals(t *testing.T) {
	th, p, _ := policyHub(t)
	for _, c := range []struct {
		dst string
		st  codec.Status
	}{
		{"+49999123456", codec.StatusInvDstAdr}, // block list, after normalisation
		{"0049999123456", codec.StatusInvDstAdr},
		{"0033612345678", codec.StatusXPAppn}, // reject rule
		{"0171ABC", codec.StatusInvDstAdr},    // normalisation
		{"017", codec.StatusInvDstAdr},        // too short
	} {
		st, _ := th.submit(p, sm("01701234567", c.dst, "x"))
		if st != c.st {
			t.Errorf("%s: %v, want %v", c.dst, st, c.st)
		}
	}
	// The HTTP API's path: the same policy, the same answers.
	st, r := th.SubmitDirect(&DirectRequest{User: p.Bind.User(), SM: sm("01701234567", "+49999123456", "x"), ID: th.NextID()})
	if st != codec.StatusInvDstAdr || r != RefusePolicy {
		t.Fatalf("SubmitDirect: %v %v", st, r)
	}
	if n := th.Hub.Stats().RefusedBy(RefusePolicy); n != 6 {
		t.Fatalf("refused by the policy: %d, want 6", n)
	}
	if th.conns[0].queued() != 0 {
		t.Fatal("a refused message was queued")
	}
}

// Each destination of a submit_multi starts from the submitted source: a
// rewrite applies once, and a refused destination is listed with the
// policy's status.
func TestPolicySubmitMulti(t *testing.T) {
	th, p, _ := policyHub(t)
	mm := &codec.SubmitMulti{SourceAddr: []byte("01701234567"), ShortMessage: []byte("x")}
	mm.Dests.AddSME(0, 0, []byte("01719876543"))
	mm.Dests.AddSME(0, 0, []byte("+49999123456"))
	mm.Dests.AddSME(0, 0, []byte("01721234567"))
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65), Unsuccess: new(codec.UnsuccessList)}
	th.HandleSubmit(&engine.SubmitRequest{Command: codec.SubmitMultiID, SubmitMulti: mm, Principal: p.Bind}, res)
	if res.Status != codec.StatusOK || res.Unsuccess.Len() != 1 {
		t.Fatalf("status %v, %d unsuccessful", res.Status, res.Unsuccess.Len())
	}
	if u := res.Unsuccess.At(0); string(u.Addr) != "+49999123456" || u.Status != codec.StatusInvDstAdr {
		t.Fatalf("unsuccess %+v", u)
	}
	for _, want := range []string{"+491719876543", "+491721234567"} {
		m := th.conns[0].pop(t)
		if string(m.Source) != "+491701234567" || string(m.Dest) != want {
			t.Fatalf("upstream gets %s -> %s, want +491701234567 -> %s", m.Source, m.Dest, want)
		}
	}
}

func TestPolicyMO(t *testing.T) {
	th, _, pol := policyHub(t)
	mo := &msg.Inbound{Connector: "a", Source: []byte("01701234567"), Dest: []byte("4444"), ShortMessage: []byte("hey")}
	if err := th.MO(mo); err != nil {
		t.Fatal(err)
	}
	got := th.out.take()
	if len(got) != 1 {
		t.Fatalf("deliveries %+v", got)
	}
	if d := decodeDeliver(t, got[0]); string(d.SourceAddr) != "491701234567" || d.SourceAddrTON != 1 || string(d.DestinationAddr) != "4444" {
		t.Fatalf("MO from %s (TON %d) to %s", d.SourceAddr, d.SourceAddrTON, d.DestinationAddr)
	}
	if string(mo.Source) != "01701234567" {
		t.Fatalf("the connector's view was changed: %s", mo.Source)
	}
	// A blocked sender's MO is dropped, answered as kept.
	if err := th.MO(&msg.Inbound{Connector: "a", Source: []byte("SpamCo"), Dest: []byte("4444")}); err != nil {
		t.Fatal(err)
	}
	if got := th.out.take(); len(got) != 0 || th.Hub.Stats().MOPolicyDropped != 1 {
		t.Fatalf("spam MO delivered (%d) or not counted (%d)", len(got), th.Hub.Stats().MOPolicyDropped)
	}
	// No policy: as before.
	pol.Swap(nil)
	if err := th.MO(&msg.Inbound{Connector: "a", Source: []byte("SpamCo"), Dest: []byte("4444")}); err != nil {
		t.Fatal(err)
	}
	if got := th.out.take(); len(got) != 1 {
		t.Fatalf("without a policy: %d deliveries", len(got))
	}
}

// A reload swaps the policy between two messages; a nil policy is none.
func TestPolicySwap(t *testing.T) {
	th, p, pol := policyHub(t)
	wantStatus(t, func() codec.Status { st, _ := th.submit(p, sm("1", "+49999123456", "x")); return st }(), codec.StatusInvDstAdr)
	pol.Swap(nil)
	wantStatus(t, func() codec.Status { st, _ := th.submit(p, sm("1", "+49999123456", "x")); return st }(), codec.StatusOK)
	if m := th.conns[0].pop(t); string(m.Dest) != "+49999123456" {
		t.Fatalf("without a policy the destination changed: %s", m.Dest)
	}
}

// A rule's set_tags reach routing: a route with a tags filter takes the
// tagged messages.
func TestPolicyTagsRoute(t *testing.T) {
	pol := new(policy.Holder)
	pol.Swap(loadPolicy(t, `
[[normalise]]
country_code = "49"

[[rule]]
name = "vip"
dest_prefixes = ["49172"]
set_tags = ["vip"]
`))
	th := newHub(t, hubSpec{conns: 2, mod: func(o *Options) { o.Policy = &policy.Hook{Holder: pol} }, routes: routing.Config{
		MT: []routing.MTRouteConfig{
			{Name: "vip", Kind: "static", Connectors: []string{"b"}, FilterConfig: routing.FilterConfig{Tags: []string{"vip"}}},
			{Name: "rest", Kind: "default", Connectors: []string{"a"}},
		}}})
	p := newUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(1 << 40)}})
	for _, c := range []struct {
		dst  string
		conn int
	}{{"01721234567", 1}, {"01711234567", 0}, {"+491729999999", 1}} {
		st, sid := th.submit(p, sm("1234", c.dst, "x"))
		wantStatus(t, st, codec.StatusOK)
		if th.conns[c.conn].queued() != 1 {
			t.Fatalf("%s: not on connector %d", c.dst, c.conn)
		}
		th.conns[c.conn].pop(t)
		if rec := th.store.record(t, mustID(t, sid)); (rec.MTRoute == "vip") != (c.conn == 1) {
			t.Fatalf("%s: route %q", c.dst, rec.MTRoute)
		}
	}
}
