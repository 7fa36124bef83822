package flow

import (
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
)

// entryLog is an accounts.Ledger that keeps what it is given.
type entryLog struct {
	mu sync.Mutex
	es []accounts.LedgerEntry
}

func (l *entryLog) Append(e accounts.LedgerEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.es = append(l.es, e)
	return nil
}

func (l *entryLog) Balances(func(string, int64, bool)) error { return nil }

// since returns the entries after the first n.
func (l *entryLog) since(n int) []accounts.LedgerEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.es[n:])
}

func (l *entryLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.es)
}

// ledgerUser is a user of an accounts.Store that writes to l, with 10
// units and a quota of 100 parts.
func ledgerUser(t *testing.T, l *entryLog) principal {
	t.Helper()
	h, err := accounts.HashPasswordIter("pw", 1_000)
	if err != nil {
		t.Fatal(err)
	}
	u := accounts.User{SystemID: "alice", PasswordHash: h, Enabled: true, BindTypes: accounts.AllBindTypes,
		Limits: accounts.UserLimits{Balance: accounts.Micros(10_000_000), Quota: 100}}
	st, err := accounts.NewStore([]accounts.User{u}, nil, accounts.Options{Ledger: l})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Authenticate("alice", "pw", accounts.BindTransmitter, netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Release)
	return principal{Bind: b, store: st}
}

func refunds(id msg.ID, micros, parts int64) []accounts.LedgerEntry {
	return []accounts.LedgerEntry{
		{Account: "alice", Kind: accounts.LedgerRefund, Amount: micros, ID: id},
		{Account: accounts.QuotaAccount("alice"), Kind: accounts.LedgerRefund, Amount: parts, ID: id},
	}
}

// A refund reaches the balance ledger with the message's id when the
// charge did (in the message's record); a charge whose record was never
// stored is given back without an entry.
func TestRefundsWrittenToTheLedger(t *testing.T) {
	l := &entryLog{}
	th := newHub(t, hubSpec{routes: paidRoute(1)})
	p := ledgerUser(t, l)

	// The upstream refuses the message.
	m, id := submitted(t, th, p, 0, "x")
	n := l.len()
	m.Claim()
	th.Failed(m, uint32(codec.StatusInvDstAdr), msg.StateRejected)
	m.Release()
	if got := l.since(n); !slices.Equal(got, refunds(id, 1_000_000, 1)) {
		t.Fatalf("upstream refusal wrote %+v", got)
	}

	// Every queue is full: refused before anything is stored or charged.
	th.conns[0].cap = th.conns[0].queued() + 1
	st, _ := th.submit(p, sm("1", "491", "x"))
	wantStatus(t, st, codec.StatusOK)
	n = l.len()
	st, _ = th.submit(p, sm("1", "491", "x"))
	wantStatus(t, st, codec.StatusMsgQFul)
	if got := l.since(n); len(got) != 0 {
		t.Fatalf("queue-full refusal wrote %+v", got)
	}
	th.conns[0].cap = 0

	// The queue fills between the check and the push: the record (with
	// its charge) was stored, so the refusal refunds through the ledger.
	th.conns[0].racing = true
	n = l.len()
	st, _ = th.submit(p, sm("1", "491", "x"))
	wantStatus(t, st, codec.StatusMsgQFul)
	got := l.since(n)
	if len(got) != 2 || got[0].Kind != accounts.LedgerRefund || got[0].Amount != 1_000_000 || got[0].ID == 0 {
		t.Fatalf("refusal after the record wrote %+v", got)
	}
	th.conns[0].racing = false

	// The record cannot be written: nothing reached the ledger, nothing
	// is written back.
	th.store.setFail(errDisk)
	n = l.len()
	st, _ = th.submit(p, sm("1", "491", "x"))
	wantStatus(t, st, codec.StatusMsgQFul)
	th.store.setFail(nil)
	if got := l.since(n); len(got) != 0 {
		t.Fatalf("a refusal before the record wrote %+v", got)
	}
	if balanceOf(p) != 9_000_000 { // the one message still queued
		t.Fatalf("balance %d", balanceOf(p))
	}
}

// A replace_sm's extra parts are charged in the ledger under the message's
// id (no record carries them), and refunded there with the message.
func TestReplaceChargeWrittenToTheLedger(t *testing.T) {
	l := &entryLog{}
	th := newHub(t, hubSpec{routes: paidRoute(1)})
	p := ledgerUser(t, l)
	m, id := submitted(t, th, p, 0, "short")
	n := l.len()
	wantStatus(t, replace(th, p, payloadReplace(id, 400)), codec.StatusOK)
	want := []accounts.LedgerEntry{
		{Account: "alice", Kind: accounts.LedgerCharge, Amount: 2_000_000, ID: id},
		{Account: accounts.QuotaAccount("alice"), Kind: accounts.LedgerCharge, Amount: 2, ID: id},
	}
	if got := l.since(n); !slices.Equal(got, want) {
		t.Fatalf("replacement wrote %+v", got)
	}
	n = l.len()
	m.Claim()
	th.Failed(m, uint32(codec.StatusInvDstAdr), msg.StateRejected)
	m.Release()
	if got := l.since(n); !slices.Equal(got, append(refunds(id, 1_000_000, 1), refunds(id, 2_000_000, 2)...)) {
		t.Fatalf("refusal after a replacement wrote %+v", got)
	}
	if balanceOf(p) != 10_000_000 {
		t.Fatalf("balance %d", balanceOf(p))
	}
}
