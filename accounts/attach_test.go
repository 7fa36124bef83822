package accounts

import (
	"net/netip"
	"testing"

	"github.com/smppd/smppd/msg"
)

// TestAttachLedgerAfterBind: a Store built without a ledger binds a user
// (an upgrade's new process before its store is open); AttachLedger then
// makes the ledger's balance and quota the live ones, for that bind too,
// and writes the charges that follow. A second ledger is refused.
func TestAttachLedgerAfterBind(t *testing.T) {
	l := &bookLedger{}
	prev := ledgerStore(t, l, ledgerUser(t, "a", Micros(10_000_000), 100, 0)) // the previous process
	if err := prev.TopUp("a", Micros(5_000_000)); err != nil {
		t.Fatal(err)
	}
	var a Admission
	ch, r := a.Admit(limitsOf(prev, "a"), 3, 1, 0, 0, t0)
	if r != Admitted {
		t.Fatal(r)
	}
	l.put("a", 1, &ch)

	// The users file still says 10 units and quota_used 0.
	s := mustStore(t, []User{ledgerUser(t, "a", Micros(10_000_000), 100, 0)}, Options{})
	b, err := s.Authenticate("a", "pw", BindTransceiver, netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if err := s.AttachLedger(l); err != nil {
		t.Fatal(err)
	}
	if bal, used := live(t, s, "a"); bal != Micros(12_000_000) || used != 3 {
		t.Fatalf("after AttachLedger: balance %v quota_used %d, want 12 units and 3", bal, used)
	}
	if r := s.Restored(); r.FromLedger != 1 || len(r.Differ) != 1 {
		t.Fatalf("restored %+v, want the ledger's value, differing from the file's", r)
	}
	n := l.len()
	ch, r = a.Admit(&b.User().Limits, 1, 1, 0, 0, t0)
	if r != Admitted {
		t.Fatal(r)
	}
	if err := ch.Log(msg.ID(2)); err != nil {
		t.Fatal(err)
	}
	if got := l.since(n); len(got) != 2 || got[0].Kind != LedgerCharge || got[1].Kind != LedgerCharge {
		t.Fatalf("the bind's charge wrote %+v, want a balance and a quota charge", got)
	}
	if bal, used := live(t, s, "a"); bal != Micros(11_000_000) || used != 4 {
		t.Fatalf("after a charge: balance %v quota_used %d", bal, used)
	}
	if err := s.AttachLedger(l); err == nil {
		t.Fatal("a second ledger was attached")
	}
}
