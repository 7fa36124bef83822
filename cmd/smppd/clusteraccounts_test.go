package main

import (
	"errors"
	"testing"

	"github.com/smppd/smppd/accounts"
)

// The glue between accounts and the accounts bucket on a one-server
// JetStream: a seeded user's balance and quota come back from the pools;
// a changed quota total keeps the parts used, a quota switched off and on
// starts afresh; a top-up and a set reach the pool; a delete removes the
// user.
func TestSharedUsersOnJetStream(t *testing.T) {
	node := joinOne(t)
	h, err := accounts.HashPasswordIter("pw", 1000)
	if err != nil {
		t.Fatal(err)
	}
	ann := accounts.User{SystemID: "ann", PasswordHash: h, Enabled: true, BindTypes: accounts.AllBindTypes}
	ann.Limits.Balance = accounts.Micros(5 * accounts.MicrosPerUnit)
	ann.Limits.Quota, ann.Limits.QuotaUsed = 10, 2
	users, err := accounts.NewStore([]accounts.User{ann}, nil, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := node.OpenAccounts()
	if err != nil {
		t.Fatal(err)
	}
	defer acc.Close()
	u, g, p, err := seedOf(users)
	if err != nil {
		t.Fatal(err)
	}
	if seeded, err := acc.Seed(u, g, p); err != nil || !seeded {
		t.Fatalf("seed: %v %v", seeded, err)
	}
	d := &sharedUsers{acc: acc, users: users}
	users.Share(d)
	if err := acc.Start(users, d.apply); err != nil {
		t.Fatal(err)
	}
	look := func(what string, bal string, quota, used int64) {
		t.Helper()
		got, ok := users.Lookup("ann")
		if !ok || got.Limits.Balance.String() != bal || got.Limits.Quota != quota || got.Limits.QuotaUsed != used {
			t.Fatalf("%s: ann %v balance %s quota %d used %d, want %s %d %d", what, ok, got.Limits.Balance,
				got.Limits.Quota, got.Limits.QuotaUsed, bal, quota, used)
		}
	}
	look("seeded", "5", 10, 2)
	if held, ok := users.Held("ann"); !ok || held != 0 {
		t.Fatalf("slice after the seed %d %v, want an empty limited one", held, ok)
	}

	withQuota := func(q int64) {
		t.Helper()
		cur, _ := users.Lookup("ann")
		cur.Limits.Quota = q
		if err := users.Upsert(cur); err != nil {
			t.Fatal(err)
		}
	}
	withQuota(20)
	look("quota raised", "5", 20, 2)
	withQuota(0)
	if got, _ := users.Lookup("ann"); got.Limits.QuotaCounter() == nil {
		t.Fatal("no quota counter")
	} else if _, limited := got.Limits.QuotaCounter().Left(); limited {
		t.Fatal("quota 0 is still limited")
	}
	withQuota(5)
	look("quota on again", "5", 5, 0)

	if err := users.TopUp("ann", accounts.Micros(accounts.MicrosPerUnit/2)); err != nil {
		t.Fatal(err)
	}
	look("topped up", "5.5", 5, 0)
	if err := users.SetBalance("ann", accounts.Unlimited); err != nil {
		t.Fatal(err)
	}
	look("set unlimited", "unlimited", 5, 0)
	if err := users.TopUp("ann", accounts.Micros(1)); !errors.Is(err, accounts.ErrUnlimitedBalance) {
		t.Fatalf("top-up of an unlimited balance: %v", err)
	}
	if err := users.Remove("ann"); err != nil {
		t.Fatal(err)
	}
	if _, ok := users.Lookup("ann"); ok {
		t.Fatal("ann still there after Remove")
	}
}
