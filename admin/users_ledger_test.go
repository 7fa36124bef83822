package admin

import (
	"errors"
	"sync"
	"testing"

	"github.com/smppd/smppd/accounts"
)

// switchLedger is an accounts.Ledger whose disk can be made to fail.
type switchLedger struct {
	mu   sync.Mutex
	n    int
	fail bool
}

func (l *switchLedger) Append(accounts.LedgerEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return errors.New("disk full")
	}
	l.n++
	return nil
}

func (l *switchLedger) Balances(func(string, int64, bool)) error { return nil }

func (l *switchLedger) set(fail bool) {
	l.mu.Lock()
	l.fail = fail
	l.mu.Unlock()
}

// A balance change the ledger cannot write is refused with 503 and changes
// nothing; max_held_per_user is read and written like the other limits.
func TestUsersLedgerAndHeldShare(t *testing.T) {
	h, err := accounts.HashPasswordIter("pw", 1_000)
	if err != nil {
		t.Fatal(err)
	}
	led := &switchLedger{}
	st, err := accounts.NewStore([]accounts.User{{SystemID: "alice", PasswordHash: h, Enabled: true,
		BindTypes: accounts.AllBindTypes, Limits: accounts.UserLimits{Balance: accounts.Micros(100_000_000)}}},
		nil, accounts.Options{Ledger: led, HeldShare: 50})
	if err != nil {
		t.Fatal(err)
	}
	url := start(t, Options{Users: st})

	led.set(true)
	for name, c := range map[string][2]string{
		"set":   {"/v1/users/alice/balance", `{"set":"1"}`},
		"topup": {"/v1/users/alice/balance", `{"topup":"1"}`},
		"add":   {"/v1/users", `{"system_id":"bob","password":"pw2"}`},
	} {
		code, body := do(t, "POST", url+c[0], "", c[1])
		if e, _ := body["error"].(map[string]any); code != 503 || e["code"] != "ledger_unavailable" {
			t.Errorf("%s with a failing ledger: %d %v", name, code, body)
		}
	}
	if u, _ := st.Lookup("alice"); u.Limits.Balance != accounts.Micros(100_000_000) {
		t.Fatalf("a refused change moved the balance to %v", u.Limits.Balance)
	}
	if _, ok := st.Lookup("bob"); ok {
		t.Fatal("a refused add added the user")
	}
	led.set(false)
	if code, body := do(t, "POST", url+"/v1/users/alice/balance", "", `{"topup":"2.5"}`); code != 200 || body["balance"] != "102.5" {
		t.Fatalf("topup: %d %v", code, body)
	}

	if st.HeldLimit("alice") != 50 {
		t.Fatalf("share before: %d", st.HeldLimit("alice"))
	}
	code, body := do(t, "PATCH", url+"/v1/users/alice", "", `{"max_held_per_user":7}`)
	if code != 200 || body["max_held_per_user"] != float64(7) || st.HeldLimit("alice") != 7 {
		t.Fatalf("patch max_held_per_user: %d %v, share %d", code, body, st.HeldLimit("alice"))
	}
	if code, body := do(t, "PATCH", url+"/v1/users/alice", "", `{"max_held_per_user":-1}`); code != 422 {
		t.Fatalf("negative max_held_per_user: %d %v", code, body)
	}
}
